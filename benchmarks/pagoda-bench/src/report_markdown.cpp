// The markdown page: what README tables and issue notes are pasted from.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "pagoda_bench/report.hpp"
#include "pagoda_bench/units.hpp"

namespace pagoda::bench {

namespace {

// A cell: '|' escaped and line breaks flattened, so a reason cannot break the table.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string row(const std::vector<std::string>& cells) {
  std::string line = "|";
  for (const std::string& c : cells) {
    line += ' ';
    line += cell(c);
    line += " |";
  }
  return line + "\n";
}

std::string link_line(std::string_view what, const std::optional<LinkMeasurement>& link, std::string_view problem) {
  if (!link) return fmt::format("- {}: not measured{}\n", what, problem.empty() ? "" : fmt::format(" ({})", problem));
  return fmt::format("- {}: {:.1f} GB/s ({}, median of {} passes)\n", what, link->gb_s, size_text(link->bytes),
                     link->passes);
}

std::string header(const BenchReport& report) {
  const MachineInfo& m = report.machine;
  const BenchSettings& s = report.settings;
  std::string text = "## pagoda-bench\n\n";
  text += fmt::format("- device: {}, sm_{}{}, {}; driver {}, runtime {}\n", m.device_name, m.compute_major,
                      m.compute_minor, size_text(m.vram_total_bytes), cuda_version_text(m.driver_version),
                      cuda_version_text(m.runtime_version));
  text += link_line("streaming read of device memory", m.device_read, {});
  text += link_line("streaming read of pinned host memory (zero-copy)", m.host_read, m.host_read_problem);
  text += fmt::format("- {} repetition{} {}; random token ids, seed {}; prefill batch {}; CUDA graph {}; "
                      "programmatic launch {}; weight layout {}; decode step {}; context {}; pagoda {}\n",
                      s.repetitions, s.repetitions == 1 ? "" : "s", s.warmup ? "after 1 warm-up" : "without warm-up",
                      s.seed, s.batch, s.cuda_graph ? "on" : "off", s.programmatic_launch ? "on" : "off", s.layout, s.decode, s.context,
                      s.pagoda_version);
  return text;
}

std::string percent_text(const std::optional<double>& percent) {
  return percent ? fmt::format("{:.1f}%", *percent) : "";
}

std::string throughput_table(const BenchReport& report) {
  std::string text = row({"model", "size", "params", "policy", "test", "t/s", "% roofline"});
  text += "| --- | ---: | ---: | --- | --- | ---: | ---: |\n";
  for (const PolicyRun& run : report.runs) {
    const std::string size = size_text(run.model.size_bytes), params = count_text(run.model.params);
    for (const TestResult& t : run.tests) {
      const Summary s = t.summary();
      text += row({run.model.name, size, params, run.policy_label(), t.test.name(), mean_stddev_text(s.mean, s.stddev),
                   percent_text(t.roofline_percent)});
    }
    if (run.status != RunStatus::ok)
      text += row({run.model.name, size, params, run.policy_label(), "-",
                   fmt::format("{}: {}", name_of(run.status), run.reason), ""});
  }
  return text;
}

std::string load_table(const BenchReport& report) {
  std::string text = row({"model", "policy", "load s", "VRAM Δ", "working VRAM", "pinned host", "RSS", "page cache",
                          "weights/token", "read from", "tg % roofline"});
  text += "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |\n";
  for (const PolicyRun& run : report.runs) {
    if (run.status == RunStatus::refused) continue;  // shown, with its reason, in the table above
    const LoadInfo& l = run.load;
    text += row({run.model.name, run.policy_label(), fmt::format("{:.2f}", l.seconds),
                 signed_size_text(l.vram_delta_bytes), size_text(l.working_vram_bytes),
                 size_text(l.host_registered_bytes), size_text(l.rss_bytes), size_text(l.page_cache_bytes),
                 size_text(run.model.weight_bytes_per_token), link_text(run), percent_text(run.tg_roofline_percent())});
  }
  return text;
}

}  // namespace

std::string format_markdown(const BenchReport& report) {
  return header(report) + "\n" + throughput_table(report) + "\n" + load_table(report);
}

}  // namespace pagoda::bench
