// PageScenario: the frame of the scenarios that time one account's page queries (mam-page, feed-page).
// u0 logs in on worker 0 and keeps --window queries in flight, each of a kind named by the scenario; a
// query's latency runs from its send to its iq answer, recorded per kind while measuring; an answer the
// scenario finds wrong is counted and invalidates the run. The scenario builds the queries (send_query)
// and judges the answers (answered). Worker 0 owns the connection and the queries in flight; control()
// runs on the main thread and reads the figures under the mutex.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scenario.hpp"

namespace causerie::bench {

class PageScenario : public Scenario, protected ConnHandler {
 public:
  void start(Worker& w) override;
  void tick(Worker& w) override;

 protected:
  PageScenario(const Options& o, std::vector<std::string> kind_names);

  // Worker 0: the next query, given to send().
  virtual void send_query() = 0;
  // Worker 0: sends the iq `xml` whose id is `id`, counted in flight as a query of `kind`.
  void send(std::string id, unsigned kind, const std::string& xml);
  // Worker 0: the iq answering query `id` arrived; check(kind) says what is wrong with it ("" if nothing).
  // Returns false when `id` is no query in flight.
  bool answered(std::string_view id, const std::function<std::string(unsigned kind)>& check);
  // Main thread, after the scenario's params: waits for u0's login, measures, fills figures and problems.
  void measure_pages(Report& r);

  void on_ready(Conn& c) override;
  void on_closed(Conn&, bool was_ready, std::string_view why) override;

  Options o_;

 private:
  struct Pending {
    unsigned kind;
    int64_t sent_ns;
  };
  std::vector<std::string> kind_names_;
  std::atomic<bool> ready_{false}, failed_{false}, measuring_{false}, stopping_{false};
  std::atomic<uint64_t> done_{0};
  Conn* conn_ = nullptr;                                 // worker 0's
  std::unordered_map<std::string, Pending> in_flight_;  // worker 0's
  std::mutex mu_;  // guards what follows, read by control()
  unsigned outstanding_ = 0;
  bool dropped_ = false;
  uint64_t bad_ = 0;
  std::string first_bad_;
  std::vector<Histogram> latency_;  // per kind
  LastError error_;
};

}  // namespace causerie::bench
