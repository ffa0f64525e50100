// The load generator's XMPP client engine: Worker (one epoll loop on one thread) and Conn (one client
// connection: TCP or TLS, stream negotiation, SASL, bind, optional roster get and initial presence).
//
// Thread rules: a Worker and all of its Conns belong to the thread that calls Worker::run(); scenarios
// touch a Conn only from its worker's callbacks (ConnHandler, the tick function). Cross-thread
// coordination is by atomics in the scenario, never by touching another worker's Conns.
//
// Efficiency (the generator must saturate as late as possible): one read buffer per worker, reads of up
// to 256 KiB; stanzas are appended to a per-connection output buffer and every dirty connection is
// flushed once per loop iteration, so the stanzas released by one read leave in one write.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scram_client.hpp"
#include "xml_reader.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace causerie::bench {

enum class TlsMode { kNone, kStartTls, kDirect };
enum class Mech { kPlain, kScramSha1, kScramSha256 };
// tcp: RFC 6120 over TCP; websocket: RFC 7395 (one element per text frame, <open/> and <close/>);
// bosh: XEP-0124/0206 (a request loop of <body/> wrappers over two HTTP/1.1 keep-alive connections).
enum class Transport { kTcp, kWebSocket, kBosh };

std::optional<TlsMode> parse_tls_mode(std::string_view s);
std::optional<Mech> parse_mech(std::string_view s);
std::optional<Transport> parse_transport(std::string_view s);
const char* to_string(TlsMode m);
const char* to_string(Mech m);
const char* to_string(Transport t);

struct Endpoint {
  uint16_t port = 5222;
  std::string domain = "localhost";
  TlsMode tls = TlsMode::kNone;  // websocket: none (ws://) or direct (wss://)
  Transport transport = Transport::kTcp;
  std::string http_path = "/xmpp-websocket";  // websocket or bosh endpoint
  unsigned source_addresses = 64;  // 127.1.x.y source addresses used round-robin
};

struct LoginSpec {
  std::string user;      // localpart
  std::string password;
  std::string resource = "bench";
  Mech mech = Mech::kScramSha1;
  bool roster = false;    // roster get before going ready
  bool presence = false;  // send initial presence before going ready
  // XEP-0198: enable stream management with resumption after bind (ready once <enabled/> arrives), or,
  // with resume_id set, resume that session after SASL instead of binding (ready once <resumed/> arrives).
  bool sm_enable = false;
  std::string resume_id;
  uint64_t resume_h = 0;  // stanzas received on the stream being resumed
};

class Conn;

// Anything registered with a worker's epoll: a Conn's socket, or one of a BOSH Conn's HTTP links.
class Pollable {
 public:
  virtual ~Pollable() = default;
  virtual void on_event(uint32_t events) = 0;
};

// One HTTP/1.1 keep-alive connection of a BOSH session, carrying one request at a time.
struct BoshLink final : Pollable {
  Conn* conn = nullptr;
  int fd = -1;
  bool connected = false;
  bool busy = false;        // a request was sent and its response is not processed yet
  bool done = false;        // its response is complete (in `body`), waiting for its turn (rid order)
  bool terminate = false;   // the request was our type='terminate'
  bool want_write = false;
  bool close_after = false; // the server said Connection: close
  uint64_t rid = 0;
  std::string out, in, body;
  void on_event(uint32_t events) override;
};

class ConnHandler {
 public:
  virtual ~ConnHandler() = default;
  // Bound (and roster fetched, initial presence sent, as asked).
  virtual void on_ready(Conn& c) = 0;
  // A top-level element received once ready.
  virtual void on_stanza(Conn& c, const Stanza& s) = 0;
  // The connection failed or closed; `c` is destroyed after this returns.
  virtual void on_closed(Conn& c, bool was_ready, std::string_view why) = 0;
};

class Worker;

class Conn final : public Pollable, private XmlReader::Handler {
 public:
  Conn(Worker& w, const Endpoint& ep, LoginSpec spec, ConnHandler* handler, void* user);
  ~Conn() override;

  // Queues bytes; they leave at the end of this loop iteration (or now, with flush()).
  void send(std::string_view bytes);
  void flush();
  // Sends </stream:stream> and closes (on_closed is called with why="closed by us").
  void close();
  // Drops the TCP connection without closing the stream (a reset, as when a phone loses its network);
  // on_closed is called with why="dropped by us".
  void drop();
  const std::string& sm_id() const { return sm_id_; }  // XEP-0198 id once enabled with resumption
  uint64_t sm_h() const { return sm_h_; }              // stanzas received since enabling (or resuming)
  bool ready() const { return state_ == State::kReady; }
  const std::string& jid() const { return jid_; }  // full JID once bound
  const LoginSpec& spec() const { return spec_; }
  Worker& worker() { return worker_; }
  int64_t started_ns() const { return started_ns_; }
  void* user = nullptr;  // scenario data

