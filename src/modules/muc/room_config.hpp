// XEP-0045 v1.35 §10.1.3 and §10.2: the muc#roomconfig data form (XEP-0004) — building it for an owner,
// applying a submitted one — the status codes that announce a change (§10.2.1), and the stored form of
// a configuration. Pure functions, any thread; tests: tests/unit/muc_room_config_test.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "core/stanza/errors.hpp"
#include "core/xml/data_form.hpp"
#include "modules/muc/muc_types.hpp"

namespace causerie::modules::muc {

struct ConfigLimits {
  uint32_t max_users = 1000;     // the service maximum of occupants per room
  uint32_t max_history = 50;     // the service maximum of muc#maxhistoryfetch
  size_t max_text = 1024;        // room name, description, password (bytes)
  size_t max_list = 1000;        // entries in the owner and admin lists of one form
};

// Our room option for registration (§7.10, muc_types.hpp Registration): list-single auto|approval|none.
inline constexpr const char* kRegistrationField = "{urn:causerie:muc}registration";

// The form sent to an owner (type 'form'), filled with the current values and the full owner/admin lists.
xml::DataForm config_form(const RoomConfig& c, const std::vector<std::string>& owners,
                          const std::vector<std::string>& admins, const ConfigLimits& limits, std::string_view room);

struct ConfigSubmission {
  RoomConfig config;
  // Full lists (not deltas, §10.5 note), when the form carries the fields: prepared bare JIDs.
  std::optional<std::vector<std::string>> owners, admins;
};

// Applies a submitted form to `current`: absent fields keep their value, unknown fields are ignored.
// A value the service cannot accept is not-acceptable (§10.1.3), a form of another FORM_TYPE bad-request.
tl::expected<ConfigSubmission, StanzaError> apply_config_form(const xml::DataForm& form, const RoomConfig& current,
                                                              const ConfigLimits& limits);

// §10.2.1: 170/171 logging on/off, 172/173/174 now non-anonymous/semi-anonymous/fully anonymous, and 104
// for any other change. Empty when nothing changed.
std::vector<int> config_change_codes(const RoomConfig& before, const RoomConfig& after);

// The stored form of a configuration (a submitted data form) and back. A damaged value yields the
// defaults for whatever cannot be read.
std::string serialize_config(const RoomConfig& c);
RoomConfig deserialize_config(std::string_view text, const ConfigLimits& limits);

}  // namespace causerie::modules::muc
