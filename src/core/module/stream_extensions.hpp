// StreamExtensions: what modules add to client streams: stream features (RFC 6120 §4.3.2) before and
// after authentication, handlers for top-level non-stanza elements ("nonzas": XEP-0198, XEP-0352, …),
// iq handlers allowed before authentication (XEP-0077 registration), and output filters that may hold
// back stanzas on their way to a client (XEP-0352), and session features a client may ask for inline in
// a XEP-0386 Bind 2 request (carbons, CSI), so the core binds without knowing those modules. Filled at
// startup; read-only after.
#pragma once

#include <stdexcept>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/module/client_session.hpp"
#include "core/router/iq.hpp"

namespace causerie {

enum class FeatureStage { kPreAuth, kPostAuth };
using FeatureFn = std::function<std::optional<xml::Element>(const ClientSession&)>;
using NonzaHandler = std::function<void(ClientSession&, xml::Element&&)>;
// Sees every stanza (not nonzas) a session is about to send its client, on the session's thread, before
// XEP-0198 counts it. Returns true when it takes the stanza to send later itself, through
// ClientSession::release (which passes no filter again), or never.
using OutputFilter = std::function<bool(ClientSession&, OutStanza&)>;
// XEP-0386 §"Performing the bind": a child of the client's <bind xmlns='urn:xmpp:bind:0'/> in the
// handler's namespace, run on the session's thread once the resource is bound and before <success/>
// is sent; what it returns goes into <bound/> (nothing, for a feature that cannot fail).
using Bind2Handler = std::function<std::optional<xml::Element>(ClientSession&, const xml::Element& request)>;

class StreamExtensions {
 public:
  void add_feature(FeatureStage stage, FeatureFn fn) { features_[static_cast<int>(stage)].push_back(std::move(fn)); }
  void add_nonza_handler(std::string ns, NonzaHandler h) { nonzas_[std::move(ns)] = std::move(h); }
  void add_output_filter(OutputFilter f) { output_filters_.push_back(std::move(f)); }
  // `ns` is also the feature advertised in Bind 2's <inline/> (its disco feature name).
  void add_bind2_feature(std::string ns, Bind2Handler h) {
    bind2_vars_.push_back(ns);
    bind2_[std::move(ns)] = std::move(h);
  }
  const std::vector<std::string>& bind2_features() const { return bind2_vars_; }
  const Bind2Handler* bind2_handler(const std::string& ns) const {
    auto it = bind2_.find(ns);
    return it == bind2_.end() ? nullptr : &it->second;
  }
  const std::vector<OutputFilter>& output_filters() const { return output_filters_; }
  IqTable& preauth_iq() { return preauth_iq_; }
  const IqTable& preauth_iq() const { return preauth_iq_; }

  void append_features(FeatureStage stage, const ClientSession& s, xml::Element& features) const {
    for (const auto& fn : features_[static_cast<int>(stage)])
      if (auto f = fn(s)) features.add(std::move(*f));
  }
  const NonzaHandler* nonza_handler(const std::string& ns) const {
    auto it = nonzas_.find(ns);
    return it == nonzas_.end() ? nullptr : &it->second;
  }

  size_t allocate_slot() { return next_slot_++; }
  uint32_t allocate_flag() {
    if (next_flag_ >= 32) throw std::logic_error("out of session flags");
    return 1u << next_flag_++;
  }

 private:
  std::vector<FeatureFn> features_[2];
  std::unordered_map<std::string, NonzaHandler> nonzas_;
  std::vector<OutputFilter> output_filters_;
  std::unordered_map<std::string, Bind2Handler> bind2_;
  std::vector<std::string> bind2_vars_;
  IqTable preauth_iq_;
  size_t next_slot_ = 0;
  unsigned next_flag_ = 0;
};

}  // namespace causerie
