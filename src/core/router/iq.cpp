#include "core/router/iq.hpp"

namespace causerie {

namespace {
const xml::Element kEmpty;
}

IqResponder::IqResponder(const Stanza& request, Sink sink) : state_(std::make_shared<State>()) {
  state_->sink = std::move(sink);
  state_->id = std::string(request.id());
  state_->requester = request.from();
  state_->responder = request.to();
}

// Errors do not echo the request's payload (RFC 6120 §8.3.1 makes it optional): it may hold a
// password (XEP-0077 §3.3) or be large.
IqResponder::State::~State() {
  // Unreachable in correct code; the client still gets its one reply (DESIGN §3).
  if (!answered.exchange(true)) {
    StanzaError err(StanzaErrorCondition::kInternalServerError, "the request was not answered");
    xml::Element iq("iq", "jabber:client");
    iq.set_attr("type", "error");
    iq.add(err.to_element());
    send(std::move(iq));
  }
}

void IqResponder::State::send(xml::Element reply) {
  if (!sink) return;
  reply.set_attr("id", id);
  sink(Stanza(std::move(reply), responder, requester));
}

bool IqResponder::answered() const { return !state_ || state_->answered.load(); }

void IqResponder::result() const {
  if (!state_ || state_->answered.exchange(true)) return;
  xml::Element iq("iq", "jabber:client");
  iq.set_attr("type", "result");
  state_->send(std::move(iq));
}

void IqResponder::result(xml::Element payload) const {
  if (!state_ || state_->answered.exchange(true)) return;
  xml::Element iq("iq", "jabber:client");
  iq.set_attr("type", "result");
  iq.add(std::move(payload));
  state_->send(std::move(iq));
}

void IqResponder::error(const StanzaError& error) const {
  if (!state_ || state_->answered.exchange(true)) return;
  xml::Element iq("iq", "jabber:client");
  iq.set_attr("type", "error");
  iq.add(error.to_element());
  state_->send(std::move(iq));
}

const xml::Element& IqRequest::payload() const {
  const xml::Element* p = stanza.element().child();
  return p ? *p : kEmpty;
}

void IqTable::add(bool set, std::string ns, IqHandler handler, std::string element) {
  entries_.push_back(Entry{set, std::move(ns), std::move(element), std::move(handler)});
}

const IqHandler* IqTable::find(const Stanza& iq) const {
  bool set = iq.type() == "set";
  const xml::Element* p = iq.element().child();
  if (!p) return nullptr;
  for (const auto& e : entries_)
    if (e.set == set && e.ns == p->ns() && (e.element.empty() || e.element == p->name())) return &e.handler;
  return nullptr;
}

bool IqTable::handles_namespace(std::string_view ns) const {
  for (const auto& e : entries_)
    if (e.ns == ns) return true;
  return false;
}

bool IqTable::dispatch(IqRequest& req) const {
  std::string_view type = req.stanza.type();
  if (type != "get" && type != "set") return false;
  // RFC 6120 §8.2.3: a get or set has exactly one child element.
  if (req.stanza.element().element_count() != 1) {
    req.reply.error(StanzaError(StanzaErrorCondition::kBadRequest, "an iq get or set carries exactly one payload"));
    return true;
  }
  if (const IqHandler* h = find(req.stanza)) {
    (*h)(req);
  } else {
    req.reply.error(StanzaError(StanzaErrorCondition::kServiceUnavailable));
  }
  return true;
}

}  // namespace causerie
