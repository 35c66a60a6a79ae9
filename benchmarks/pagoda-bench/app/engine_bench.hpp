// Timing one model under one mapping choice: resolve the choice (auto asks
// pagoda's selection; a forced policy the platform cannot do is refused with
// mapping::assess's reason), load Engine<Policy> and record what the load
// cost, then run every planned test: one warm-up repetition, then the timed
// ones. The engine synchronises at the end of every prefill and decode, so a
// host clock around them measures the device work.
#pragma once

#include <span>

#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/runtime/engine_options.hpp"
#include "pagoda_bench/options.hpp"
#include "pagoda_bench/results.hpp"

namespace pagoda::bench {

struct BenchContext {
  const mapping::Capabilities& capabilities;
  const MachineInfo& machine;
  std::span<const BenchTest> tests;
  const BenchOptions& options;
  runtime::EngineOptions engine;
};

// Never throws for the model or the policy: refusals and failures are the
// run's status and reason.
[[nodiscard]] PolicyRun bench_model_policy(const ModelInfo& model, const MappingChoice& choice,
                                           const BenchContext& context);

}  // namespace pagoda::bench
