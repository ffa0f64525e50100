#include "client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace causerie::bench {

namespace {
constexpr size_t kReadBuffer = 256 * 1024;
constexpr size_t kWriteChunk = 256 * 1024;
std::atomic<uint64_t> g_source_counter{0};
ssl_ctx_st* g_ctx = nullptr;

std::string xml_escape(std::string_view s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '&': r += "&amp;"; break;
      case '\'': r += "&apos;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

bool has_mechanism(const Stanza& features, std::string_view mech) {
  for (size_t i = 1; i < features.size(); ++i)
    if (features.node(i).name == "mechanism" && features.node(i).text == mech) return true;
  return false;
}
}  // namespace

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::optional<TlsMode> parse_tls_mode(std::string_view s) {
  if (s == "none" || s == "plain") return TlsMode::kNone;
  if (s == "starttls") return TlsMode::kStartTls;
  if (s == "direct") return TlsMode::kDirect;
  return std::nullopt;
}

std::optional<Mech> parse_mech(std::string_view s) {
  if (s == "PLAIN") return Mech::kPlain;
  if (s == "SCRAM-SHA-1") return Mech::kScramSha1;
  if (s == "SCRAM-SHA-256") return Mech::kScramSha256;
  return std::nullopt;
}

std::optional<Transport> parse_transport(std::string_view s) {
  if (s == "tcp") return Transport::kTcp;
  if (s == "websocket") return Transport::kWebSocket;
  if (s == "bosh") return Transport::kBosh;
  return std::nullopt;
}

const char* to_string(Transport t) {
  switch (t) {
    case Transport::kTcp: return "tcp";
    case Transport::kWebSocket: return "websocket";
    case Transport::kBosh: return "bosh";
  }
  return "?";
}

const char* to_string(TlsMode m) {
  switch (m) {
    case TlsMode::kNone: return "none";
    case TlsMode::kStartTls: return "starttls";
    case TlsMode::kDirect: return "direct";
  }
  return "?";
}

const char* to_string(Mech m) {
  switch (m) {
    case Mech::kPlain: return "PLAIN";
    case Mech::kScramSha1: return "SCRAM-SHA-1";
    case Mech::kScramSha256: return "SCRAM-SHA-256";
  }
  return "?";
}

void init_client_engine() {
  signal(SIGPIPE, SIG_IGN);
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    // Root may raise the hard limit too (up to fs.nr_open); others get their hard limit.
    rlimit want{1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  g_ctx = SSL_CTX_new(TLS_client_method());
  if (!g_ctx) throw std::runtime_error("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(g_ctx, TLS1_2_VERSION);
  // Loopback against our own throw-away certificates: no verification. Every login is a full
  // handshake (no session tickets, no cache), the cost a first connection pays.
  SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(g_ctx, SSL_OP_NO_TICKET);
  // Idle sessions: give the buffers back between records so 100 000 TLS clients fit in memory.
  SSL_CTX_set_mode(g_ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

ssl_ctx_st* client_tls_context() { return g_ctx; }

// ---------------------------------------------------------------------------------------------------
// Conn

Conn::Conn(Worker& w, const Endpoint& ep, LoginSpec spec, ConnHandler* handler, void* user_data)
    : user(user_data), worker_(w), ep_(ep), spec_(std::move(spec)), handler_(handler), reader_(*this) {}

Conn::~Conn() {
  if (ssl_) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
  for (auto& l : links_)
    if (l && l->fd >= 0) ::close(l->fd);
}

void Conn::start(const sockaddr_in& src, const sockaddr_in& dst) {
  started_ns_ = now_ns();
  if (bosh()) {
    // Two keep-alive HTTP connections from the same source address; the first carries the session
    // creation request, the second is there for the request that overlaps the waiting one.
    src_ = src;
    dst_ = dst;
    for (auto& l : links_) {
      l = std::make_unique<BoshLink>();
      l->conn = this;
    }
    for (auto& l : links_) {
      bosh_open_link(*l);
      if (state_ == State::kDead) return;
    }
    return;
  }
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // The port is picked at connect() time, per (source, destination) pair: many source addresses
  // then give many times the ~28 000 ephemeral ports of one address.
  setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&src), sizeof src) != 0)
    return fail(std::string("bind: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = static_cast<Pollable*>(this);
  if (epoll_ctl(worker_.ep_, EPOLL_CTL_ADD, fd_, &ev) != 0)
    return fail(std::string("epoll_ctl: ") + std::strerror(errno));
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS)
    return fail(std::string("connect: ") + std::strerror(errno));
}

void Conn::on_event(uint32_t events) {
  if (state_ == State::kDead) return;
  if (state_ == State::kConnecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
    on_connected();
    if (state_ == State::kDead) return;
  }
  if (state_ == State::kHandshake) {
    handshake();
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) read_all();
  if (state_ != State::kDead && (events & EPOLLOUT) && want_write_) {
    want_write_ = false;
    flush();
  }
}

void Conn::on_connected() {
  if (ep_.tls == TlsMode::kDirect) begin_tls();
  else after_transport_up();
}

void Conn::after_transport_up() {
  if (ep_.transport != Transport::kWebSocket || ws_) return send_header();  // tcp, bosh, websocket upgraded
  // RFC 6455 §4.1 opening handshake with the "xmpp" subprotocol (RFC 7395 §3.3).
  unsigned char key[16];
  RAND_bytes(key, sizeof key);
  RAND_bytes(reinterpret_cast<unsigned char*>(&ws_mask_seed_), sizeof ws_mask_seed_);
  ws_mask_seed_ |= 1;
  state_ = State::kUpgrade;
  write_raw("GET " + ep_.http_path + " HTTP/1.1\r\nHost: " + ep_.domain +
            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
            b64_encode(std::string_view(reinterpret_cast<char*>(key), sizeof key)) +
            "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n");
}

void Conn::begin_tls() {
  state_ = State::kHandshake;
  ssl_ = SSL_new(g_ctx);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, ep_.domain.c_str());
  SSL_set_connect_state(ssl_);
  handshake();
}

void Conn::handshake() {
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    reset_reader();
    after_transport_up();
    read_all();  // data may already be buffered inside OpenSSL
    return;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  fail(std::string("TLS handshake: ") + buf);
}

void Conn::send_header() {
  state_ = State::kFeatures;
  if (bosh()) {
    if (!bosh_sid_.empty()) {  // XEP-0206 §5: the restart after SASL, a request of its own
      bosh_restart_ = true;
      return;
    }
    // XEP-0124 §7.1 / XEP-0206 §3: session creation.
    bosh_rid_ = 1'000'000 + (static_cast<uint64_t>(now_ns()) % 1'000'000'000);
    bosh_request(*links_[0],
                 " content='text/xml; charset=utf-8' hold='1' to='" + ep_.domain +
                     "' wait='60' ver='1.6' xml:lang='en' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'",
                 "");
    return;
  }
  if (ws_)
    send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='" + ep_.domain + "' version='1.0'/>");
  else
    send("<?xml version='1.0'?><stream:stream to='" + ep_.domain +
         "' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
}

// RFC 7395 §3.3.3 and XEP-0206 §4: without a stream root every element carries its namespace; scenarios
// write stanzas for TCP streams (default namespace inherited), so jabber:client is declared when missing.
void Conn::stanza_with_ns(std::string_view bytes, std::string& out) const {
  size_t tag_end = bytes.find('>');
  if (!bytes.empty() && bytes[0] == '<' && tag_end != std::string_view::npos &&
      bytes.substr(0, tag_end).find("xmlns=") == std::string_view::npos) {
    size_t name_end = bytes.find_first_of(" />", 1);
    out.append(bytes.substr(0, name_end)).append(" xmlns='jabber:client'").append(bytes.substr(name_end));
  } else {
    out.append(bytes);
  }
}

void Conn::send(std::string_view bytes) {
  if (bosh()) {
    if (state_ == State::kDead) return;
    stanza_with_ns(bytes, bosh_pending_);
    if (!dirty_) {
      dirty_ = true;
      worker_.mark_dirty(this);
    }
    return;
  }
  if (!ws_) return write_raw(bytes);
  std::string with_ns;
  with_ns.reserve(bytes.size() + 24);
  stanza_with_ns(bytes, with_ns);
  bytes = with_ns;
  // RFC 6455 §5.2: one FIN text frame per element, masked (§5.3) with a fresh key (xorshift here: the
  // key only has to be unpredictable to the page's script, and there is none).
  char header[14];
  size_t h = 0, n = bytes.size();
  header[h++] = static_cast<char>(0x81);
  if (n < 126) {
    header[h++] = static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    header[h++] = static_cast<char>(0x80 | 126);
    header[h++] = static_cast<char>(n >> 8);
    header[h++] = static_cast<char>(n & 0xff);
  } else {
    header[h++] = static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) header[h++] = static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff);
  }
  ws_mask_seed_ ^= ws_mask_seed_ << 13;
  ws_mask_seed_ ^= ws_mask_seed_ >> 17;
  ws_mask_seed_ ^= ws_mask_seed_ << 5;
  char mask[4];
  std::memcpy(mask, &ws_mask_seed_, 4);
  std::memcpy(header + h, mask, 4);
  h += 4;
  size_t start = out_.size();
  write_raw(std::string_view(header, h));
  write_raw(bytes);
  if (state_ == State::kDead) return;
  char* p = out_.data() + start + h;
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask[i & 3]);
}

void Conn::write_raw(std::string_view bytes) {
  if (state_ == State::kDead) return;
  out_.append(bytes);
  if (!dirty_ && !want_write_) {
    dirty_ = true;
    worker_.mark_dirty(this);
  }
}

void Conn::flush() {
  dirty_ = false;
  if (bosh()) {
    if (state_ == State::kDead) return;
    bosh_pump();
    for (auto& l : links_)
      if (state_ != State::kDead && !l->out.empty() && !l->want_write) bosh_link_flush(*l);
    return;
  }
  if (state_ == State::kDead || out_.empty() || state_ == State::kConnecting) return;
  size_t done = 0;
  while (done < out_.size()) {
    size_t n = std::min(kWriteChunk, out_.size() - done);
    if (ssl_) {
      int r = SSL_write(ssl_, out_.data() + done, static_cast<int>(n));
      if (r <= 0) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
          want_write_ = true;
          break;
        }
        ERR_clear_error();
        return fail("TLS write failed");
      }
      done += static_cast<size_t>(r);
    } else {
      ssize_t r = ::send(fd_, out_.data() + done, n, MSG_NOSIGNAL);
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          want_write_ = true;
          break;
        }
        return fail(std::string("write: ") + std::strerror(errno));
      }
      done += static_cast<size_t>(r);
    }
  }
  out_.erase(0, done);
  if (out_.empty() && out_.capacity() > 64 * 1024) std::string().swap(out_);
  if (state_ == State::kClosing && out_.empty()) fail("closed by us");
}