 private:
  friend class Worker;
  friend struct BoshLink;
  enum class State { kConnecting, kHandshake, kUpgrade, kFeatures, kProceed, kSasl, kBind, kRoster, kSmEnable, kResume, kReady, kClosing,
                     kDead };

  void start(const sockaddr_in& src, const sockaddr_in& dst);
  void on_event(uint32_t events) override;
  // BOSH (XEP-0124/0206)
  bool bosh() const { return ep_.transport == Transport::kBosh; }
  void bosh_open_link(BoshLink& l);
  void bosh_close_links();
  void bosh_link_event(BoshLink& l, uint32_t events);
  void bosh_link_flush(BoshLink& l);
  void bosh_link_read(BoshLink& l);
  bool bosh_parse_responses(BoshLink& l);  // false: the connection failed
  void bosh_deliver();                     // processes complete responses in rid order
  void bosh_on_body(std::string_view body);
  void bosh_pump();                        // sends what is pending, keeps one request waiting
  BoshLink* bosh_free_link();
  void bosh_request(BoshLink& l, std::string_view attrs, std::string_view payload);
  void stanza_with_ns(std::string_view bytes, std::string& out) const;
  void on_connected();
  void begin_tls();
  void handshake();
  void read_all();
  void process(std::string_view data);
  void send_header();
  void after_transport_up();  // TCP (and TLS) ready: stream header, or the WebSocket upgrade first
  void write_raw(std::string_view bytes);  // bytes as they are, no WebSocket framing
  void process_upgrade(std::string_view data);
  void process_frames(std::string_view data);
  void feed_xml(std::string_view data);
  void reset_reader();
  void fail(std::string why);
  void finish_login();
  void on_stream_open(const XNode& header) override;
  bool on_stanza(const Stanza& s) override;
  void on_stream_close() override;
  bool handle_negotiation(const Stanza& s);

  Worker& worker_;
  Endpoint ep_;
  LoginSpec spec_;
  ConnHandler* handler_;
  int fd_ = -1;
  ssl_st* ssl_ = nullptr;
  State state_ = State::kConnecting;
  bool authed_ = false;
  bool restart_ = false;      // the reader stopped for a stream restart
  bool start_tls_ = false;    // the reader stopped for STARTTLS
  bool dirty_ = false;
  bool want_write_ = false;
  std::string out_;
  XmlReader reader_;
  bool ws_ = false;           // WebSocket framing in force (after the upgrade)
  std::string ws_in_;         // upgrade response or partial frames
  std::string ws_message_;    // a fragmented text message being assembled
  uint32_t ws_mask_seed_ = 0;
  // BOSH
  std::unique_ptr<BoshLink> links_[2];
  sockaddr_in src_{}, dst_{};
  std::string bosh_pending_;       // stanzas for the next request
  std::string bosh_sid_;
  uint64_t bosh_rid_ = 0;          // the next request's rid
  unsigned bosh_requests_ = 2;     // the server's 'requests' (at most 2: our links)
  unsigned bosh_outstanding_ = 0;
  bool bosh_created_ = false;      // the session creation response arrived
  bool bosh_restart_ = false;      // a restart request is due
  bool bosh_terminate_ = false;    // a terminate request is due
  bool bosh_terminated_ = false;   // the response just processed said type='terminate'
  std::string bosh_condition_;
  std::unique_ptr<ScramClient> scram_;
  std::string jid_;
  std::string sm_id_;
  bool sm_on_ = false;  // XEP-0198 in force: count stanzas, answer <r/>
  uint64_t sm_h_ = 0;
  int64_t started_ns_ = 0;
};

class Worker {
 public:
  explicit Worker(unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned index() const { return index_; }
  // Starts a connection; progress is reported through `handler`. `user` is stored in Conn::user
  // before anything can be reported. nullptr when the connection failed at once (on_closed was called).
  Conn* open(const Endpoint& ep, LoginSpec spec, ConnHandler* handler, void* user = nullptr);
  // Runs the loop until `keep_going` returns false; `tick` runs once per iteration (≤ 2 ms apart).
  // busy_poll: never sleep in epoll_wait (Options::busy_poll).
  void run(const std::function<bool()>& keep_going, const std::function<void()>& tick = {}, bool busy_poll = false);
  size_t live() const { return live_; }
  // Closes every connection at once (no stream close; for the end of a run).
  void abort_all();

 private:
  friend class Conn;
  void mark_dirty(Conn* c);
  void retire(Conn* c);
  void flush_dirty();

  unsigned index_;
  int ep_ = -1;
  std::vector<char> rbuf_;
  std::vector<Conn*> dirty_;
  std::vector<Conn*> dead_;
  std::vector<Conn*> all_;  // owned; compacted when connections die
  size_t live_ = 0;
};

// Process-wide set-up: raises RLIMIT_NOFILE, ignores SIGPIPE, creates the TLS client context.
void init_client_engine();
ssl_ctx_st* client_tls_context();
int64_t now_ns();  // CLOCK_MONOTONIC

}  // namespace causerie::bench
