// StreamExtensions: what modules add to client streams: stream features (RFC 6120 §4.3.2) before and
// after authentication, handlers for top-level non-stanza elements ("nonzas": XEP-0198, XEP-0352, …),
// iq handlers allowed before authentication (XEP-0077 registration), and output filters that may hold
// back stanzas on their way to a client (XEP-0352). Filled at startup; read-only after.
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

class StreamExtensions {
 public:
  void add_feature(FeatureStage stage, FeatureFn fn) { features_[static_cast<int>(stage)].push_back(std::move(fn)); }
  void add_nonza_handler(std::string ns, NonzaHandler h) { nonzas_[std::move(ns)] = std::move(h); }
  void add_output_filter(OutputFilter f) { output_filters_.push_back(std::move(f)); }
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
  IqTable preauth_iq_;
  size_t next_slot_ = 0;
  unsigned next_flag_ = 0;
};

}  // namespace causerie
