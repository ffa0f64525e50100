// TcpTransport: an XML stream over TCP, in the clear with STARTTLS (RFC 6120 §5) or with direct TLS
// (XEP-0368), for any stream protocol: client (C2sStream), incoming and outgoing server, component. It
// owns the socket, the OpenSSL object, the XML parser and the output queue; the protocol is its
// StreamHandler. TLS runs as server (accepted connections) or as client (outgoing s2s), as TlsSetup says.
//
// I/O is readiness-based (async_wait, then non-blocking recv/SSL_read into a per-thread buffer), so an
// idle connection holds no read buffer; OpenSSL releases its buffers when idle. Thread rules: one worker.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "core/stream/stream_transport.hpp"
#include "core/stream/transport_guard.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::net {

// How a connection gets its TLS: make_ssl gives a new SSL in accept or connect state (nullptr: no TLS on
// this connection); direct means TLS before the first byte of XML (XEP-0368).
struct TlsSetup {
  std::function<SSL*()> make_ssl;
  bool direct = false;
  const TlsContext* verifier = nullptr;  // checks the peer's certificate (peer_certificate())
};

class TcpTransport final : public StreamTransport,
                           public Connection,
                           private xml::StreamParser::Handler,
                           public std::enable_shared_from_this<TcpTransport> {
 public:
  TcpTransport(Worker& worker, const LimitsConfig& limits, boost::asio::ip::tcp::socket socket, std::string peer,
               TlsSetup tls);
  ~TcpTransport() override;

  // The protocol spoken on this stream; `client` when it is a client stream. Before start().
  void set_handler(std::unique_ptr<StreamHandler> handler, bool client = false);
  StreamHandler* handler() const { return handler_.get(); }
  void start();

  // Connection
  uint64_t id() const override { return id_; }
  bool is_client() const override { return client_; }
  void end_stream(StreamErrorCondition condition, const std::string& text) override {
    if (handler_ && !torn_down_) handler_->on_end(condition, text);
  }
  void deliver(OutStanza out) override {
    if (handler_) handler_->deliver(std::move(out));
  }
  void flush() override;
  bool sweep(std::chrono::steady_clock::time_point now) override;
  void shutdown() override {
    if (handler_ && !torn_down_) handler_->on_shutdown();
  }

  // StreamTransport
  void open(const StreamHeader& header) override;
  void send(OutStanza out) override;
  void close(const std::string& stream_error) override;
  bool can_starttls() const override { return tls_.make_ssl != nullptr && !ssl_; }
  void starttls() override;
  void restart() override;
  bool secure() const override { return ssl_ != nullptr && !handshaking_; }
  std::vector<std::pair<std::string, std::string>> channel_bindings() const override;
  std::vector<std::pair<std::string, std::string>> compat_channel_bindings() const override;
  PeerCertificate peer_certificate() const override;
  std::string tls_server_name() const override;
  std::string tls_version() const override;
  void after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  const std::string& peer_address() const override { return peer_; }
  void set_established() override { guard_.established(); }

 private:
  // StreamParser::Handler
  void on_stream_open(const xml::Element& header, std::string_view content_ns) override {
    handler_->on_stream_open(header, content_ns);
  }
  void on_element(xml::Element&& el) override { handler_->on_element(std::move(el)); }
  void on_stream_close() override { handler_->on_stream_close(); }

  void wait_readable();
  void on_readable();
  void feed(std::string_view data);
  void wait_writable();
  bool write_plain();
  bool write_tls();
  void consume_written(size_t n);
  void start_tls();
  void continue_handshake();
  void after_flush();
  void finish_close();
  void teardown();
  void notify_disconnect();
  bool want_flush() const { return out_head_ < out_.size(); }

  Worker& worker_;
  uint64_t id_;
  boost::asio::ip::tcp::socket socket_;
  std::string peer_;
  TlsSetup tls_;
  TransportGuard guard_;
  std::unique_ptr<StreamHandler> handler_;
  bool client_ = false;
  SSL* ssl_ = nullptr;
  mutable std::optional<PeerCertificate> peer_cert_;
  std::unique_ptr<xml::StreamParser> parser_;
  std::vector<OutStanza> out_;
  size_t out_head_ = 0;    // first unsent item
  size_t out_offset_ = 0;  // bytes of out_[out_head_] already sent
  size_t out_bytes_ = 0;   // bytes queued and unsent
  size_t tls_retry_ = 0;   // SSL_write must be retried with this many bytes (OpenSSL's rule)
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool reading_ = false;        // an async_wait for readability is pending
  bool writing_ = false;        // an async_wait for writability is pending
  bool dirty_ = false;          // queued in the worker's flush list
  bool handshaking_ = false;
  bool direct_handshake_ = false;  // the handshake under way is direct TLS, not STARTTLS
  bool starttls_after_flush_ = false;
  bool restart_pending_ = false;
  bool starttls_pending_ = false;
  bool close_after_flush_ = false;
  bool draining_ = false;       // our side is closed; reading until the peer closes too
  bool torn_down_ = false;
  bool disconnected_ = false;    // the handler was told
  bool in_feed_ = false;         // inside parser_->feed(): restarts must wait until it returns
};

}  // namespace causerie::net
