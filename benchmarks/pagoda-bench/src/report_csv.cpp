// One CSV table, a row per (model, policy, test) — a refused or failed run is
// one more row with its status and reason — with each run's load figures and
// the machine's two bandwidths repeated on every row, so a spreadsheet needs
// nothing else.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "pagoda_bench/report.hpp"

namespace pagoda::bench {

namespace {

constexpr const char* columns[] = {
    "model", "model_path", "size_bytes", "params", "policy", "auto_chosen", "status", "reason", "test", "n_prompt",
    "n_gen", "n_depth", "repetitions", "avg_ts", "stddev_ts", "samples_ts", "roofline_percent", "load_seconds",
    "vram_delta_bytes", "working_vram_bytes", "host_registered_bytes", "page_cache_bytes", "rss_bytes",
    "weight_bytes_per_token", "read_from", "read_gb_s", "device_read_gb_s", "host_read_gb_s"};

// RFC 4180: quote fields holding a comma, quote or line break; double the quotes.
std::string field(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string number(double value) { return fmt::format("{:.3f}", value); }

std::string line(const std::vector<std::string>& fields) {
  std::string text;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) text += ',';
    text += field(fields[i]);
  }
  return text + "\n";
}

std::string optional_number(const std::optional<LinkMeasurement>& link) { return link ? number(link->gb_s) : ""; }

}  // namespace

std::string format_csv(const BenchReport& report) {
  std::string text = line(std::vector<std::string>(std::begin(columns), std::end(columns)));
  const std::string device_gb_s = optional_number(report.machine.device_read);
  const std::string host_gb_s = optional_number(report.machine.host_read);
  for (const PolicyRun& run : report.runs) {
    const LoadInfo& l = run.load;
    const bool loaded = run.status != RunStatus::refused;
    // The columns both a test row and a status row carry, split around the test's own.
    const std::vector<std::string> head{run.model.name, run.model.path, std::to_string(run.model.size_bytes),
                                        std::to_string(run.model.params), run.policy,
                                        run.auto_chosen ? "1" : "0"};
    const std::vector<std::string> tail{
        loaded ? number(l.seconds) : "", loaded ? std::to_string(l.vram_delta_bytes) : "",
        loaded ? std::to_string(l.working_vram_bytes) : "", loaded ? std::to_string(l.host_registered_bytes) : "",
        loaded ? std::to_string(l.page_cache_bytes) : "", loaded ? std::to_string(l.rss_bytes) : "",
        std::to_string(run.model.weight_bytes_per_token), run.link, run.link_gb_s > 0 ? number(run.link_gb_s) : "",
        device_gb_s, host_gb_s};
    const auto emit = [&](std::vector<std::string> middle) {
      std::vector<std::string> fields = head;
      fields.insert(fields.end(), middle.begin(), middle.end());
      fields.insert(fields.end(), tail.begin(), tail.end());
      text += line(fields);
    };
    for (const TestResult& t : run.tests) {
      const Summary s = t.summary();
      std::string samples;
      for (double tps : t.tokens_per_second()) {
        if (!samples.empty()) samples += ';';
        samples += number(tps);
      }
      emit({"ok", "", t.test.name(), std::to_string(t.test.n_prompt), std::to_string(t.test.n_gen),
            std::to_string(t.test.n_depth), std::to_string(t.seconds.size()), number(s.mean), number(s.stddev),
            samples, t.roofline_percent ? number(*t.roofline_percent) : ""});
    }
    if (run.status != RunStatus::ok) emit({name_of(run.status), run.reason, "", "", "", "", "", "", "", "", ""});
  }
  return text;
}

}  // namespace pagoda::bench
