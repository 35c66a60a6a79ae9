// Several sequences in one engine: EngineOptions::sequences KV caches (and
// samplers) over one copy of the weights, and one call, step(), that
// advances any of them at once. A CUDA engine runs the one-token items of a
// step as one batched forward that reads every weight once for all of them
// (the server's continuous batching); a prompt item runs as a prefill of its
// own sequence. The single-sequence calls (prefill, decode, rewind,
// set_sampling, position) are sequence 0's.
// A step refused for its input (a sequence named twice or unknown, no
// tokens, a full context, an id outside the vocabulary) runs nothing. A step
// that fails while running (a NaN or infinite logit) has run its items: the
// CPU engine then draws for none of them; a CUDA engine may have drawn for
// the items before the failing one (prompts run first, and a batched
// forward's rows are sampled together), so their samplers' steps moved on.
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
