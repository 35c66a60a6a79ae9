#include "pagoda_bench/summary.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pagoda/core/error.hpp"
#include "pagoda_bench/units.hpp"

namespace pagoda::bench {

namespace {

using nlohmann::json;

std::string rate_text(const json& link) {
  return link.is_null() ? "not measured" : fmt::format("{:.1f} GB/s", link.at("gb_s").get<double>());
}

std::string device_line(const json& report) {
  const json& m = report.at("machine");
  return fmt::format("- device: {}, compute capability {}; driver {}, runtime {}\n", m.at("device").get<std::string>(),
                     m.at("compute_capability").get<std::string>(), m.at("driver").get<std::string>(),
                     m.at("runtime").get<std::string>());
}

std::string run_line(std::size_t number, const json& report) {
  const json& m = report.at("machine");
  const json& s = report.at("settings");
  return fmt::format("- run {}: streaming read {} (VRAM), {} (pinned host); {} repetitions{}\n", number,
                     rate_text(m.at("device_read")), rate_text(m.at("host_read")), s.at("repetitions").get<int>(),
                     s.at("warmup").get<bool>() ? " after 1 warm-up" : ", no warm-up");
}

// Adds the report's test names not seen yet, in order.
void add_test_columns(const json& report, std::vector<std::string>& names) {
  for (const json& run : report.at("runs"))
    for (const json& test : run.at("tests"))
      if (std::ranges::find(names, test.at("test").get<std::string>()) == names.end())
        names.push_back(test.at("test").get<std::string>());
}

std::string escape(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

// layout, decode: the report's --layout and --decode ("auto" unless one was forced; older reports have none).
std::string run_row(const json& run, const std::vector<std::string>& columns, const std::string& layout,
                    const std::string& decode) {
  const json& model = run.at("model");
  std::string policy = run.at("policy").get<std::string>();
  if (run.at("auto_chosen").get<bool>()) policy += " (auto)";
  if (layout != "auto") policy += ", layout " + layout;
  if (decode != "auto") policy += ", " + decode + " step";
  std::string row = fmt::format("| {} | {} | {} |", escape(model.at("name").get<std::string>()),
                                size_text(model.at("size_bytes").get<std::uint64_t>()), policy);
  for (const std::string& column : columns) {
    std::string cell;
    for (const json& test : run.at("tests"))
      if (test.at("test").get<std::string>() == column)
        cell = mean_stddev_text(test.at("avg_ts").get<double>(), test.at("stddev_ts").get<double>());
    row += cell.empty() ? std::string(" |") : " " + cell + " |";
  }
  const json& load = run.at("load");
  row += load.is_null() ? " |" : fmt::format(" {:.2f} |", load.at("seconds").get<double>());
  const json& roofline = run.at("tg_roofline_percent");
  row += roofline.is_null() ? " |" : fmt::format(" {:.1f}% |", roofline.get<double>());
  const std::string status = run.at("status").get<std::string>();
  if (status != "ok") row += fmt::format(" {}: {} |", status, escape(run.at("reason").get<std::string>()));
  else row += " |";
  return row + "\n";
}

}  // namespace

std::string format_summary(const std::vector<json>& reports, const std::vector<std::string>& names) {
  if (reports.empty()) return {};
  std::size_t index = 0;  // the report being read, for the error message
  try {
    std::string runs;
    std::vector<std::string> columns;
    for (index = 0; index < reports.size(); ++index) {
      runs += run_line(index + 1, reports[index]);
      add_test_columns(reports[index], columns);
    }
    index = 0;
    std::string text = "## pagoda-bench summary\n\n";
    text += device_line(reports.front());
    text += runs;
    text += "- t/s: mean ± sample standard deviation over the repetitions; load: open + engine construction; "
            "tg % roofline: the first depth-0 decode test against the link the weights live behind\n\n";
    text += "| model | size | policy |";
    for (const auto& c : columns) text += " " + c + " |";
    text += " load s | tg % roofline | note |\n| --- | ---: | --- |";
    for (std::size_t i = 0; i < columns.size(); ++i) text += " ---: |";
    text += " ---: | ---: | --- |\n";
    for (index = 0; index < reports.size(); ++index) {
      const json& settings = reports[index].at("settings");
      const std::string layout = settings.contains("layout") ? settings.at("layout").get<std::string>() : "auto";
      const std::string decode = settings.contains("decode") ? settings.at("decode").get<std::string>() : "auto";
      for (const json& run : reports[index].at("runs")) text += run_row(run, columns, layout, decode);
    }
    return text;
  } catch (const json::exception& e) {
    const std::string name = index < names.size() ? names[index] : fmt::format("report {}", index + 1);
    fail("{} is not a pagoda-bench JSON report: {}", name, e.what());
  }
}

}  // namespace pagoda::bench
