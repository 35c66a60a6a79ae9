// Several sequences in one engine: EngineOptions::sequences KV caches (and
// samplers) over one copy of the weights, and one call, step(), that
// advances any of them at once. A CUDA engine runs the one-token items of a
// step as one batched forward that reads every weight once for all of them
// (the server's continuous batching); a prompt item runs as a prefill of its
// own sequence. The single-sequence calls (prefill, decode, rewind,
// set_sampling, position) are sequence 0's.
#pragma once

#include <cstdint>
#include <span>

namespace pagoda::runtime {

// One sequence's part of a step.
struct SequenceStep {
  std::uint32_t sequence = 0;             // < the engine's sequences()
  std::span<const std::int32_t> tokens;   // run after what the sequence's cache holds (at least one)
  std::int32_t next = -1;                 // out: the token sampled after the last of them
};

}  // namespace pagoda::runtime
