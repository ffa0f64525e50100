#include "net/tcp_c2s.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "core/xml/serializer.hpp"

namespace causerie::net {

namespace {

constexpr size_t kReadBuffer = 64 * 1024;
constexpr size_t kReadPerWakeup = 256 * 1024;  // then yield to the other connections of this worker
constexpr size_t kTlsStaging = 64 * 1024;
constexpr auto kDrainTime = std::chrono::seconds(2);

// One read buffer per worker thread: an idle connection holds none (issue 3, memory per session).
char* read_buffer() {
  static thread_local std::unique_ptr<char[]> buf(new char[kReadBuffer]);
  return buf.get();
}

char* tls_staging() {
  static thread_local std::unique_ptr<char[]> buf(new char[kTlsStaging]);
  return buf.get();
}

}  // namespace

TcpC2sConnection::TcpC2sConnection(Worker& worker, ServerServices& services, AuthThrottle& throttle,
                                   const TlsContext* tls, boost::asio::ip::tcp::socket socket, bool direct_tls,
                                   std::string peer)
    : C2sStream(services, throttle, SessionRef{worker.index(), worker.next_id()}, std::move(peer)),
      worker_(worker),
      socket_(std::move(socket)),
      tls_(tls),
      started_(std::chrono::steady_clock::now()),
      direct_tls_(direct_tls) {}

TcpC2sConnection::~TcpC2sConnection() {
  if (ssl_) SSL_free(ssl_);
}

void TcpC2sConnection::start() {
  worker_.add(shared_from_this());
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  const auto& lim = services_.config.limits;
  parser_ = std::make_unique<xml::StreamParser>(static_cast<xml::StreamParser::Handler&>(*this), xml::StreamLimits{lim.max_stanza_bytes, lim.max_depth});
  if (direct_tls_) start_tls();
  else wait_readable();
}

// ---------------------------------------------------------------- reading

void TcpC2sConnection::wait_readable() {
  if (reading_ || torn_down_) return;
  reading_ = true;
  socket_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->reading_ = false;
                       if (self->torn_down_) return;
                       if (ec) {
                         self->teardown();
                         return;
                       }
                       if (self->handshaking_) self->continue_handshake();
                       else self->on_readable();
                     });
}

void TcpC2sConnection::on_readable() {
  char* buf = read_buffer();
  size_t total = 0;
  while (!torn_down_) {
    size_t n = 0;
    if (ssl_) {
      ERR_clear_error();
      int r = SSL_read(ssl_, buf, static_cast<int>(kReadBuffer));
      if (r <= 0) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) break;
        if (e == SSL_ERROR_WANT_WRITE) {
          wait_writable();  // the writable handler resumes reading
          return;
        }
        teardown();  // close_notify, or a TLS error
        return;
      }
      n = static_cast<size_t>(r);
    } else {
      ssize_t r = ::recv(socket_.native_handle(), buf, kReadBuffer, 0);
      if (r == 0) {
        teardown();
        return;
      }
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        teardown();
        return;
      }
      n = static_cast<size_t>(r);
    }
    // A short read emptied the socket: with edge-triggered readiness, new data will signal again, so
    // the recv() that would only say EAGAIN is skipped (one syscall per event saved).
    bool drained = !ssl_ && n < kReadBuffer;
    if (draining_) {
      if (drained) break;
      continue;
    }  // our stream is closed: discard until the peer closes
    active_ = true;
    feed(std::string_view(buf, n));
    if (torn_down_ || handshaking_ || starttls_after_flush_) return;
    if (drained) break;
    total += n;
    if (total >= kReadPerWakeup) {
      worker_.post([self = shared_from_this()] {
        if (!self->torn_down_ && !self->handshaking_) self->on_readable();
      });
      return;
    }
  }
  wait_readable();
}

void TcpC2sConnection::feed(std::string_view data) {
  if (close_after_flush_) return;  // our stream is ending: nothing more is processed
  size_t consumed = 0;
  in_feed_ = true;
  auto status = parser_->feed(data, &consumed);
  in_feed_ = false;
  for (;;) {
    if (status == xml::StreamParser::Status::kOk) return;
    if (status == xml::StreamParser::Status::kError) {
      handle_parse_error(parser_->error(), parser_->error_text());
      return;
    }
    if (torn_down_ || close_after_flush_) return;
    if (starttls_pending_) {
      // RFC 6120 §5.4.3.3: the client sends nothing more in the clear; anything it did is dropped.
      starttls_pending_ = false;
      starttls_after_flush_ = true;
      flush();
      return;
    }
    if (restart_pending_) {
      restart_pending_ = false;
      parser_->reset();
      data = data.substr(consumed);
      in_feed_ = true;
      status = parser_->feed(data, &consumed);
      in_feed_ = false;
      continue;
    }
    return;
  }
}