void Conn::read_all() {
  std::vector<char>& buf = worker_.rbuf_;
  while (state_ != State::kDead && state_ != State::kHandshake) {
    ssize_t n;
    if (ssl_) {
      int r = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
      if (r <= 0) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) return;
        if (e == SSL_ERROR_WANT_WRITE) {
          want_write_ = true;
          return;
        }
        ERR_clear_error();
        return fail(e == SSL_ERROR_ZERO_RETURN ? "closed by server" : "TLS read failed");
      }
      n = r;
    } else {
      n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return fail(std::string("read: ") + std::strerror(errno));
      }
      if (n == 0) return fail("closed by server");
    }
    process(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
}

void Conn::reset_reader() {
  reader_.reset();
  // RFC 7395: no stream root; each frame holds one element. A synthetic root lets the same reader
  // deliver them as top-level elements.
  if (ep_.transport == Transport::kWebSocket) reader_.feed("<ws>");
}

void Conn::process(std::string_view data) {
  if (state_ == State::kUpgrade) return process_upgrade(data);
  if (ws_) return process_frames(data);
  feed_xml(data);
}

void Conn::process_upgrade(std::string_view data) {
  ws_in_.append(data);
  size_t end = ws_in_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (ws_in_.size() > 16384) fail("WebSocket upgrade: response too large");
    return;
  }
  if (ws_in_.compare(0, 12, "HTTP/1.1 101") != 0) return fail("WebSocket upgrade refused: " + ws_in_.substr(0, ws_in_.find('\r')));
  std::string rest = ws_in_.substr(end + 4);
  ws_in_.clear();
  ws_ = true;
  reset_reader();
  send_header();
  if (!rest.empty()) process_frames(rest);
}

