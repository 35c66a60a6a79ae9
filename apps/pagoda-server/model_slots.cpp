#include "model_slots.hpp"

#include "pagoda/core/error.hpp"

namespace pagoda::server {

ModelSlots::ModelSlots(std::vector<Model> models) {
  if (models.empty()) fail("the server needs at least one slot");
  const auto context = models.front().engine().context_size();
  for (auto& model : models) {
    if (model.engine().context_size() != context)
      fail("every slot must have the same context size");
    model.reset();
    slots_.push_back({std::move(model), {}, 0});
  }
}

std::uint32_t ModelSlots::context_size() const { return slots_.front().model.engine().context_size(); }

void ModelSlots::rewind(std::size_t slot, std::size_t keep) {
  auto& s = slots_.at(slot);
  if (keep > s.cached.size()) fail("slot {}: cannot keep {} tokens of {}", slot, keep, s.cached.size());
  s.model.engine().rewind(static_cast<std::uint32_t>(keep));
  s.cached.resize(keep);
}

void ModelSlots::step(std::span<StepItem> items) {
  // One slot after the other: each engine runs one sequence.
  for (auto& item : items) {
    auto& s = slots_.at(item.slot);
    auto& engine = s.model.engine();
    if (item.restart_sampling) {
      auto params = *item.restart_sampling;
      params.seed = rebased_seed(params.seed, s.draws);
      engine.set_sampling(params);
    }
    item.next = engine.prefill(item.tokens);
    ++s.draws;
    s.cached.insert(s.cached.end(), item.tokens.begin(), item.tokens.end());
  }
}

}  // namespace pagoda::server
