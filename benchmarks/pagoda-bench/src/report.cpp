#include "pagoda_bench/report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace pagoda::bench {

std::string cuda_version_text(int version) { return fmt::format("{}.{}", version / 1000, version % 1000 / 10); }

std::string link_text(const PolicyRun& run) {
  if (run.link.empty()) return "-";
  if (run.link_gb_s <= 0) return run.link + " (not measured)";
  return fmt::format("{} {:.1f} GB/s", run.link, run.link_gb_s);
}

std::string format_json(const BenchReport& report) { return to_json(report).dump(2) + "\n"; }

std::string format_report(OutputFormat format, const BenchReport& report) {
  switch (format) {
    case OutputFormat::markdown: return format_markdown(report);
    case OutputFormat::csv: return format_csv(report);
    case OutputFormat::json: return format_json(report);
  }
  return format_markdown(report);
}

}  // namespace pagoda::bench
