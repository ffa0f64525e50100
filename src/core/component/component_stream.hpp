// ComponentStream: the jabber:component:accept stream protocol (XEP-0114 v1.6) on one connection from an
// external component: the handshake (ComponentAccept decides, this class carries it out), then stanzas
// from the component routed like any other, and stanzas for its domain (queued by ComponentRegistry on
// this connection's worker) written to it. Once the handshake succeeds the transport's establishment
// deadline (limits.unauthenticated_timeout) no longer applies. The domain is given back to the registry
// as soon as either side ends the stream, before our closing tag is written.
//
// It is the StreamHandler of one StreamTransport, which owns it. Thread rules: lives on one worker
// thread; every method runs there.
#pragma once

#include "core/component/component_accept.hpp"
#include "core/component/component_registry.hpp"
#include "core/router/router.hpp"
#include "core/stream/stream_transport.hpp"

namespace causerie::component {

class ComponentStream final : public StreamHandler {
 public:
  ComponentStream(const Config& config, Router& router, ComponentRegistry& registry, StreamTransport& transport,
                  SessionRef ref)
      : accept_(config), config_(config), router_(router), registry_(registry), t_(transport), ref_(ref) {}

  void on_stream_open(const xml::Element& header, std::string_view content_ns) override;
  void on_element(xml::Element&& el) override;
  void on_stream_close() override;
  void on_parse_error(xml::StreamParser::Error error, const std::string& text) override;
  void on_tls_established() override {}  // component streams have no STARTTLS
  void on_timeout() override;
  void on_disconnect() override;
  void on_shutdown() override;
  void deliver(OutStanza out) override;
  std::string name() const override { return "component " + accept_.domain(); }

 private:
  void fail(const ComponentAccept::Failure& failure);
  // Gives the domain back to the registry (once).
  void release();
  void handshake(const xml::Element& el);
  void stanza(xml::Element&& el);

  ComponentAccept accept_;
  const Config& config_;
  Router& router_;
  ComponentRegistry& registry_;
  StreamTransport& t_;
  SessionRef ref_;
  bool header_sent_ = false;
  bool closing_ = false;   // our side of the stream is ending
  bool attached_ = false;  // this connection serves accept_.domain() in the registry
  bool disconnected_ = false;
};

}  // namespace causerie::component
