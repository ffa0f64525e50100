// TcpC2sConnection: a client stream over TCP, in the clear with STARTTLS (RFC 6120 §5) or with direct
// TLS (XEP-0368). It owns the socket, the OpenSSL object, the XML parser and the output queue.
//
// I/O is readiness-based (async_wait, then non-blocking recv/SSL_read into a per-thread buffer), so an
// idle connection holds no read buffer; OpenSSL releases its buffers when idle. Thread rules: one worker.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "core/stream/c2s_stream.hpp"
#include "net/tls_context.hpp"
#include "net/worker_pool.hpp"

namespace causerie::net {

class TcpC2sConnection final : public C2sStream,
                               public Connection,
                               private xml::StreamParser::Handler,
                               public std::enable_shared_from_this<TcpC2sConnection> {
 public:
  TcpC2sConnection(Worker& worker, ServerServices& services, AuthThrottle& throttle, const TlsContext* tls,
                   boost::asio::ip::tcp::socket socket, bool direct_tls, std::string peer);
  ~TcpC2sConnection() override;

  void start();

  // Connection
  uint64_t id() const override { return ref().id; }
  ClientSession* client() override { return this; }
  void deliver(OutStanza out) override { transport_send(std::move(out)); }
  void flush() override;
  bool sweep(std::chrono::steady_clock::time_point now) override;
  void shutdown() override { close(StreamErrorCondition::kSystemShutdown, "the server is shutting down"); }

 private:
  // C2sStream transport
  void transport_open(const std::string& from, const std::string& id, const std::string& to) override;
  void transport_send(OutStanza out) override;
  void transport_close(const std::string& stream_error) override;
  bool transport_can_starttls() const override { return tls_ != nullptr && !ssl_; }
  void transport_starttls() override;
  void transport_restart() override;
  bool transport_secure() const override { return ssl_ != nullptr && !handshaking_; }
  std::vector<std::pair<std::string, std::string>> transport_channel_bindings() const override;
  std::vector<std::pair<std::string, std::string>> transport_compat_bindings() const override;
  void transport_after(std::chrono::milliseconds delay, std::function<void()> fn) override;

  // StreamParser::Handler
  void on_stream_open(const xml::Element& header, std::string_view content_ns) override {
    handle_stream_open(header, content_ns);
  }
  void on_element(xml::Element&& el) override { handle_element(std::move(el)); }
  void on_stream_close() override { handle_stream_close(); }

  void wait_readable();
  void on_readable();
  void feed(std::string_view data);
  void wait_writable();
  bool write_plain();
  bool write_tls();
  void start_tls();
  void continue_handshake();
  void after_flush();
  void finish_close();
  void teardown();
  bool want_flush() const { return out_head_ < out_.size(); }

  Worker& worker_;
  boost::asio::ip::tcp::socket socket_;
  const TlsContext* tls_;
  SSL* ssl_ = nullptr;
  std::unique_ptr<xml::StreamParser> parser_;
  std::vector<OutStanza> out_;
  size_t out_head_ = 0;    // first unsent item
  size_t out_offset_ = 0;  // bytes of out_[out_head_] already sent
  size_t out_bytes_ = 0;   // bytes queued and unsent
  size_t tls_retry_ = 0;   // SSL_write must be retried with this many bytes (OpenSSL's rule)
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool direct_tls_;
  bool reading_ = false;        // an async_wait for readability is pending
  bool writing_ = false;        // an async_wait for writability is pending
  bool dirty_ = false;          // queued in the worker's flush list
  bool handshaking_ = false;
  bool starttls_after_flush_ = false;
  bool restart_pending_ = false;
  bool starttls_pending_ = false;
  bool close_after_flush_ = false;
  bool draining_ = false;       // our side is closed; reading until the peer closes too
  bool torn_down_ = false;
  bool in_feed_ = false;         // inside parser_->feed(): restarts must wait until it returns
  bool active_ = false;          // input arrived since the last sweep
};

}  // namespace causerie::net
