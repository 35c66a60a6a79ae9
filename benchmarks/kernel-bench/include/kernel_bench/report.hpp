// pagoda-kernel-bench's report: markdown (a header with the measured read
// bandwidth and how each figure was taken, a GEMV table, an attention table,
// a prefill matmul table, a prefill attention table, a sampling table per
// parameter set and one per block_top_k policy), CSV (one row per case and
// kernel, `kernel` saying which) or JSON.
#pragma once

#include <string>

#include "kernel_bench/cases.hpp"
#include "pagoda_bench/arguments.hpp"

namespace pagoda::kernel_bench {

[[nodiscard]] std::string format_markdown(const KernelReport& report);
[[nodiscard]] std::string format_csv(const KernelReport& report);
[[nodiscard]] std::string format_json(const KernelReport& report);
[[nodiscard]] std::string format_report(bench::OutputFormat format, const KernelReport& report);

}  // namespace pagoda::kernel_bench
