#include "net/dns_resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/jid/jid.hpp"

namespace causerie::net {

namespace asio = boost::asio;

const char* to_string(DnsError e) {
  switch (e) {
    case DnsError::kNotFound:
      return "no such domain";
    case DnsError::kNoData:
      return "no records of that type";
    case DnsError::kTimeout:
      return "DNS timeout";
    case DnsError::kServerFailure:
      return "DNS server failure";
    case DnsError::kBadResponse:
      return "malformed DNS answer";
    case DnsError::kBadName:
      return "not a valid domain name";
  }
  return "DNS error";
}

namespace {

DnsError from_ares(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
      return DnsError::kNotFound;
    case ARES_ENODATA:
      return DnsError::kNoData;
    case ARES_ETIMEOUT:
      return DnsError::kTimeout;
    case ARES_EBADRESP:
      return DnsError::kBadResponse;
    case ARES_EBADNAME:
      return DnsError::kBadName;
    default:
      return DnsError::kServerFailure;  // SERVFAIL, REFUSED, NOTIMP, FORMERR, unreachable servers
  }
}

std::string normalize_target(const char* host) {
  std::string t(host ? host : "");
  if (!t.empty() && t.back() == '.') t.pop_back();
  for (char& c : t)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return t.empty() ? "." : t;  // c-ares spells the root as an empty name
}

// The name as DNS knows it: A-labels, IPv6 literals without the brackets JIDs put around them.
tl::expected<std::string, DnsError> query_name(std::string_view name) {
  auto prepared = prep_domainpart(name);
  if (!prepared) return tl::unexpected(DnsError::kBadName);
  if (prepared->front() == '[') return prepared->substr(1, prepared->size() - 2);
  auto ascii = domain_to_ascii(*prepared);
  if (!ascii) return tl::unexpected(DnsError::kBadName);
  return *ascii;
}

}  // namespace

struct DnsResolver::Impl : std::enable_shared_from_this<Impl> {
  // One c-ares socket, watched but never owned: c-ares opens and closes it.
  struct Watch {
    Watch(asio::io_context& io, int fd, uint64_t id) : descriptor(io, fd), id(id) {}
    asio::posix::stream_descriptor descriptor;
    uint64_t id;  // fds are reused after c-ares closes them; late handlers of an old watch see a new id
    bool want_read = false, want_write = false, reading = false, writing = false;
  };

  explicit Impl(asio::io_context& io) : io_(io), timer_(io) {}

  ~Impl() {
    destroying_ = true;
    if (channel_) ares_destroy(channel_);  // calls back with ARES_EDESTRUCTION; closes its sockets
    for (auto& [fd, w] : watches_) w->descriptor.release();
  }

  void init(const DnsConfig& config, HostsFile hosts) {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    opts.sock_state_cb = &Impl::on_sock_state;
    opts.sock_state_cb_data = this;
    opts.timeout = static_cast<int>(config.timeout.count());
    opts.tries = static_cast<int>(config.tries);
    // Domains of other servers are absolute: resolv.conf's search list must not turn "example.org"
    // into "example.org.corp.lan".
    opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS;
    // EDNS with the DNS flag day 2020 buffer size: SRV answers with many records fit in one UDP answer
    // instead of being truncated (512 bytes without EDNS) and asked again over TCP.
    opts.ednspsz = 1232;
    int mask =
        ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
    char dns_only[] = "b";  // c-ares lookup order: "b" is DNS ("bind"), "f" the hosts file
    if (hosts == HostsFile::kIgnore) {
      opts.lookups = dns_only;
      mask |= ARES_OPT_LOOKUPS;
    }
    int rc = ares_init_options(&channel_, &opts, mask);
    if (rc != ARES_SUCCESS) throw ConfigError(std::string("DNS resolver: ") + ares_strerror(rc));
    if (config.servers.empty()) return;
    std::vector<ares_addr_port_node> nodes(config.servers.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      const auto& s = config.servers[i];
      ares_addr_port_node& n = nodes[i];
      n.next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
      n.family = s.ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
      if (inet_pton(n.family, s.ip.c_str(), &n.addr) != 1)
        throw ConfigError("dns.servers: bad address " + s.ip);
      n.udp_port = n.tcp_port = s.port;
    }
    rc = ares_set_servers_ports(channel_, nodes.data());
    if (rc != ARES_SUCCESS) throw ConfigError(std::string("dns.servers: ") + ares_strerror(rc));
  }