// ---------------------------------------------------------------- writing

void TcpC2sConnection::transport_send(OutStanza out) {
  if (torn_down_ || close_after_flush_) return;
  out_bytes_ += out.size();
  if (out_bytes_ > services_.config.limits.max_output_queue_bytes) {
    // DESIGN §1 back-pressure: a client that does not read is cut off rather than growing our memory.
    spdlog::warn("c2s {}: output queue over {} bytes, disconnecting", peer_address(),
                 services_.config.limits.max_output_queue_bytes);
    teardown();
    return;
  }
  out_.push_back(std::move(out));
  if (!dirty_) {
    dirty_ = true;
    worker_.mark_dirty(shared_from_this());
  }
}

void TcpC2sConnection::transport_open(const std::string& from, const std::string& id, const std::string& to) {
  std::string h = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' id='";
  h += id;
  h += "' from='";
  xml::append_escaped(h, from, true);
  if (!to.empty()) {
    h += "' to='";
    xml::append_escaped(h, to, true);
  }
  h += "' version='1.0' xml:lang='en'>";
  transport_send(OutStanza{std::make_shared<const std::string>(std::move(h)), {}, StanzaKind::kOther});
}

void TcpC2sConnection::transport_close(const std::string& stream_error) {
  if (torn_down_ || close_after_flush_) return;
  transport_send(OutStanza{std::make_shared<const std::string>(stream_error + "</stream:stream>"), {}, StanzaKind::kOther});
  close_after_flush_ = true;
  if (in_feed_) parser_->stop();
  if (handshaking_) teardown();
}

void TcpC2sConnection::wait_writable() {
  if (writing_ || torn_down_) return;
  writing_ = true;
  socket_.async_wait(boost::asio::ip::tcp::socket::wait_write,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->writing_ = false;
                       if (self->torn_down_) return;
                       if (ec) {
                         self->teardown();
                         return;
                       }
                       if (self->handshaking_) {
                         self->continue_handshake();
                         return;
                       }
                       self->flush();
                       if (!self->torn_down_ && !self->reading_ && !self->handshaking_ && !self->starttls_after_flush_)
                         self->on_readable();
                     });
}

void TcpC2sConnection::flush() {
  dirty_ = false;
  if (torn_down_ || writing_ || handshaking_) return;
  bool done = ssl_ ? write_tls() : write_plain();
  if (!done) return;
  // Everything is written: give back the queue's memory if a burst made it large.
  out_.clear();
  out_head_ = out_offset_ = 0;
  if (out_.capacity() > 64) std::vector<OutStanza>().swap(out_);
  after_flush();
}

bool TcpC2sConnection::write_plain() {
  while (want_flush()) {
    iovec iov[64];
    int n = 0;
    for (size_t i = out_head_; i < out_.size() && n < 62; ++i) {
      const OutStanza& o = out_[i];
      size_t skip = i == out_head_ ? out_offset_ : 0;
      if (skip < o.head.size()) {
        iov[n++] = {const_cast<char*>(o.head.data() + skip), o.head.size() - skip};
        skip = 0;
      } else {
        skip -= o.head.size();
      }
      if (o.body && skip < o.body->size()) iov[n++] = {const_cast<char*>(o.body->data() + skip), o.body->size() - skip};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    ssize_t r = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_writable();
        return false;
      }
      teardown();
      return false;
    }
    size_t left = static_cast<size_t>(r);
    out_bytes_ -= left;
    while (left > 0) {
      size_t rem = out_[out_head_].size() - out_offset_;
      if (left >= rem) {
        left -= rem;
        out_[out_head_++] = OutStanza{};
        out_offset_ = 0;
      } else {
        out_offset_ += left;
        left = 0;
      }
    }
    // Items of zero length (none are queued today) would otherwise stall the loop.
    while (out_head_ < out_.size() && out_[out_head_].size() == 0) ++out_head_;
  }
  return true;
}

bool TcpC2sConnection::write_tls() {
  char* staging = tls_staging();
  while (want_flush()) {
    // OpenSSL: after WANT_WRITE, SSL_write must be called again with the same bytes. The queue front is
    // unchanged until a write succeeds, so copying the same span again satisfies that.
    size_t len = tls_retry_ ? tls_retry_ : std::min(out_bytes_, kTlsStaging);
    size_t copied = 0;
    size_t skip = out_offset_;
    for (size_t i = out_head_; i < out_.size() && copied < len; ++i) {
      const OutStanza& o = out_[i];
      for (const std::string* part : {&o.head, o.body.get()}) {
        if (!part) continue;
        if (skip >= part->size()) {
          skip -= part->size();
          continue;
        }
        size_t take = std::min(part->size() - skip, len - copied);
        std::memcpy(staging + copied, part->data() + skip, take);
        copied += take;
        skip = 0;
        if (copied == len) break;
      }
    }
    ERR_clear_error();
    int r = SSL_write(ssl_, staging, static_cast<int>(copied));
    if (r <= 0) {
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        tls_retry_ = copied;
        if (e == SSL_ERROR_WANT_WRITE) wait_writable();
        else wait_readable();
        return false;
      }
      teardown();
      return false;
    }
    tls_retry_ = 0;
    size_t left = static_cast<size_t>(r);
    out_bytes_ -= left;
    while (left > 0) {
      size_t rem = out_[out_head_].size() - out_offset_;
      if (left >= rem) {
        left -= rem;
        out_[out_head_++] = OutStanza{};
        out_offset_ = 0;
      } else {
        out_offset_ += left;
        left = 0;
      }
    }
    while (out_head_ < out_.size() && out_[out_head_].size() == 0) ++out_head_;
  }
  return true;
}

