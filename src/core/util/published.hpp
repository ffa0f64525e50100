// Published<T>: a value that many threads read without locks and one thread at a time replaces now and
// then (at startup and on reloads): the hosts and services the router serves, the configuration in force,
// a module's per-host services.
//
// Each published value is immutable and kept until the Published ends, so a reference taken from get()
// stays valid after a later publish() (it is then only stale): readers pay one atomic load. Meant for
// rare changes of small values; publish() serialises writers.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace causerie {

template <class T>
class Published {
 public:
  explicit Published(T initial = T{}) { publish(std::move(initial)); }
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  const T& get() const { return *current_.load(std::memory_order_acquire); }

  const T& publish(T next) {
    std::lock_guard lock(mutex_);
    all_.push_back(std::make_unique<const T>(std::move(next)));
    current_.store(all_.back().get(), std::memory_order_release);
    return *all_.back();
  }

  // Replaces the value with what `change` makes of a copy of the current one (writers serialised, so
  // two updates never lose each other's change).
  template <class Fn>
  const T& update(Fn&& change) {
    std::lock_guard lock(mutex_);
    T next = *all_.back();
    change(next);
    all_.push_back(std::make_unique<const T>(std::move(next)));
    current_.store(all_.back().get(), std::memory_order_release);
    return *all_.back();
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<const T>> all_;  // every value published, oldest first
  std::atomic<const T*> current_{nullptr};
};

}  // namespace causerie
