// The StepBackend over pagoda's public API: one pagoda::Model per slot, each
// with its own engine and KV cache, stepped one after the other. pagoda::Model
// runs one sequence; the weights are shared where the OS shares them: on the
// CPU engine every slot reads the same file mapping (one copy in the page
// cache; per slot only the KV cache, about 2 x layers x context x kv_dim
// floats, and the activations). On a CUDA engine each slot places its own
// copy of the weights (device-copy: N x the VRAM), and its steps run
// separately: the batched GPU step is the seam StepBackend leaves for it.
#pragma once

#include <cstdint>
#include <vector>

#include "step_backend.hpp"
#include "pagoda/pagoda.hpp"

namespace pagoda::server {

class ModelSlots final : public StepBackend {
public:
  // One loaded model per slot (at least one, all of the same file and context).
  explicit ModelSlots(std::vector<Model> models);

  [[nodiscard]] std::size_t slots() const override { return slots_.size(); }
  [[nodiscard]] std::uint32_t context_size() const override;
  [[nodiscard]] std::span<const std::int32_t> cached(std::size_t slot) const override { return slots_[slot].cached; }
  void rewind(std::size_t slot, std::size_t keep) override;
  void step(std::span<StepItem> items) override;

  // The first slot's model: tokenizer, chat template, config, load report.
  [[nodiscard]] const Model& model() const { return slots_.front().model; }

private:
  struct Slot {
    Model model;
    std::vector<std::int32_t> cached;
    std::uint64_t draws = 0;  // the engine's sampler step: one draw per prefill or decode call
  };
  std::vector<Slot> slots_;
};

}  // namespace pagoda::server