void Conn::process_frames(std::string_view data) {
  ws_in_.append(data);
  size_t pos = 0;
  while (state_ != State::kDead) {
    if (ws_in_.size() - pos < 2) break;
    auto b0 = static_cast<unsigned char>(ws_in_[pos]), b1 = static_cast<unsigned char>(ws_in_[pos + 1]);
    size_t h = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
      if (ws_in_.size() - pos < 4) break;
      len = (static_cast<uint64_t>(static_cast<unsigned char>(ws_in_[pos + 2])) << 8) |
            static_cast<unsigned char>(ws_in_[pos + 3]);
      h = 4;
    } else if (len == 127) {
      if (ws_in_.size() - pos < 10) break;
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(ws_in_[pos + 2 + static_cast<size_t>(i)]);
      h = 10;
    }
    bool masked = b1 & 0x80;  // servers do not mask (§5.1), but be lenient
    size_t mh = masked ? 4 : 0;
    if (len > (64u << 20)) return fail("WebSocket frame too large");
    if (ws_in_.size() - pos < h + mh + len) break;
    std::string_view payload(ws_in_.data() + pos + h + mh, static_cast<size_t>(len));
    std::string unmasked;
    if (masked) {
      unmasked.assign(payload);
      for (size_t i = 0; i < unmasked.size(); ++i) unmasked[i] = static_cast<char>(unmasked[i] ^ ws_in_[pos + h + (i & 3)]);
      payload = unmasked;
    }
    pos += h + mh + static_cast<size_t>(len);
    unsigned op = b0 & 0x0f;
    bool fin = b0 & 0x80;
    if (op == 0x1 || op == 0x0) {
      if (fin && ws_message_.empty()) {
        feed_xml(payload);
      } else {
        ws_message_.append(payload);
        if (fin) {
          std::string msg;
          msg.swap(ws_message_);
          feed_xml(msg);
        }
      }
    } else if (op == 0x9) {  // ping → pong with the same data (§5.5.3), masked like every client frame
      std::string pong(payload);
      char hdr[6] = {static_cast<char>(0x8A), static_cast<char>(0x80 | pong.size()), 0, 0, 0, 0};
      if (pong.size() < 126) {
        write_raw(std::string_view(hdr, 6));
        write_raw(pong);
      }
    } else if (op == 0x8) {
      return fail(state_ == State::kClosing ? "closed by us" : "WebSocket closed by server");
    }
  }
  ws_in_.erase(0, pos);
}

