// AccountStore: the server's accounts, one row per bare JID with its SCRAM credentials (never a
// password), plus a generation counter that lets the login credential cache notice changes made by
// another process (`causerie user`). Disabled accounts (XEP-0133) are listed apart.
//
// Thread rules: as every store, used only on a storage lane (see storage.hpp). Failures throw StorageError.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sasl/scram.hpp"

namespace causerie::storage {

struct Account {
  std::string jid;  // bare JID, prepared
  sasl::ScramCredentials sha1, sha256;
  int64_t created = 0;  // unix seconds
  bool disabled = false;  // XEP-0133 §4.3: kept, but cannot log in
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // False when the account already exists.
  virtual bool create(const Account& account) = 0;
  virtual std::optional<Account> get(std::string_view jid) = 0;
  virtual bool exists(std::string_view jid) = 0;
  virtual bool set_credentials(std::string_view jid, const sasl::ScramCredentials& sha1,
                               const sasl::ScramCredentials& sha256) = 0;
  // Removes the account and every piece of data stored for it. False when it did not exist.
  virtual bool remove(std::string_view jid) = 0;
  virtual std::vector<std::string> list(std::string_view host) = 0;
  virtual size_t count_accounts(std::string_view host) = 0;
  // Disables or re-enables an account (XEP-0133 §§4.3–4.4). False when it does not exist.
  virtual bool set_disabled(std::string_view jid, bool disabled) = 0;
  virtual std::vector<std::string> list_disabled(std::string_view host) = 0;
  // A number that changes whenever any account is created, changed or removed, by any process.
  virtual int64_t generation() = 0;
};

}  // namespace causerie::storage
