// Engine<Policy>: a model loaded under one mapping policy — the policy owns
// where the weights live (its type says device or host, at compile time), the
// EngineCore runs the forward pass over the device pointers the policy hands
// out. The policy is built first and destroyed last, so no kernel can outlive
// the bytes it reads.
//
//   auto file = gguf::MappedFile::open(path);
//   runtime::Engine<mapping::DeviceCopy> engine(*file);
//   auto next = engine.prefill(prompt_ids);
//   while (...) next = engine.decode(next);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/policy.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/weights.hpp"
#include "pagoda/runtime/device_model.hpp"
#include "pagoda/runtime/engine_core.hpp"

namespace pagoda::runtime {

template <mapping::MappingPolicy Policy>
class Engine {
public:
  using policy_type = Policy;
  static constexpr mapping::Residence weights_residence = Policy::residence;

  // `file` must outlive the engine.
  explicit Engine(const gguf::MappedFile& file, const typename Policy::Options& policy_options = {},
                  const EngineOptions& options = {})
      : config_(model::read_config(file.gguf())),
        weights_(model::bind_weights(file.gguf(), config_)),
        policy_(file, policy_options),
        core_(config_,
              DeviceModel(config_, weights_,
                          [this](const gguf::TensorInfo& tensor) { return policy_.device_pointer(tensor); }),
              options) {}

  std::int32_t prefill(std::span<const std::int32_t> tokens) { return core_.prefill(tokens); }
  std::int32_t decode(std::int32_t token) { return core_.decode(token); }
  [[nodiscard]] std::vector<float> logits() const { return core_.logits(); }
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens) {
    return core_.forward_all_logits(tokens);
  }
  void rewind(std::uint32_t keep = 0) { core_.rewind(keep); }
  void set_sampling(const SamplingParams& params) { core_.set_sampling(params); }

  [[nodiscard]] std::uint32_t position() const { return core_.position(); }
  [[nodiscard]] std::uint32_t context_size() const { return core_.context_size(); }
  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  [[nodiscard]] mapping::PlacementReport placement() const { return policy_.report(); }
  [[nodiscard]] std::size_t working_vram_bytes() const { return core_.working_vram_bytes(); }

private:
  model::ModelConfig config_;
  model::ModelWeights weights_;
  Policy policy_;
  EngineCore core_;
};

}  // namespace pagoda::runtime
