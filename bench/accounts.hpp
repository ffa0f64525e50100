// Writing the benchmark accounts in the formats the three servers import (see accounts.cpp).
#pragma once

#include <string>

namespace causerie::bench {

struct AccountSpec {
  std::string format = "xep0227";  // xep0227 | ejabberd | prosody
  std::string out;                 // file (xep0227) or data directory (prosody)
  std::string domain = "localhost";
  std::string prefix = "u";
  std::string password = "bench-password";
  std::string salt = "causerie-bench-salt";
  std::string hashes = "both";  // xep0227: both | sha1 | sha256 (first one only); prosody: sha1 | sha256
  unsigned iterations = 4096;
  unsigned count = 1000;
  unsigned roster_users = 0;  // the first N accounts get ring rosters
  unsigned roster_size = 100;
};

void write_accounts(const AccountSpec& spec);

}  // namespace causerie::bench
