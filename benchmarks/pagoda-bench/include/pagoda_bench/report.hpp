// A BenchReport as text: a markdown page (a header naming the machine and the
// two measured bandwidths, the llama-bench-style t/s table, then a table of
// what each load cost), one CSV table with a row per test, or a JSON document
// holding every sample. The exact shapes are specified by tests/bench.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "pagoda_bench/arguments.hpp"
#include "pagoda_bench/results.hpp"

namespace pagoda::bench {

[[nodiscard]] std::string format_markdown(const BenchReport& report);
[[nodiscard]] std::string format_csv(const BenchReport& report);
[[nodiscard]] nlohmann::json to_json(const BenchReport& report);
[[nodiscard]] std::string format_json(const BenchReport& report);  // to_json, indented, newline-terminated

[[nodiscard]] std::string format_report(OutputFormat format, const BenchReport& report);

// Shared by the formats.
// "13.0" from cudaDriverGetVersion's 13000.
[[nodiscard]] std::string cuda_version_text(int version);
// "VRAM" / "pinned host" and its measured rate, for a table cell: "VRAM 2991 GB/s".
[[nodiscard]] std::string link_text(const PolicyRun& run);

}  // namespace pagoda::bench
