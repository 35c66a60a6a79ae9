// What one pagoda-bench run measured, as plain values: the machine and its
// two measured read bandwidths, then one PolicyRun per (model, mapping
// choice) — refused or failed runs included, with their reason, so nothing
// the user asked for disappears from the report. Filled by the CUDA app,
// printed by report.hpp; host-only so the formats are tested on the CPU.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pagoda_bench/link_measurement.hpp"
#include "pagoda_bench/roofline.hpp"
#include "pagoda_bench/statistics.hpp"
#include "pagoda_bench/test_plan.hpp"

namespace pagoda::bench {

struct MachineInfo {
  std::string device_name;
  int compute_major = 0;
  int compute_minor = 0;
  std::uint64_t vram_total_bytes = 0;
  int driver_version = 0;   // cudaDriverGetVersion: 13000 is 13.0
  int runtime_version = 0;  // cudaRuntimeGetVersion
  std::optional<LinkMeasurement> device_read;  // a kernel streaming VRAM
  std::optional<LinkMeasurement> host_read;    // the same kernel, zero-copy over pinned host memory
  std::string host_read_problem;               // why host_read is missing
};

struct BenchSettings {
  std::uint32_t repetitions = 0;
  bool warmup = true;
  std::uint64_t seed = 0;
  std::uint32_t batch = 0;
  bool cuda_graph = true;
  bool programmatic_launch = true;  // false: --no-pdl
  std::string layout = "auto";      // --layout: the weights' layout asked for
  std::string decode = "auto";      // --decode: the one-token step asked for
  std::uint32_t context = 0;  // the engines' context: the largest test's positions
  std::string pagoda_version;
};

struct ModelInfo {
  std::string name;  // general.name
  std::string path;
  std::uint64_t size_bytes = 0;  // the tensors' bytes, as llama-bench's "size"
  std::uint64_t params = 0;
  std::uint64_t weight_bytes_per_token = 0;  // roofline.hpp
  std::uint64_t kv_bytes_per_position = 0;
  std::uint32_t vocab = 0;  // token ids are drawn below it
};

// What loading under one policy cost, from the placement report and the process.
struct LoadInfo {
  double seconds = 0;              // open + Engine construction, wall clock
  double placement_seconds = 0;    // the policy's own total_seconds
  std::int64_t vram_delta_bytes = 0;         // the placement's measured free-VRAM delta (weights)
  std::int64_t engine_vram_delta_bytes = 0;  // free VRAM before open minus after construction
  std::uint64_t working_vram_bytes = 0;      // KV cache and activations
  std::uint64_t host_registered_bytes = 0;   // pinned host memory holding the weights
  std::uint64_t page_cache_bytes = 0;        // the file's weight bytes resident in RAM
  std::uint64_t hugepage_bytes = 0;
  std::uint64_t rss_bytes = 0;               // VmRSS after the load
  std::int64_t rss_delta_bytes = 0;          // VmRSS after minus before
  std::uint64_t rss_file_bytes = 0;          // RssFile after the load
  std::string placement;                     // mapping::to_string(report)
  std::vector<std::string> fallbacks;
};

struct TestResult {
  BenchTest test;
  std::vector<double> seconds;  // per timed repetition
  std::optional<double> roofline_percent;

  [[nodiscard]] std::vector<double> tokens_per_second() const {
    return rates(static_cast<double>(test.timed_tokens()), seconds);
  }
  [[nodiscard]] Summary summary() const {
    const auto tps = tokens_per_second();
    return summarize(tps);
  }
};

enum class RunStatus : std::uint8_t { ok, refused, failed };
[[nodiscard]] constexpr const char* name_of(RunStatus status) {
  return status == RunStatus::ok ? "ok" : status == RunStatus::refused ? "refused" : "failed";
}

struct PolicyRun {
  ModelInfo model;
  std::string policy;        // "device-copy", ...; the choice's name when refused before resolving
  bool auto_chosen = false;  // --mapping auto picked it
  RunStatus status = RunStatus::ok;
  std::string reason;        // refused / failed: why, one line
  std::string link;          // "VRAM" or "pinned host": where the weights are read from
  double link_gb_s = 0;      // that link's measured streaming read
  LoadInfo load;
  std::vector<TestResult> tests;  // a failed run keeps the tests done before the failure

  // "device-copy" or "device-copy (auto)".
  [[nodiscard]] std::string policy_label() const { return auto_chosen ? policy + " (auto)" : policy; }
  // The roofline percentage of the first pure-decode test at depth 0, if any.
  [[nodiscard]] std::optional<double> tg_roofline_percent() const {
    for (const TestResult& t : tests)
      if (t.test.is_generation() && t.test.n_depth == 0 && t.roofline_percent) return t.roofline_percent;
    return std::nullopt;
  }
};

struct BenchReport {
  MachineInfo machine;
  BenchSettings settings;
  std::vector<PolicyRun> runs;
};

}  // namespace pagoda::bench
