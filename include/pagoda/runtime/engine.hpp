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

#include "pagoda/core/stopwatch.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/policy.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/weights.hpp"
#include "pagoda/runtime/device_model.hpp"
#include "pagoda/runtime/engine_core.hpp"
#include "pagoda/runtime/layout_plan.hpp"
#include "pagoda/runtime/load_times.hpp"

namespace pagoda::runtime {

template <mapping::MappingPolicy Policy>
class Engine {
public:
  using policy_type = Policy;
  static constexpr mapping::Residence weights_residence = Policy::residence;

  // `file` must outlive the engine.
  explicit Engine(const gguf::MappedFile& file, const typename Policy::Options& policy_options = {},
                  const EngineOptions& options = {})
      : config_(timed(load_times_.model_binding, [&] { return model::read_config(file.gguf()); })),
        weights_(timed(load_times_.model_binding, [&] { return model::bind_weights(file.gguf(), config_); })),
        policy_(file, policy_options),
        core_(config_, timed(load_times_.device_model, [&] {
                const auto locate = [this](const gguf::TensorInfo& tensor) { return policy_.device_pointer(tensor); };
                constexpr bool streams = mapping::policy_traits<Policy>::offers(quant::WeightLayout::field_streams);
                layout_plan_ = plan_layouts(weights_, options.layout, streams, mapping::name_of(Policy::id), locate);
                if constexpr (streams) policy_.repack_to_field_streams(layout_plan_.to_repack);
                return DeviceModel(config_, weights_, locate,
                                   [this](const gguf::TensorInfo& tensor) { return layout_plan_.of(tensor); },
                                   kernels::DeviceInfo::current(options.programmatic_launch), options.wgmma_prefill);
              }),
              options) {
    load_times_.total = constructing_.seconds();
    load_times_.policy = policy_.report().total_seconds;
    // The rest of the constructor: EngineCore's stream, KV cache, buffers and sampler.
    load_times_.engine_core =
        load_times_.total - load_times_.model_binding - load_times_.policy - load_times_.device_model;
  }

  std::int32_t prefill(std::span<const std::int32_t> tokens) { return core_.prefill(tokens); }
  std::int32_t decode(std::int32_t token) { return core_.decode(token); }
  [[nodiscard]] std::vector<float> logits() const { return core_.logits(); }
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens) {
    return core_.forward_all_logits(tokens);
  }
  void rewind(std::uint32_t keep = 0) { core_.rewind(keep); }
  void set_sampling(const SamplingParams& params) { core_.set_sampling(params); }

  // Several sequences (sequence_step.hpp).
  [[nodiscard]] std::uint32_t sequences() const { return core_.sequences(); }
  void step(std::span<SequenceStep> steps) { core_.step(steps); }
  void rewind_sequence(std::uint32_t sequence, std::uint32_t keep) { core_.rewind_sequence(sequence, keep); }
  void set_sequence_sampling(std::uint32_t sequence, const SamplingParams& params) {
    core_.set_sequence_sampling(sequence, params);
  }
  [[nodiscard]] std::uint32_t sequence_position(std::uint32_t sequence) const {
    return core_.sequence_position(sequence);
  }
  [[nodiscard]] std::vector<float> sequence_logits(std::uint32_t sequence) const {
    return core_.sequence_logits(sequence);
  }

  [[nodiscard]] std::uint32_t position() const { return core_.position(); }
  [[nodiscard]] std::uint32_t context_size() const { return core_.context_size(); }
  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  // The policy's report with the weight layouts each matrix got.
  [[nodiscard]] mapping::PlacementReport placement() const {
    mapping::PlacementReport report = policy_.report();
    layout_plan_.describe(report);
    report.prefill_kernels = core_.model().prefill_kernels();
    report.decode_path = core_.decode_path();
    return report;
  }
  [[nodiscard]] const LoadTimes& load_times() const { return load_times_; }
  [[nodiscard]] std::size_t working_vram_bytes() const { return core_.working_vram_bytes(); }
  // How a one-token step runs (EngineOptions::decode) and why.
  [[nodiscard]] const std::string& decode_path() const { return core_.decode_path(); }
  [[nodiscard]] bool persistent_decode() const { return core_.persistent_decode(); }
  // The persistent step's most blocks (all resident at once), or 0 on the graph path.
  [[nodiscard]] unsigned persistent_grid_limit() const { return core_.persistent_grid_limit(); }
  [[nodiscard]] std::string decode_profile() const { return core_.decode_profile(); }

private:
  // make(), adding the seconds it took to `seconds`.
  template <class Make>
  static auto timed(double& seconds, Make make) {
    const Stopwatch stopwatch;
    auto made = make();
    seconds += stopwatch.seconds();
    return made;
  }

  Stopwatch constructing_;  // first of all: the load's clock
  LoadTimes load_times_{};
  model::ModelConfig config_;
  model::ModelWeights weights_;
  Policy policy_;
  LayoutPlan layout_plan_;  // made with the device model, before core_
  EngineCore core_;
};

}  // namespace pagoda::runtime
