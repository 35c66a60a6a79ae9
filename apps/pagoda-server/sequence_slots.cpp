#include "sequence_slots.hpp"

#include "pagoda/core/error.hpp"

namespace pagoda::server {

namespace {

std::uint32_t sequence_of(std::size_t slot) { return static_cast<std::uint32_t>(slot); }

}  // namespace

SequenceSlots::SequenceSlots(Model model) : model_(std::move(model)) {
  model_.reset();
  auto& engine = model_.engine();
  for (std::uint32_t sequence = 0; sequence < engine.sequences(); ++sequence) engine.rewind_sequence(sequence, 0);
  slots_.resize(engine.sequences());
}

void SequenceSlots::rewind(std::size_t slot, std::size_t keep) {
  auto& s = slots_.at(slot);
  if (keep > s.cached.size()) fail("slot {}: cannot keep {} tokens of {}", slot, keep, s.cached.size());
  model_.engine().rewind_sequence(sequence_of(slot), static_cast<std::uint32_t>(keep));
  s.cached.resize(keep);
}

void SequenceSlots::step(std::span<StepItem> items) {
  auto& engine = model_.engine();
  std::vector<runtime::SequenceStep> steps;
  steps.reserve(items.size());
  for (const auto& item : items) {
    const auto& s = slots_.at(item.slot);
    if (item.restart_sampling) {
      auto params = *item.restart_sampling;
      params.seed = rebased_seed(params.seed, s.draws);
      engine.set_sequence_sampling(sequence_of(item.slot), params);
    }
    steps.push_back({.sequence = sequence_of(item.slot), .tokens = item.tokens});
  }
  try {
    engine.step(steps);
  } catch (...) {
    // An engine may have run some items before it failed: each cache goes
    // back to what cached() says it holds.
    for (const auto& item : items)
      if (engine.sequence_position(sequence_of(item.slot)) > slots_[item.slot].cached.size())
        engine.rewind_sequence(sequence_of(item.slot), static_cast<std::uint32_t>(slots_[item.slot].cached.size()));
    throw;
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& s = slots_[items[i].slot];
    items[i].next = steps[i].next;
    ++s.draws;
    s.cached.insert(s.cached.end(), items[i].tokens.begin(), items[i].tokens.end());
  }
}

}  // namespace pagoda::server
