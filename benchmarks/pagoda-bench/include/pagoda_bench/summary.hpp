// Several JSON reports saved by pagoda-bench runs (format_json), merged into
// one compact markdown table: a row per (model, policy), a column per test in
// the order first seen, then load time, tg as % of the roofline and a note
// for refused or failed runs. benchmarks/README.md's results table has this
// shape; scripts/bench-h100.sh prints it last. No GPU needed.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace pagoda::bench {

// Throws pagoda::Error naming the report (names[i], or its index from 1 when
// no names are given) and the missing or mistyped field when a document is
// not a pagoda-bench JSON report.
[[nodiscard]] std::string format_summary(const std::vector<nlohmann::json>& reports,
                                         const std::vector<std::string>& names = {});

}  // namespace pagoda::bench