  // --- c-ares sockets through Asio ---

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->sock_state(fd, readable != 0, writable != 0);
  }

  void sock_state(int fd, bool readable, bool writable) {
    auto it = watches_.find(fd);
    if (!readable && !writable) {
      // c-ares is about to close fd: forget it without letting Asio close it (release() also cancels
      // the pending waits, whose handlers then find no watch with their id).
      if (it != watches_.end()) {
        it->second->descriptor.release();
        watches_.erase(it);
      }
      return;
    }
    if (it == watches_.end()) it = watches_.emplace(fd, std::make_unique<Watch>(io_, fd, ++watch_ids_)).first;
    it->second->want_read = readable;
    it->second->want_write = writable;
    if (!destroying_) arm(fd, *it->second);
  }

  void arm(int fd, Watch& w) {
    std::weak_ptr<Impl> weak = weak_from_this();
    if (w.want_read && !w.reading) {
      w.reading = true;
      w.descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                              [weak, fd, id = w.id](const boost::system::error_code& ec) {
                                if (auto self = weak.lock()) self->on_ready(fd, id, true, ec);
                              });
    }
    if (w.want_write && !w.writing) {
      w.writing = true;
      w.descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                              [weak, fd, id = w.id](const boost::system::error_code& ec) {
                                if (auto self = weak.lock()) self->on_ready(fd, id, false, ec);
                              });
    }
  }

  void on_ready(int fd, uint64_t id, bool read, const boost::system::error_code& ec) {
    auto it = watches_.find(fd);
    if (it == watches_.end() || it->second->id != id) return;
    (read ? it->second->reading : it->second->writing) = false;
    if (ec) return;
    ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
    // Processing may have closed the socket (or another one opened on the same number).
    it = watches_.find(fd);
    if (it != watches_.end() && it->second->id == id) arm(fd, *it->second);
    schedule_timeout();
  }

  // c-ares decides when a query times out and a server is retried; we only wake it up then.
  void schedule_timeout() {
    timeval tv{};
    if (!ares_timeout(channel_, nullptr, &tv)) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    std::weak_ptr<Impl> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        self->schedule_timeout();
      }
    });
  }

  // Results always reach the caller through the event loop, never from inside the call that asked
  // (c-ares answers some queries at once, e.g. from /etc/hosts), and never after the resolver is gone.
  template <typename Result>
  void deliver(std::function<void(Result)> done, Result result) {
    if (destroying_) return;
    std::weak_ptr<Impl> weak = weak_from_this();
    asio::post(io_, [weak, done = std::move(done), result = std::move(result)]() mutable {
      if (weak.lock()) done(std::move(result));
    });
  }

  // --- queries ---

  struct SrvQuery {
    Impl* impl;
    std::function<void(SrvResult)> done;
  };

  static void on_srv(void* arg, int status, int, unsigned char* abuf, int alen) {
    std::unique_ptr<SrvQuery> q(static_cast<SrvQuery*>(arg));
    if (status != ARES_SUCCESS)
      return q->impl->deliver<SrvResult>(std::move(q->done), tl::unexpected(from_ares(status)));
    ares_srv_reply* reply = nullptr;
    int rc = ares_parse_srv_reply(abuf, alen, &reply);
    if (rc != ARES_SUCCESS)
      return q->impl->deliver<SrvResult>(std::move(q->done), tl::unexpected(from_ares(rc)));
    std::vector<SrvRecord> records;
    for (ares_srv_reply* r = reply; r; r = r->next)
      records.push_back(SrvRecord{normalize_target(r->host), r->port, r->priority, r->weight});
    ares_free_data(reply);
    q->impl->deliver<SrvResult>(std::move(q->done), std::move(records));
  }

  struct AddressQuery {
    Impl* impl;
    std::function<void(AddressResult)> done;
  };

  static void on_addresses(void* arg, int status, int, ares_addrinfo* res) {
    std::unique_ptr<AddressQuery> q(static_cast<AddressQuery*>(arg));
    if (status != ARES_SUCCESS) {
      if (res) ares_freeaddrinfo(res);
      return q->impl->deliver<AddressResult>(std::move(q->done), tl::unexpected(from_ares(status)));
    }
    std::vector<std::string> out;
    for (ares_addrinfo_node* n = res ? res->nodes : nullptr; n; n = n->ai_next) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* addr =
          n->ai_family == AF_INET6
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(n->ai_addr)->sin6_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(n->ai_addr)->sin_addr);
      if ((n->ai_family == AF_INET || n->ai_family == AF_INET6) &&
          inet_ntop(n->ai_family, addr, text, sizeof text))
        out.emplace_back(text);
    }
    if (res) ares_freeaddrinfo(res);
    if (out.empty())
      return q->impl->deliver<AddressResult>(std::move(q->done), tl::unexpected(DnsError::kNoData));
    q->impl->deliver<AddressResult>(std::move(q->done), std::move(out));
  }

  asio::io_context& io_;
  asio::steady_timer timer_;
  ares_channel channel_ = nullptr;
  std::unordered_map<int, std::unique_ptr<Watch>> watches_;
  uint64_t watch_ids_ = 0;
  bool destroying_ = false;
};

