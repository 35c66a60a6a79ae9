// Options every engine takes, CPU or CUDA.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pagoda/quant/layout.hpp"
#include "pagoda/runtime/sampling_params.hpp"

namespace pagoda::runtime {

// CUDA engines: how a sequence's one-token step runs. graph: ~5-6 kernels a
// layer, captured once as a CUDA graph and replayed; persistent: one launch
// of a kernel whose resident blocks walk the step's work items
// (runtime/persistent_step.hpp); automatic: the engine's choice, with its
// reason in the load report.
enum class DecodePath : std::uint8_t { automatic, graph, persistent };
[[nodiscard]] constexpr std::string_view name_of(DecodePath path) {
  return path == DecodePath::graph ? "graph" : (path == DecodePath::persistent ? "persistent" : "auto");
}
[[nodiscard]] constexpr std::optional<DecodePath> parse_decode_path(std::string_view text) {
  if (text == "auto") return DecodePath::automatic;
  if (text == "graph") return DecodePath::graph;
  if (text == "persistent") return DecodePath::persistent;
  return std::nullopt;
}
inline constexpr std::string_view decode_path_names = "auto, graph, persistent";

struct EngineOptions {
  std::uint32_t context_size = 0;    // 0: the model's trained context, capped at default_context_cap
  std::uint32_t max_batch = 512;     // prefill chunk (tokens per forward)
  // Sequences held at once, each with its own KV cache of context_size and
  // its own sampler, over one copy of the weights (sequence_step.hpp).
  std::uint32_t sequences = 1;
  SamplingParams sampling{};
  bool use_cuda_graph = true;        // CUDA engines: replay the decode step as a graph
  unsigned cpu_threads = 0;          // CPU engine: 0 = one per hardware thread
  // CUDA engines: the weights' layout (quant/layout.hpp); auto: the best the
  // mapping policy offers (field streams under device-copy).
  quant::LayoutChoice layout = quant::LayoutChoice::automatic;
  // CUDA engines: prompts multiply on wgmma where it runs (compute capability
  // 9.0, a build with 90a); false: on mma.sync everywhere, for measurement.
  bool wgmma_prefill = true;
  // CUDA engines: the decode GEMVs and the batched step's products use
  // programmatic dependent launch where the device has it (compute
  // capability 9.0); false: plain launches, for measurement (pagoda-bench
  // --no-pdl). Read into the engine's kernels::DeviceInfo. The attention
  // chain launches plainly either way (measured faster).
  bool programmatic_launch = true;
  // CUDA engines, the graph's one-token step: attention in one launch (a
  // block per query head walking every row, kernels::attention_decode_direct)
  // while a step sees at most this many rows, the split kernel and the merge
  // after (a second graph). Unset: kernels::tuning::attention_direct_rows (256,
  // 128 at head_dim 256); 0:
  // the split kernel always, for measurement (pagoda-bench
  // --direct-attention-rows) and tests.
  std::optional<std::uint32_t> direct_attention_rows;
  // CUDA engines: the one-token step (DecodePath); persistent_grid: its
  // blocks (0: every block the GPU holds at once; more is refused), for
  // tests and measurement.
  DecodePath decode = DecodePath::automatic;
  unsigned persistent_grid = 0;
  // persistent: each block copies its next item's weights into shared memory
  // (sm_90: bulk copies into one of two stages) before its current item's
  // wait, or prefetches them into L2 where they do not fit. Off: measured
  // slower so far (H100, synthetic 1B: 497 t/s against 630 without;
  // docs/notes/performance.md, issue 15, version 3); pagoda-bench --prefetch.
  bool persistent_prefetch = false;
  // persistent: stamp every item with %globaltimer (a little slower) so that
  // EngineCore::decode_profile() can say where the last step's time went.
  bool persistent_profile = false;
};

inline constexpr std::uint32_t default_context_cap = 4096;

[[nodiscard]] constexpr std::uint32_t effective_context(std::uint32_t requested, std::uint32_t trained) {
  return requested ? requested : (trained < default_context_cap ? trained : default_context_cap);
}

}  // namespace pagoda::runtime
