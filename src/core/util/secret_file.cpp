#include "core/util/secret_file.hpp"

#include <filesystem>
#include <fstream>

#include "core/config/config.hpp"
#include "core/util/encoding.hpp"

namespace causerie::util {

std::string load_or_create_secret(const std::string& path, size_t min_length) {
  std::string secret;
  if (std::ifstream in(path); in && std::getline(in, secret) && secret.size() >= min_length) return secret;
  secret = hex_encode(random_bytes(32));
  std::ofstream out(path, std::ios::trunc);
  out << secret << "\n";
  if (!out) throw ConfigError("cannot write " + path);
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return secret;
}

}  // namespace causerie::util
