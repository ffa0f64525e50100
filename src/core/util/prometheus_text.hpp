// PrometheusText: writes metric families in the Prometheus text exposition format, version 0.0.4 (one
// `# HELP` and `# TYPE` line per family, then its samples, label values escaped, newline-terminated).
// A value type with no I/O, used by the admin listener's /metrics page and tested on its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causerie {

class PrometheusText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Starts a family; `type` is counter, gauge, histogram or untyped. Families must not repeat.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (for histograms: name_bucket, name_sum, name_count).
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }

  const std::string& text() const { return out_; }

  // 0.0.4 rules: "\\" and "\n" escaped in HELP; "\\", "\"" and "\n" in label values; values as Go
  // formats floats ("+Inf", "-Inf", "NaN"), integers without an exponent.
  static std::string escape_label(std::string_view v);
  static std::string format_value(double v);

 private:
  std::string out_;
};

}  // namespace causerie