void TcpC2sConnection::after_flush() {
  if (starttls_after_flush_) {
    starttls_after_flush_ = false;
    start_tls();
    return;
  }
  if (close_after_flush_ && !draining_) finish_close();
}

// ---------------------------------------------------------------- TLS

void TcpC2sConnection::transport_starttls() {
  if (in_feed_) {
    starttls_pending_ = true;
    parser_->stop();
    return;
  }
  starttls_after_flush_ = true;
  flush();
}

void TcpC2sConnection::transport_restart() {
  if (in_feed_) {
    restart_pending_ = true;
    parser_->stop();
    return;
  }
  // An asynchronous success (PLAIN checks the password after a storage lookup): no input is pending.
  parser_->reset();
}

void TcpC2sConnection::start_tls() {
  ssl_ = tls_->new_ssl();
  if (!ssl_ || SSL_set_fd(ssl_, socket_.native_handle()) != 1) {
    teardown();
    return;
  }
  handshaking_ = true;
  continue_handshake();
}

void TcpC2sConnection::continue_handshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshaking_ = false;
    parser_->reset();
    handle_tls_established();
    // The client's new stream header may already sit in OpenSSL's buffer: read now, not on the next event.
    on_readable();
    return;
  }
  int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) {
    wait_readable();
  } else if (e == SSL_ERROR_WANT_WRITE) {
    wait_writable();
  } else {
    char err[256];
    ERR_error_string_n(ERR_peek_last_error(), err, sizeof err);
    spdlog::info("c2s {}: TLS handshake failed: {}", peer_address(), err);
    teardown();
  }
}

std::vector<std::pair<std::string, std::string>> TcpC2sConnection::transport_channel_bindings() const {
  if (!ssl_ || handshaking_) return {};
  return channel_bindings(ssl_);
}

std::vector<std::pair<std::string, std::string>> TcpC2sConnection::transport_compat_bindings() const {
  if (!ssl_ || handshaking_) return {};
  return compat_channel_bindings(ssl_);
}

// ---------------------------------------------------------------- timers and closing

void TcpC2sConnection::transport_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<boost::asio::steady_timer>(worker_.io(), delay);
  timer->async_wait([self = shared_from_this(), timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec && !self->torn_down_) fn();
  });
}

bool TcpC2sConnection::sweep(std::chrono::steady_clock::time_point now) {
  if (torn_down_) return false;
  if (draining_) {
    if (now >= drain_deadline_) teardown();
    return false;
  }
  if (!authenticated() && now - started_ > services_.config.limits.unauthenticated_timeout) {
    if (handshaking_) teardown();
    else close(StreamErrorCondition::kConnectionTimeout, "authentication took too long");
    return false;
  }
  // A connection quiet for a whole sweep period gives its parser's memory back (issue 3: memory per
  // idle session); the next byte recreates it.
  bool quiet = !active_;
  active_ = false;
  if (!(quiet && bound() && !in_feed_ && parser_ && !parser_->hibernated() && parser_->hibernate()))
    return false;
  // The one sign of it seen from outside (integration tests wait for it).
  spdlog::debug("c2s {}: {} quiet, parser released", peer_address(), jid().str());
  return true;
}

void TcpC2sConnection::finish_close() {
  // RFC 6120 §4.4: our closing tag is out; give the peer a moment to close its side, then cut.
  draining_ = true;
  drain_deadline_ = std::chrono::steady_clock::now() + kDrainTime;
  if (ssl_ && !handshaking_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
  }
  boost::system::error_code ec;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  handle_disconnect();
  wait_readable();
}

void TcpC2sConnection::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  handle_disconnect();
  boost::system::error_code ec;
  socket_.cancel(ec);
  socket_.close(ec);
  out_.clear();
  out_bytes_ = 0;
  // Removed from the worker's table after this event: callers may still be using this object.
  worker_.post([w = &worker_, id = id()] { w->remove(id); });
}

}  // namespace causerie::net