void Conn::feed_xml(std::string_view data) {
  auto r = reader_.feed(data);
  if (r == XmlReader::Result::kError) return fail("XML error: " + reader_.error());
  if (r != XmlReader::Result::kStopped || state_ == State::kDead) return;
  // Stopped for a stream restart; the server sends nothing more until we speak again.
  reset_reader();
  if (start_tls_) {
    start_tls_ = false;
    flush();
    begin_tls();
  } else if (restart_) {
    restart_ = false;
    send_header();
  }
}

void Conn::on_stream_open(const XNode& header) {
  if (!bosh()) return;
  // The <body/> wrapper of a BOSH response (XEP-0124 §7.1, §17).
  if (!bosh_created_) {
    bosh_sid_ = std::string(header.attr("sid"));
    bosh_created_ = !bosh_sid_.empty();
    std::string_view req = header.attr("requests");
    if (!req.empty()) bosh_requests_ = std::clamp(static_cast<unsigned>(std::atoi(std::string(req).c_str())), 1u, 2u);
  }
  if (header.attr("type") == "terminate") {
    bosh_terminated_ = true;
    bosh_condition_ = std::string(header.attr("condition"));
  }
}

void Conn::on_stream_close() {
  if (bosh()) return;  // the end of one response's <body/>
  fail(state_ == State::kClosing ? "closed by us" : "stream closed by server"); }

// A WebSocket peer says <open/> (ignored: features follow) and <close/> (RFC 7395 §3.6).

bool Conn::on_stanza(const Stanza& s) {
  if (state_ == State::kDead) return false;
  if (s.name() == "error") {  // only stream errors are top-level <error/>
    fail("stream error: " + (s.size() > 1 ? s.node(1).name : std::string("?")));
    return false;
  }
  if (ws_ && s.name() == "close") {
    fail(state_ == State::kClosing ? "closed by us" : "stream closed by server");
    return false;
  }
  if (state_ == State::kReady || state_ == State::kClosing) {
    if (sm_on_) {  // XEP-0198 §4: answer requests with the count of stanzas handled
      std::string_view n = s.name();
      if (n == "r") {
        send("<a xmlns='urn:xmpp:sm:3' h='" + std::to_string(sm_h_ & 0xffffffffu) + "'/>");
        return true;
      }
      if (n == "a") return true;
      if (n == "message" || n == "presence" || n == "iq") ++sm_h_;
    }
    if (state_ == State::kReady) handler_->on_stanza(*this, s);
    return state_ != State::kDead;
  }
  return handle_negotiation(s);
}

