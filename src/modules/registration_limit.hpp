// RegistrationLimit: at most N accounts created from one client address in the last hour (XEP-0077 §11,
// abuse), for in-band registration (register.cpp) and the invitation page (invites/invites_module.cpp).
//
// Thread rules: any thread (its own mutex).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace causerie::modules {

class RegistrationLimit {
 public:
  // Counts one creation from `address` and says whether it is allowed (false: over `per_hour`).
  bool allow(const std::string& address, unsigned per_hour) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    auto& v = recent_[address];
    std::erase_if(v, [&](auto t) { return now - t > std::chrono::hours(1); });
    if (v.size() >= per_hour) return false;
    v.push_back(now);
    return true;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::chrono::steady_clock::time_point>> recent_;
};

}  // namespace causerie::modules
