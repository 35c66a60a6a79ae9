// The CPU reference forward pass behind the same interface as the CUDA
// Engine<Policy>: prefill and decode return the sampled next token. Used where
// no GPU exists (said, never silent) and as the oracle in tests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/cpu/sampler.hpp"
#include "pagoda/runtime/engine_options.hpp"

namespace pagoda::cpu {

class CpuEngine {
public:
  // `file` must outlive the engine.
  CpuEngine(const gguf::File& file, const runtime::EngineOptions& options = {});

  std::int32_t prefill(std::span<const std::int32_t> tokens);
  std::int32_t decode(std::int32_t token);
  [[nodiscard]] std::vector<float> logits() const { return logits_; }
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens);
  void rewind(std::uint32_t keep = 0);
  void set_sampling(const runtime::SamplingParams& params);

  [[nodiscard]] std::uint32_t position() const { return model_.position(); }
  [[nodiscard]] std::uint32_t context_size() const { return model_.context_size(); }
  [[nodiscard]] const model::ModelConfig& config() const { return model_.config(); }
  // One line for the user: where the weights are read from and how.
  [[nodiscard]] std::string placement_line() const;

private:
  std::int32_t sample();

  ReferenceModel model_;
  Sampler sampler_;
  std::vector<float> logits_;
  std::vector<std::int32_t> history_;
};

}  // namespace pagoda::cpu