bool Conn::handle_negotiation(const Stanza& s) {
  std::string_view name = s.name();
  if (state_ == State::kFeatures && name == "features") {
    if (!ssl_ && ep_.tls == TlsMode::kStartTls) {
      if (!s.find("starttls")) {
        fail("server offers no STARTTLS");
        return false;
      }
      state_ = State::kProceed;
      send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      return true;
    }
    if (!authed_) {
      const char* mech = to_string(spec_.mech);
      if (!has_mechanism(s, mech)) {
        fail(std::string("server does not offer ") + mech);
        return false;
      }
      std::string initial;
      if (spec_.mech == Mech::kPlain) {
        initial = std::string(1, '\0') + spec_.user + '\0' + spec_.password;
      } else {
        scram_ = std::make_unique<ScramClient>(spec_.mech == Mech::kScramSha1 ? Hash::kSha1 : Hash::kSha256,
                                               spec_.user, spec_.password);
        initial = scram_->client_first();
      }
      state_ = State::kSasl;
      send(std::string("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='") + mech + "'>" +
           b64_encode(initial) + "</auth>");
      return true;
    }
    if (!spec_.resume_id.empty()) {  // XEP-0198 §5: resume instead of binding
      state_ = State::kResume;
      send("<resume xmlns='urn:xmpp:sm:3' h='" + std::to_string(spec_.resume_h & 0xffffffffu) + "' previd='" +
           xml_escape(spec_.resume_id) + "'/>");
      return true;
    }
    state_ = State::kBind;
    send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>" +
         xml_escape(spec_.resource) + "</resource></bind></iq>");
    return true;
  }
  if (state_ == State::kProceed && name == "proceed") {
    start_tls_ = true;
    return false;
  }
  if (state_ == State::kSasl && name == "challenge" && scram_) {
    auto sf = b64_decode(s.top().text);
    auto final_msg = sf ? scram_->client_final(*sf) : std::nullopt;
    if (!final_msg) {
      fail("bad SCRAM challenge");
      return false;
    }
    send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" + b64_encode(*final_msg) + "</response>");
    return true;
  }
  if (state_ == State::kSasl && name == "success") {
    if (scram_) {
      auto v = b64_decode(s.top().text);
      if (!v || !scram_->verify_server_final(*v)) {
        fail("server signature mismatch");
        return false;
      }
      scram_.reset();
    }
    authed_ = true;
    restart_ = true;
    return false;
  }
  if (state_ == State::kSasl && name == "failure") {
    fail("SASL failure: " + (s.size() > 1 ? s.node(1).name : std::string("?")));
    return false;
  }
  if (name == "iq" && state_ == State::kBind && s.attr("id") == "bind1") {
    if (s.attr("type") != "result") {
      fail("bind failed");
      return false;
    }
    if (const XNode* j = s.find("jid")) jid_ = j->text;
    if (spec_.roster) {
      state_ = State::kRoster;
      send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
    } else {
      finish_login();
    }
    return state_ != State::kDead;
  }
  if (name == "iq" && state_ == State::kRoster && s.attr("id") == "roster1") {
    finish_login();
    return state_ != State::kDead;
  }
  if (state_ == State::kSmEnable && name == "enabled") {
    sm_id_ = std::string(s.attr("id"));
    if (sm_id_.empty() || (s.attr("resume") != "true" && s.attr("resume") != "1")) {
      fail("stream management enabled without resumption");
      return false;
    }
    sm_on_ = true;
    state_ = State::kReady;
    handler_->on_ready(*this);
    return state_ != State::kDead;
  }
  if ((state_ == State::kSmEnable || state_ == State::kResume) && name == "failed") {
    fail(state_ == State::kResume ? "resumption failed" : "stream management refused");
    return false;
  }
  if (state_ == State::kResume && name == "resumed") {
    sm_id_ = spec_.resume_id;
    sm_on_ = true;
    state_ = State::kReady;
    handler_->on_ready(*this);
    return state_ != State::kDead;
  }
  // Anything else during negotiation (e.g. an early presence) is ignored.
  return true;
}

void Conn::finish_login() {
  if (spec_.presence) send("<presence/>");
  if (spec_.sm_enable) {
    state_ = State::kSmEnable;
    send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    return;
  }
  state_ = State::kReady;
  handler_->on_ready(*this);
}

void Conn::close() {
  if (state_ == State::kDead || state_ == State::kClosing) return;
  bool handshaking = state_ == State::kConnecting || state_ == State::kHandshake || state_ == State::kUpgrade;
  if (handshaking || (bosh() && !bosh_created_)) return fail("closed by us");
  if (bosh()) {  // XEP-0124 §13: a type='terminate' request; its answer ends the session
    bosh_terminate_ = true;
    state_ = State::kClosing;
    flush();
    return;
  }
  send(ws_ ? "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>" : "</stream:stream>");
  state_ = State::kClosing;
  flush();
}

