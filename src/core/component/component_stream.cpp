#include "core/component/component_stream.hpp"

#include <spdlog/spdlog.h>

#include "core/util/encoding.hpp"
#include "core/util/metrics.hpp"
#include "core/xml/namespaces.hpp"

namespace causerie::component {

void ComponentStream::release() {
  if (!attached_) return;
  // Before our closing tag goes out: once the component sees it, the domain is free for its next
  // connection and stanzas for it bounce.
  registry_.detach(accept_.domain(), ref_);
  attached_ = false;
  spdlog::info("component {} disconnected", accept_.domain());
}

void ComponentStream::fail(const ComponentAccept::Failure& failure) {
  if (closing_) return;
  closing_ = true;
  accept_.close();
  release();
  if (!header_sent_) {
    // RFC 6120 §4.9.1.1: even an error needs our stream header first.
    StreamHeader h{ns::kComponentAccept, config_.hosts.front().name, {}, util::random_id()};
    h.version = false;
    t_.open(h);
    header_sent_ = true;
  }
  spdlog::info("component {} ({}): stream error {}{}{}", accept_.domain().empty() ? "?" : accept_.domain(),
               t_.peer_address(), to_string(failure.condition), failure.text.empty() ? "" : ": ", failure.text);
  t_.close(stream_error_xml(failure.condition, failure.text));
}

void ComponentStream::on_stream_open(const xml::Element& header, std::string_view content_ns) {
  if (header_sent_) {
    // A second header on the same stream: this protocol has no restarts.
    fail({StreamErrorCondition::kBadFormat, "the stream is already open"});
    return;
  }
  auto opened = accept_.open(header, content_ns, util::random_id());
  t_.open(opened.reply);
  header_sent_ = true;
  if (opened.failure) fail(*opened.failure);
}

void ComponentStream::on_element(xml::Element&& el) {
  switch (accept_.state()) {
    case ComponentAccept::State::kHandshake: handshake(el); return;
    case ComponentAccept::State::kEstablished: stanza(std::move(el)); return;
    case ComponentAccept::State::kHeader: fail({StreamErrorCondition::kBadFormat, {}}); return;
    case ComponentAccept::State::kClosed: return;
  }
}

void ComponentStream::handshake(const xml::Element& el) {
  if (auto failure = accept_.handshake(el)) {
    fail(*failure);
    return;
  }
  if (!registry_.attach(accept_.domain(), ref_)) {
    // See ComponentRegistry: the component already connected keeps its domain.
    fail({StreamErrorCondition::kConflict, "a component is already connected for " + accept_.domain()});
    return;
  }
  attached_ = true;
  accept_.established();
  t_.set_established();
  t_.send(OutStanza{std::make_shared<const std::string>("<handshake/>"), {}, StanzaKind::kOther});
  spdlog::info("component {} connected from {}", accept_.domain(), t_.peer_address());
}

void ComponentStream::stanza(xml::Element&& el) {
  auto checked = accept_.stanza(std::move(el));
  if (auto* failure = std::get_if<ComponentAccept::Failure>(&checked)) {
    fail(*failure);
  } else if (auto* reply = std::get_if<xml::Element>(&checked)) {
    t_.send(serialize_out(*reply));
  } else if (auto* st = std::get_if<Stanza>(&checked)) {
    metrics::count_stanza(true, static_cast<uint8_t>(st->kind()));
    try {
      router_.route(std::move(*st));
    } catch (const std::exception& e) {
      spdlog::error("component {}: routing failed: {}", accept_.domain(), e.what());
    }
  }
}

void ComponentStream::on_stream_close() {
  if (closing_) return;
  closing_ = true;
  accept_.close();
  release();
  t_.close({});
}

void ComponentStream::on_parse_error(xml::StreamParser::Error error, const std::string& text) {
  using E = xml::StreamParser::Error;
  switch (error) {
    case E::kRestrictedXml: fail({StreamErrorCondition::kRestrictedXml, text}); break;
    case E::kTooLarge:
    case E::kTooDeep: fail({StreamErrorCondition::kPolicyViolation, text}); break;
    case E::kBadFormat: fail({StreamErrorCondition::kBadFormat, text}); break;
    default: fail({StreamErrorCondition::kNotWellFormed, text}); break;
  }
}

void ComponentStream::on_timeout() {
  fail({StreamErrorCondition::kConnectionTimeout, "the handshake took too long"});
}

void ComponentStream::on_shutdown() {
  fail({StreamErrorCondition::kSystemShutdown, "the server is shutting down"});
}

void ComponentStream::deliver(OutStanza out) {
  if (accept_.state() != ComponentAccept::State::kEstablished) return;
  metrics::count_stanza(false, static_cast<uint8_t>(out.kind));
  t_.send(std::move(out));
}

void ComponentStream::on_disconnect() {
  if (disconnected_) return;
  disconnected_ = true;
  accept_.close();
  release();
}

}  // namespace causerie::component
