// The CPU reference forward pass behind the same interface as the CUDA
// Engine<Policy>: prefill and decode return the sampled next token. Used where
// no GPU exists (said, never silent) and as the oracle in tests.
//
// It holds EngineOptions::sequences sequences (runtime/sequence_step.hpp),
// each with its own KV cache, sampler, token history and logits, over one
// ReferenceModel: each sequence samples exactly as a single-sequence engine
// fed the same tokens would. step() runs its items one after the other (the
// oracle: correctness over speed). The calls without a sequence are sequence 0's.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/cpu/sampler.hpp"
#include "pagoda/runtime/engine_options.hpp"
#include "pagoda/runtime/sequence_step.hpp"

namespace pagoda::cpu {

class CpuEngine {
public:
  // `file` must outlive the engine. options.sequences == 0 is an error.
  CpuEngine(const gguf::File& file, const runtime::EngineOptions& options = {});

  // Sequence 0.
  std::int32_t prefill(std::span<const std::int32_t> tokens);
  std::int32_t decode(std::int32_t token);
  [[nodiscard]] std::vector<float> logits() const { return sequences_.front().logits; }
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens);
  void rewind(std::uint32_t keep = 0) { rewind_sequence(0, keep); }
  void set_sampling(const runtime::SamplingParams& params) { set_sequence_sampling(0, params); }
  [[nodiscard]] std::uint32_t position() const { return model_.position(); }

  // Any sequence.
  [[nodiscard]] std::uint32_t sequences() const { return model_.sequences(); }
  // Runs each item's tokens after what its sequence's cache holds and sets
  // item.next to the token sampled after them. Items name distinct sequences,
  // each with at least one token that fits its context: otherwise
  // pagoda::Error and nothing runs. Every item's logits are checked before
  // any is sampled, so a step that fails on non-finite logits draws nothing.
  void step(std::span<runtime::SequenceStep> steps);
  // As rewind(keep), for that sequence.
  void rewind_sequence(std::uint32_t sequence, std::uint32_t keep);
  // As set_sampling, for that sequence: its sampler step counter is kept.
  void set_sequence_sampling(std::uint32_t sequence, const runtime::SamplingParams& params);
  [[nodiscard]] std::uint32_t sequence_position(std::uint32_t sequence) const { return model_.position(sequence); }
  // The logits the sequence's last token was sampled from (empty before it ran any).
  [[nodiscard]] std::vector<float> sequence_logits(std::uint32_t sequence) const {
    return sequences_.at(sequence).logits;
  }

  [[nodiscard]] std::uint32_t context_size() const { return model_.context_size(); }
  [[nodiscard]] const model::ModelConfig& config() const { return model_.config(); }
  // One line for the user: where the weights are read from and how.
  [[nodiscard]] std::string placement_line() const;

private:
  // What a single-sequence engine holds beside its KV cache.
  struct Sequence {
    Sampler sampler;
    std::vector<float> logits;          // after the last token run
    std::vector<std::int32_t> history;  // every token in the cache, in order (the penalties' window)
  };

  // Throws, naming the sequence and position, when its logits hold NaN or infinity.
  void check_finite(std::uint32_t sequence) const;

  ReferenceModel model_;
  std::vector<Sequence> sequences_;
};

}  // namespace pagoda::cpu