void Conn::drop() {
  if (state_ == State::kDead) return;
  if (fd_ >= 0) {
    linger l{1, 0};  // RST, no FIN: the server learns of it as of a lost network
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  fail("dropped by us");
}

void Conn::fail(std::string why) {
  if (state_ == State::kDead) return;
  bool was_ready = state_ == State::kReady || state_ == State::kClosing;
  state_ = State::kDead;
  if (fd_ >= 0) {
    epoll_ctl(worker_.ep_, EPOLL_CTL_DEL, fd_, nullptr);
    if (ssl_) SSL_set_quiet_shutdown(ssl_, 1);
    ::close(fd_);
    fd_ = -1;
  }
  bosh_close_links();
  worker_.retire(this);
  handler_->on_closed(*this, was_ready, why);
}

// ---------------------------------------------------------------------------------------------------
// BOSH (XEP-0124 v1.11, XEP-0206): the XMPP stream is a series of <body/> requests, answered in rid
// order. Two HTTP/1.1 keep-alive links, one request on each at a time (no pipelining): one request
// waits at the server (hold='1') to carry what arrives; when there is something to send and fewer than
// 'requests' are out, it leaves on the free link, which makes the server answer the waiting one. What
// the scenario sends in one loop iteration leaves in one <body/>.

void BoshLink::on_event(uint32_t events) { conn->bosh_link_event(*this, events); }

void Conn::bosh_open_link(BoshLink& l) {
  l.connected = l.busy = l.done = l.terminate = l.want_write = l.close_after = false;
  l.in.clear();
  l.out.clear();
  l.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (l.fd < 0) return fail(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(l.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(l.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (::bind(l.fd, reinterpret_cast<const sockaddr*>(&src_), sizeof src_) != 0)
    return fail(std::string("bind: ") + std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = static_cast<Pollable*>(&l);
  if (epoll_ctl(worker_.ep_, EPOLL_CTL_ADD, l.fd, &ev) != 0)
    return fail(std::string("epoll_ctl: ") + std::strerror(errno));
  if (::connect(l.fd, reinterpret_cast<const sockaddr*>(&dst_), sizeof dst_) != 0 && errno != EINPROGRESS)
    return fail(std::string("connect: ") + std::strerror(errno));
}

void Conn::bosh_close_links() {
  for (auto& l : links_) {
    if (!l || l->fd < 0) continue;
    epoll_ctl(worker_.ep_, EPOLL_CTL_DEL, l->fd, nullptr);
    ::close(l->fd);
    l->fd = -1;
  }
}

void Conn::bosh_link_event(BoshLink& l, uint32_t events) {
  if (state_ == State::kDead || l.fd < 0) return;
  if (!l.connected) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(l.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(std::string("connect: ") + std::strerror(err));
    l.connected = true;
    if (&l == links_[0].get() && state_ == State::kConnecting) {
      on_connected();
      if (state_ == State::kDead) return;
    }
    if (!l.out.empty()) bosh_link_flush(l);
    if (state_ == State::kDead) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) bosh_link_read(l);
  if (state_ != State::kDead && l.fd >= 0 && (events & EPOLLOUT) && l.want_write) {
    l.want_write = false;
    bosh_link_flush(l);
  }
}

void Conn::bosh_link_flush(BoshLink& l) {
  if (!l.connected || l.fd < 0) return;
  size_t done = 0;
  while (done < l.out.size()) {
    ssize_t r = ::send(l.fd, l.out.data() + done, l.out.size() - done, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        l.want_write = true;
        break;
      }
      return fail(std::string("BOSH write: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(r);
  }
  l.out.erase(0, done);
}

void Conn::bosh_link_read(BoshLink& l) {
  std::vector<char>& buf = worker_.rbuf_;
  bool eof = false;
  while (state_ != State::kDead) {
    ssize_t n = ::recv(l.fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return fail(std::string("BOSH read: ") + std::strerror(errno));
    }
    if (n == 0) {
      eof = true;
      break;
    }
    l.in.append(buf.data(), static_cast<size_t>(n));
  }
  if (state_ == State::kDead) return;
  if (!l.in.empty() && !bosh_parse_responses(l)) return;
  if (eof) {
    if (l.busy && !l.done) return fail(state_ == State::kClosing ? "closed by us" : "BOSH: HTTP connection closed by server with a request pending");
    // A keep-alive connection closed by the server: the pump opens another for the next request (at the
    // end of this loop iteration, so no event of the old socket still in this batch reaches the new one).
    epoll_ctl(worker_.ep_, EPOLL_CTL_DEL, l.fd, nullptr);
    ::close(l.fd);
    l.fd = -1;
    l.connected = false;
  }
  bosh_deliver();
}

namespace {
// The value of an HTTP header (case-insensitive name) in a header block, or npos-empty.
std::string_view header_value(std::string_view head, std::string_view name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    size_t end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    }
  }
  return {};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

bool Conn::bosh_parse_responses(BoshLink& l) {
  while (!l.in.empty()) {
    size_t hend = l.in.find("\r\n\r\n");
    if (hend == std::string::npos) {
      if (l.in.size() > 65536) {
        fail("BOSH: HTTP response header too large");
        return false;
      }
      return true;
    }
    std::string_view head(l.in.data(), hend);
    if (head.compare(0, 5, "HTTP/") != 0 || head.size() < 12) {
      fail("BOSH: not an HTTP response");
      return false;
    }
    int status = std::atoi(std::string(head.substr(9, 3)).c_str());
    size_t body_start = hend + 4, consumed = 0;
    std::string body;
    if (iequals(header_value(head, "Transfer-Encoding"), "chunked")) {
      size_t p = body_start;
      bool complete = false;
      while (true) {
        size_t le = l.in.find("\r\n", p);
        if (le == std::string::npos) break;
        size_t size = std::strtoul(l.in.c_str() + p, nullptr, 16);
        if (size == 0) {  // last chunk; no trailers expected
          if (l.in.size() < le + 4) break;
          consumed = le + 4;
          complete = true;
          break;
        }
        if (l.in.size() < le + 2 + size + 2) break;
        body.append(l.in, le + 2, size);
        p = le + 2 + size + 2;
      }
      if (!complete) return true;
    } else {
      std::string_view cl = header_value(head, "Content-Length");
      size_t len = cl.empty() ? 0 : std::strtoul(std::string(cl).c_str(), nullptr, 10);
      if (l.in.size() < body_start + len) return true;
      body.assign(l.in, body_start, len);
      consumed = body_start + len;
    }
    if (iequals(header_value(head, "Connection"), "close")) l.close_after = true;
    if (status != 200) {
      fail("BOSH: HTTP " + std::string(head.substr(9, head.find("\r\n") - 9)) + ": " + body.substr(0, 200));
      return false;
    }
    if (!l.busy || l.done) {
      fail("BOSH: a response without a request");
      return false;
    }
    l.body = std::move(body);
    l.done = true;
    l.in.erase(0, consumed);
  }
  return true;
}

void Conn::bosh_deliver() {
  // Responses are processed in rid order, whatever link they came on (XEP-0124 §9: the server sends
  // stanzas in order across responses).
  while (state_ != State::kDead) {
    BoshLink* first = nullptr;
    for (auto& l : links_)
      if (l->busy && (!first || l->rid < first->rid)) first = l.get();
    if (!first || !first->done) break;
    std::string body;
    body.swap(first->body);
    first->busy = first->done = false;
    --bosh_outstanding_;
    bool was_terminate = first->terminate;
    first->terminate = false;
    if (first->close_after && first->fd >= 0) {  // Connection: close; the pump opens another
      epoll_ctl(worker_.ep_, EPOLL_CTL_DEL, first->fd, nullptr);
      ::close(first->fd);
      first->fd = -1;
      first->connected = false;
    }
    if (was_terminate || state_ == State::kClosing) {
      if (was_terminate) return fail("closed by us");
      continue;
    }
    bosh_on_body(body);
  }
  if (state_ != State::kDead && !dirty_) {  // the pump runs at the end of this loop iteration
    dirty_ = true;
    worker_.mark_dirty(this);
  }
}

void Conn::bosh_on_body(std::string_view body) {
  reader_.reset();
  bosh_terminated_ = false;
  feed_xml(body);
  if (state_ == State::kDead) return;
  if (bosh_terminated_) fail("BOSH session terminated by server" + (bosh_condition_.empty() ? std::string() : ": " + bosh_condition_));
  else if (!bosh_created_) fail("BOSH: no sid in the session creation response");
}

BoshLink* Conn::bosh_free_link() {
  for (auto& l : links_)
    if (!l->busy && l->fd >= 0) return l.get();
  return nullptr;
}

void Conn::bosh_request(BoshLink& l, std::string_view attrs, std::string_view payload) {
  std::string body;
  body.reserve(160 + payload.size());
  body.append("<body rid='").append(std::to_string(bosh_rid_++)).append("' xmlns='http://jabber.org/protocol/httpbind'");
  if (!bosh_sid_.empty()) body.append(" sid='").append(bosh_sid_).append("'");
  body.append(attrs);
  if (payload.empty()) body.append("/>");
  else body.append(">").append(payload).append("</body>");
  l.out.append("POST ").append(ep_.http_path).append(" HTTP/1.1\r\nHost: ").append(ep_.domain)
      .append("\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ").append(std::to_string(body.size()))
      .append("\r\n\r\n").append(body);
  l.busy = true;
  l.done = false;
  l.rid = bosh_rid_ - 1;
  ++bosh_outstanding_;
  if (!dirty_) {
    dirty_ = true;
    worker_.mark_dirty(this);
  }
}

void Conn::bosh_pump() {
  if (state_ == State::kDead) return;
  for (auto& l : links_)
    if (l->fd < 0 && !l->busy) {
      bosh_open_link(*l);
      if (state_ == State::kDead) return;
    }
  if (!bosh_created_) return;
  while (bosh_outstanding_ < bosh_requests_) {
    BoshLink* l = bosh_free_link();
    if (!l) break;
    if (bosh_terminate_) {
      bosh_terminate_ = false;
      bosh_request(*l, " type='terminate'", bosh_pending_);
      bosh_pending_.clear();
      l->terminate = true;
      break;
    }
    if (state_ == State::kClosing) break;
    if (bosh_restart_) {  // alone in its request, and nothing else until the features arrive
      bosh_restart_ = false;
      bosh_request(*l, " to='" + ep_.domain + "' xml:lang='en' xmpp:restart='true' xmlns:xmpp='urn:xmpp:xbosh'", "");
      break;
    }
    if (bosh_pending_.empty() && bosh_outstanding_ > 0) break;  // one waiting request is enough
    bosh_request(*l, "", bosh_pending_);
    bosh_pending_.clear();
  }
}

// ---------------------------------------------------------------------------------------------------
// Worker

Worker::Worker(unsigned index) : index_(index), rbuf_(kReadBuffer) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) throw std::runtime_error("epoll_create1 failed");
}

Worker::~Worker() {
  abort_all();
  ::close(ep_);
}

Conn* Worker::open(const Endpoint& ep, LoginSpec spec, ConnHandler* handler, void* user) {
  auto* c = new Conn(*this, ep, std::move(spec), handler, user);
  all_.push_back(c);
  ++live_;
  uint64_t n = g_source_counter.fetch_add(1, std::memory_order_relaxed) % std::max(1u, ep.source_addresses);
  sockaddr_in src{}, dst{};
  src.sin_family = dst.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (static_cast<uint32_t>(n / 250) << 8) |
                              static_cast<uint32_t>(n % 250 + 1));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.sin_port = htons(ep.port);
  c->start(src, dst);
  return c->state_ == Conn::State::kDead ? nullptr : c;
}

void Worker::mark_dirty(Conn* c) { dirty_.push_back(c); }

void Worker::retire(Conn* c) {
  dead_.push_back(c);
  --live_;
}

void Worker::flush_dirty() {
  // A flush may fail a connection, which cannot add to dirty_, but on_closed handlers may send on
  // other connections: swap first.
  std::vector<Conn*> batch;
  while (!dirty_.empty()) {
    batch.swap(dirty_);
    for (Conn* c : batch)
      if (c->state_ != Conn::State::kDead && c->dirty_) c->flush();
    batch.clear();
  }
}

void Worker::run(const std::function<bool()>& keep_going, const std::function<void()>& tick, bool busy_poll) {
  std::vector<epoll_event> events(1024);
  while (keep_going()) {
    int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), busy_poll ? 0 : 2);
    for (int i = 0; i < n; ++i)
      static_cast<Pollable*>(events[static_cast<size_t>(i)].data.ptr)->on_event(events[static_cast<size_t>(i)].events);
    if (tick) tick();
    flush_dirty();
    if (!dead_.empty()) {
      for (Conn* c : dead_) {
        auto it = std::find(all_.rbegin(), all_.rend(), c);
        if (it != all_.rend()) {
          *it = all_.back();
          all_.pop_back();
        }
        delete c;
      }
      dead_.clear();
    }
  }
}

void Worker::abort_all() {
  for (Conn* c : all_) {
    if (c->state_ != Conn::State::kDead) {
      if (c->fd_ >= 0) {
        ::close(c->fd_);
        c->fd_ = -1;
      }
      for (auto& l : c->links_)
        if (l && l->fd >= 0) {
          ::close(l->fd);
          l->fd = -1;
        }
      c->state_ = Conn::State::kDead;
    }
    delete c;
  }
  all_.clear();
  dead_.clear();  // dead connections are still in all_ until the end of their loop iteration
  live_ = 0;
}

}  // namespace causerie::bench
