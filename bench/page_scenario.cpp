#include "page_scenario.hpp"

namespace causerie::bench {

PageScenario::PageScenario(const Options& o, std::vector<std::string> kind_names)
    : o_(o), kind_names_(std::move(kind_names)), latency_(kind_names_.size()) {}

void PageScenario::start(Worker& w) {
  if (w.index() == 0) w.open(o_.ep, o_.login(0), this);
}

void PageScenario::tick(Worker& w) {
  if (w.index() != 0 || !conn_ || stopping_) return;
  while (in_flight_.size() < o_.window) send_query();
}

void PageScenario::send(std::string id, unsigned kind, const std::string& xml) {
  {
    std::lock_guard lock(mu_);
    ++outstanding_;
  }
  in_flight_.emplace(std::move(id), Pending{kind, now_ns()});
  conn_->send(xml);
}

bool PageScenario::answered(std::string_view id, const std::function<std::string(unsigned kind)>& check) {
  auto it = in_flight_.find(std::string(id));
  if (it == in_flight_.end()) return false;
  Pending p = it->second;
  in_flight_.erase(it);
  int64_t us = (now_ns() - p.sent_ns) / 1000;
  std::string wrong = check(p.kind);
  std::lock_guard lock(mu_);
  --outstanding_;
  if (!wrong.empty()) {
    if (!bad_++) first_bad_ = kind_names_[p.kind] + " page: " + wrong;
  } else if (measuring_) {
    latency_[p.kind].record(us);
    done_.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void PageScenario::measure_pages(Report& r) {
  if (!wait_until([&] { return ready_ || failed_; }, o_.timeout) || failed_) {
    r.problem("u0 did not log in: " + error_.get());
    return;
  }
  Measurement m = measure(
      o_, [] {}, [&] { return done_.load(); }, [&] { stopping_ = true; },
      [&] {
        std::lock_guard lock(mu_);
        return outstanding_ == 0 || dropped_;
      },
      &measuring_);
  std::lock_guard lock(mu_);
  Histogram all;
  for (const auto& h : latency_) all.merge(h);
  r.figures.add("queries", m.counted).add("queries_per_s", m.per_second())
      .add("page_ms_p50", static_cast<double>(all.percentile(50)) / 1000.0)
      .add("page_ms_p99", static_cast<double>(all.percentile(99)) / 1000.0)
      .add("page_ms_max", static_cast<double>(all.max()) / 1000.0);
  for (size_t k = 0; k < kind_names_.size(); ++k)
    r.figures.add(kind_names_[k] + "_ms_p50", static_cast<double>(latency_[k].percentile(50)) / 1000.0)
        .add(kind_names_[k] + "_ms_p99", static_cast<double>(latency_[k].percentile(99)) / 1000.0);
  m.cpu.report(r.figures, "queries", static_cast<double>(m.counted));
  if (m.counted == 0) r.problem("no query answered");
  if (bad_) r.problem(std::to_string(bad_) + " queries answered wrongly, e.g. " + first_bad_);
  if (!m.drained) r.problem(std::to_string(outstanding_) + " queries unanswered after sending stopped");
  if (dropped_) r.problem("u0's session dropped: " + error_.get());
}

void PageScenario::on_ready(Conn& c) {
  conn_ = &c;
  ready_ = true;
}

void PageScenario::on_closed(Conn&, bool was_ready, std::string_view why) {
  conn_ = nullptr;
  std::lock_guard lock(mu_);
  if (was_ready) dropped_ = true;
  else failed_ = true;
  error_.set(why);
}

}  // namespace causerie::bench
