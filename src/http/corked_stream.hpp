// CorkedStream: the layer under Beast's websocket::stream that gathers a WebSocket connection's output so
// that it leaves in one socket write (one SSL_write for wss) per flush, as the TCP path's writev does.
// Internal to src/http: used by websocket_session.hpp only.
//
// Why a layer and not only our own framing: Beast writes frames of its own at any time (the pong that
// answers a ping, keep-alive pings, the close frame of either side's closing handshake). If our data frames
// went to the socket beside Beast's, the two could interleave mid-frame or pass each other. Here both go
// into the same buffer, in the order they were produced, and only this layer writes to the socket.
//
// Thread rules: one connection, one worker thread; nothing is locked.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace causerie::http {

// What the connection that owns a CorkedStream hears from it.
class CorkOwner {
 public:
  // Beast buffered bytes of its own (pong, ping, close): the owner schedules a flush, as for a stanza.
  virtual void cork_wants_flush() = 0;
  // A socket write failed: the connection is over.
  virtual void cork_failed() = 0;
  // Beast has used up what it had read and waits for the socket.
  virtual void cork_reading() = 0;

 protected:
  ~CorkOwner() = default;
};

// Until corked (after the WebSocket handshake), writes go straight through, so Beast's handshake response
// needs no flush. Once corked, a write appends to `pending_` and completes at once; flush() hands the whole
// buffer to one async_write on the next layer. Reads always go straight through.
template <class Next>
class CorkedStream {
 public:
  using next_layer_type = Next;
  using executor_type = typename Next::executor_type;

  explicit CorkedStream(Next&& next) : next_(std::move(next)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  void set_owner(CorkOwner* owner) { owner_ = owner; }
  void set_corked() { corked_ = true; }

  // Where the owner appends whole frames of its own (append_ws_text_frame). Bytes appended here are
  // written by the next flush(), after everything appended before them.
  std::string& pending() { return pending_; }
  // Bytes not yet handed to the kernel (or to OpenSSL): counted against limits.output_queue.
  size_t buffered() const { return pending_.size() + inflight_.size(); }
  bool failed() const { return static_cast<bool>(error_); }

  // Starts writing everything pending, unless a write is already under way (its completion goes on with
  // what was appended meanwhile). `keep` holds the owner alive until the write completes.
  void flush(std::shared_ptr<void> keep) {
    if (writing_ || pending_.empty() || error_) return;
    inflight_.swap(pending_);
    writing_ = true;
    boost::asio::async_write(next_, boost::asio::buffer(inflight_),
                             [this, keep = std::move(keep)](const boost::system::error_code& ec, size_t) mutable {
                               write_done(ec);
                               if (!error_ && !pending_.empty()) flush(std::move(keep));
                             });
  }

  // The connection is being torn down: what is pending will never be written.
  void discard() { std::string().swap(pending_); }

  // --- AsyncStream, for Beast ---
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (owner_) owner_->cork_reading();
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& bufs) {
          if (!corked_) {
            next_.async_write_some(bufs, std::move(handler));
            return;
          }
          boost::system::error_code ec = error_;
          size_t n = 0;
          if (!ec) {
            for (auto it = boost::asio::buffer_sequence_begin(bufs); it != boost::asio::buffer_sequence_end(bufs); ++it) {
              boost::asio::const_buffer b(*it);
              pending_.append(static_cast<const char*>(b.data()), b.size());
              n += b.size();
            }
            if (owner_) owner_->cork_wants_flush();
          }
          // Never complete inside the initiating call (Asio's rule): the handler runs from the loop.
          auto ex = boost::asio::get_associated_executor(handler, get_executor());
          boost::asio::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
        },
        token, buffers);
  }

  // Beast's closing handshake ends with a teardown of the next layer (TCP shutdown, TLS close_notify).
  // The close frame Beast has just written is still in our buffer: it must reach the peer first.
  template <class Handler>
  void async_teardown(boost::beast::role_type role, Handler&& handler) {
    boost::asio::co_spawn(get_executor(), drain_then_teardown(role),
                          [h = std::forward<Handler>(handler)](std::exception_ptr, boost::system::error_code ec) mutable {
                            std::move(h)(ec);
                          });
  }

 private:
  void write_done(const boost::system::error_code& ec) {
    writing_ = false;
    // While output keeps coming, the written buffer is reused for the next batch (no allocation and
    // regrowth per flush); once nothing is pending, both go, so an idle connection holds no output
    // buffer (ARCHITECTURE.md, memory of an idle session).
    if (pending_.empty()) {
      std::string().swap(inflight_);
      std::string().swap(pending_);
    } else {
      inflight_.clear();
    }
    if (ec && !error_) {
      error_ = ec;
      discard();
      if (owner_) owner_->cork_failed();
    }
    if (drain_waiter_) drain_waiter_->cancel();
  }

  boost::asio::awaitable<boost::system::error_code> drain_then_teardown(boost::beast::role_type role) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    while (!error_ && (writing_ || !pending_.empty())) {
      if (writing_) {
        // Wait for the write under way; write_done() wakes us. The timer exists only while we wait.
        asio::steady_timer wait(get_executor(), asio::steady_timer::time_point::max());
        drain_waiter_ = &wait;
        co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        drain_waiter_ = nullptr;
        continue;
      }
      inflight_.swap(pending_);
      writing_ = true;
      co_await asio::async_write(next_, asio::buffer(inflight_), asio::redirect_error(asio::use_awaitable, ec));
      write_done(ec);
    }
    if (error_) co_return error_;
    ec = {};
    auto token = asio::redirect_error(asio::use_awaitable, ec);  // async_initiate takes the token by lvalue
    co_await asio::async_initiate<decltype(token), void(boost::system::error_code)>(
        [this, role](auto h) {
          using boost::beast::websocket::async_teardown;
          async_teardown(role, next_, std::move(h));
        },
        token);
    co_return ec;
  }

  Next next_;
  CorkOwner* owner_ = nullptr;
  std::string pending_;   // appended to; written by the next flush
  std::string inflight_;  // handed to async_write; untouched until it completes
  boost::system::error_code error_;
  boost::asio::steady_timer* drain_waiter_ = nullptr;
  bool corked_ = false;
  bool writing_ = false;
};

// Found by argument-dependent lookup from Beast's close and read operations.
template <class Next, class Handler>
void async_teardown(boost::beast::role_type role, CorkedStream<Next>& stream, Handler&& handler) {
  stream.async_teardown(role, std::forward<Handler>(handler));
}

}  // namespace causerie::http
