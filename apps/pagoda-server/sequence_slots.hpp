// The StepBackend over pagoda's public API: one pagoda::Model loaded with
// EngineOptions::sequences = N, whose engine holds the weights once and a KV
// cache and sampler per slot (runtime/sequence_step.hpp); slot i is the
// engine's sequence i. A step is one engine().step() over every item: a CUDA
// engine runs the decoding slots as one batched forward that reads each
// weight once for all of them, the CPU engine runs them one after the other.
#pragma once

#include <cstdint>
#include <vector>

#include "step_backend.hpp"
#include "pagoda/pagoda.hpp"

namespace pagoda::server {

class SequenceSlots final : public StepBackend {
public:
  // One slot per sequence of `model`'s engine; every cache starts empty.
  explicit SequenceSlots(Model model);

  [[nodiscard]] std::size_t slots() const override { return slots_.size(); }
  [[nodiscard]] std::uint32_t context_size() const override { return model_.engine().context_size(); }
  [[nodiscard]] std::span<const std::int32_t> cached(std::size_t slot) const override { return slots_[slot].cached; }
  void rewind(std::size_t slot, std::size_t keep) override;
  void step(std::span<StepItem> items) override;

  // The one model: tokenizer, chat template, config, load report.
  [[nodiscard]] const Model& model() const { return model_; }

private:
  struct Slot {
    std::vector<std::int32_t> cached;
    // The sequence's sampler step: one draw per item of each step that
    // succeeded. A step that throws is taken to have drawn nothing (the CPU
    // engine checks every item's logits before it samples any).
    std::uint64_t draws = 0;
  };
  Model model_;
  std::vector<Slot> slots_;
};

}  // namespace pagoda::server
