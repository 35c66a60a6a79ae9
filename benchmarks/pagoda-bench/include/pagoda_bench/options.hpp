// pagoda-bench's command line, in the spirit of llama-bench: value lists
// (-p 128,512), ranges (-p 64-512*2), repeated -m and -pg, a list of mapping
// policies. Parsing and validation are host-only and tested on the CPU
// (tests/bench); every error names its flag.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/runtime/engine_options.hpp"
#include "pagoda_bench/arguments.hpp"

namespace pagoda::bench {

// One entry of --mapping: a policy, or auto (pagoda's own selection).
struct MappingChoice {
  std::optional<mapping::PolicyId> policy;  // nullopt: auto

  [[nodiscard]] std::string name() const;  // "auto", "device-copy", ...
  friend bool operator==(const MappingChoice&, const MappingChoice&) = default;
};

// A -pg pair: a prompt of `prompt` tokens, then `gen` generated, timed together.
struct PromptGen {
  std::uint32_t prompt = 0;
  std::uint32_t gen = 0;
  friend bool operator==(const PromptGen&, const PromptGen&) = default;
};

struct BenchOptions {
  bool help = false;
  std::vector<std::string> models;                  // -m, repeatable and comma lists
  std::vector<std::uint32_t> n_prompt{512};         // -p; 0 disables
  std::vector<std::uint32_t> n_gen{128};            // -n; 0 disables
  std::vector<PromptGen> prompt_gen;                // -pg
  std::vector<std::uint32_t> n_depth{0};            // -d: KV cache filled first, untimed
  std::uint32_t repetitions = 5;                    // -r
  std::vector<MappingChoice> mappings{MappingChoice{}};  // --mapping; default auto
  std::string hugepage_size = "auto";               // --hugepage-size: hugepage-import's pages
  bool no_fallback = false;                         // --no-fallback: a policy's own fallbacks are errors
  OutputFormat output = OutputFormat::markdown;     // -o, to stdout
  std::vector<SaveTarget> saves;                    // --save PATH, format from the extension
  std::uint32_t batch = 512;                        // -b: prefill chunk (EngineOptions::max_batch)
  std::uint64_t seed = 1;                           // --seed: the random token ids
  bool warmup = true;                               // --no-warmup
  bool cuda_graph = true;                           // --no-cuda-graph
  bool programmatic_launch = true;                  // --no-pdl: no programmatic dependent launches
  bool wgmma = true;                                // --no-wgmma: prompts on mma.sync everywhere
  pagoda::quant::LayoutChoice layout = pagoda::quant::LayoutChoice::automatic;  // --layout
  pagoda::runtime::DecodePath decode = pagoda::runtime::DecodePath::automatic;  // --decode
  bool prefetch = false;                            // --prefetch: the persistent step stages its next items' weights
  std::optional<std::uint32_t> direct_attention_rows;  // --direct-attention-rows: unset, the engine's own
  std::uint32_t probe_mib = 1024;                   // --probe-mib: streaming-read buffer size
  bool verbose = false;                             // -v: placement details on stderr
  std::string step_timeline;                        // --step-timeline: CSV of one decode step's stamps (profiling build)
  std::vector<std::string> summaries;               // --summary: merge saved JSON reports, run nothing
};

// The flags, as --help prints them.
[[nodiscard]] std::string bench_usage();

// Parses argv[1..]; throws UsageError naming the flag for anything wrong.
[[nodiscard]] BenchOptions parse_bench_arguments(std::vector<std::string> args);

// Each listed model is a readable regular file; UsageError naming -m otherwise.
void check_models_exist(std::span<const std::string> models);

// Limits (inclusive) the parser enforces, for messages and tests.
inline constexpr std::uint32_t max_tokens_per_test = 1u << 20;  // -p, -n, -d and -pg values
inline constexpr std::uint32_t max_repetitions = 1000;

}  // namespace pagoda::bench
