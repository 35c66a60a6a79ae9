// The seam between the scheduler and the engines: N slots, each a sequence
// with its own KV cache, and one call that advances any subset of them by one
// step. The scheduler decides what each slot runs (a prefill chunk or the one
// token of a decode step); the backend decides how. SequenceSlots
// (sequence_slots.hpp) gives each slot a sequence of one pagoda::Model's
// engine and runs a step as one engine step() (runtime/sequence_step.hpp): on
// a GPU, one batched forward over the decoding slots that reads every weight
// once; on the CPU, the items one after the other.
#pragma once

#include <cstdint>
#include <span>

#include "pagoda/runtime/sampling_params.hpp"

namespace pagoda::server {

struct StepItem {
  std::size_t slot = 0;
  std::span<const std::int32_t> tokens;  // run after what the slot's cache holds (1 token: a decode step)
  // Set on the step that completes a prompt: from this item's sample on, draw
  // with these parameters as a fresh sequence would (the same seed gives the
  // same draws whatever the slot ran before, and however the prompt was chunked).
  const runtime::SamplingParams* restart_sampling = nullptr;
  std::int32_t next = -1;                // out: the token sampled after the last of them
};

// The seed whose draw at sampler step `draws + j` is `seed`'s draw at step j:
// SplitMix64's n-th output is a function of seed + (n + 1) x golden gamma,
// so moving the seed back by `draws` gammas replays the stream from its start.
[[nodiscard]] constexpr std::uint64_t rebased_seed(std::uint64_t seed, std::uint64_t draws) {
  return seed - draws * 0x9E3779B97F4A7C15ull;
}

class StepBackend {
public:
  virtual ~StepBackend() = default;

  [[nodiscard]] virtual std::size_t slots() const = 0;
  // Tokens one slot's cache holds at most.
  [[nodiscard]] virtual std::uint32_t context_size() const = 0;
  // The tokens in a slot's cache, in order: what a new request's prompt may reuse.
  [[nodiscard]] virtual std::span<const std::int32_t> cached(std::size_t slot) const = 0;
  // Keeps the first `keep` cached tokens of `slot` and forgets the rest.
  virtual void rewind(std::size_t slot, std::size_t keep) = 0;
  // One step: runs each item's tokens on its slot (distinct slots) and sets
  // item.next. Throws (pagoda::Error) when an engine fails.
  virtual void step(std::span<StepItem> items) = 0;
};

}  // namespace pagoda::server