DnsResolver::DnsResolver(asio::io_context& io, const DnsConfig& config, HostsFile hosts)
    : impl_(std::make_shared<Impl>(io)) {
  impl_->init(config, hosts);
}

DnsResolver::~DnsResolver() = default;

void DnsResolver::resolve_srv(std::string_view service, std::string_view domain,
                              std::function<void(SrvResult)> done) {
  auto name = query_name(domain);
  if (!name) return impl_->deliver<SrvResult>(std::move(done), tl::unexpected(name.error()));
  std::string qname = "_" + std::string(service) + "._tcp." + *name;
  ares_query(impl_->channel_, qname.c_str(), ns_c_in, ns_t_srv, &Impl::on_srv,
             new Impl::SrvQuery{impl_.get(), std::move(done)});
  impl_->schedule_timeout();
}

void DnsResolver::resolve_s2s_srv(std::string_view domain, std::function<void(SrvResult, SrvResult)> done) {
  // Both queries run at once; whichever answers second completes the pair.
  struct Pair {
    std::function<void(SrvResult, SrvResult)> done;
    std::optional<SrvResult> xmpps, xmpp;
    void complete() {
      if (xmpps && xmpp) done(std::move(*xmpps), std::move(*xmpp));
    }
  };
  auto pair = std::make_shared<Pair>();
  pair->done = std::move(done);
  resolve_srv("xmpps-server", domain, [pair](SrvResult r) {
    pair->xmpps = std::move(r);
    pair->complete();
  });
  resolve_srv("xmpp-server", domain, [pair](SrvResult r) {
    pair->xmpp = std::move(r);
    pair->complete();
  });
}

void DnsResolver::resolve_addresses(std::string_view host, std::function<void(AddressResult)> done) {
  auto name = query_name(host);
  if (!name) return impl_->deliver<AddressResult>(std::move(done), tl::unexpected(name.error()));
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  ares_getaddrinfo(impl_->channel_, name->c_str(), nullptr, &hints, &Impl::on_addresses,
                   new Impl::AddressQuery{impl_.get(), std::move(done)});
  impl_->schedule_timeout();
}

}  // namespace causerie::net
