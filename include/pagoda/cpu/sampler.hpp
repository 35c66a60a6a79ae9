// The CPU reference sampler: the chain of runtime/sampling_params.hpp written
// step by step, plainly, with the arithmetic shared with the CUDA sampler
// (kernels/sampling.cuh), which must choose the same token for the same
// logits, recent tokens, seed and step. Each step is a free function so that
// tests can check it alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pagoda/runtime/sampling_params.hpp"

namespace pagoda::cpu {

struct SamplingCandidate {
  float logit;
  std::int32_t id;
};

// Step 1, in place: penalises each distinct token among the last
// params.penalty_last_n of `recent_tokens` (ids outside `logits` are ignored).
void apply_penalties(std::span<float> logits, std::span<const std::int32_t> recent_tokens,
                     const runtime::SamplingParams& params);

// The first `count` candidates by logit descending, ties by lower id (all of
// them when count >= logits.size()).
[[nodiscard]] std::vector<SamplingCandidate> sorted_candidates(std::span<const float> logits, std::size_t count);

// How many of `n` sorted candidates each filter keeps (each keeps a prefix,
// always at least one). `sorted` is the top-k set for top-p and min-p.
[[nodiscard]] std::size_t top_k_count(std::size_t n, int top_k);
[[nodiscard]] std::size_t top_p_count(std::span<const SamplingCandidate> sorted, float top_p);
[[nodiscard]] std::size_t min_p_count(std::span<const SamplingCandidate> sorted, float min_p);

// Step 5: the index into `kept` (sorted, non-empty) that the uniform `u`
// selects under `temperature` (> 0).
[[nodiscard]] std::size_t draw_index(std::span<const SamplingCandidate> kept, float temperature, double u);

// The whole chain, with its own step counter (the draw of step n is
// runtime::sampling_uniform(seed, n)).
class Sampler {
public:
  // Throws pagoda::Error for invalid params or an empty vocabulary.
  Sampler(std::size_t vocab_size, const runtime::SamplingParams& params);

  // Chooses the next token from `logits` (vocab_size values); the last
  // params.penalty_last_n of `recent_tokens` (prompt and output so far)
  // are penalised. Advances the step by one.
  std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t> recent_tokens);

  [[nodiscard]] std::uint64_t step() const { return step_; }
  void set_step(std::uint64_t step) { step_ = step; }
  [[nodiscard]] const runtime::SamplingParams& params() const { return params_; }
  [[nodiscard]] std::size_t vocab_size() const { return vocab_size_; }

private:
  std::size_t vocab_size_;
  runtime::SamplingParams params_;
  std::uint64_t step_ = 0;
  std::vector<float> work_;  // sanitized, penalised logits of the current step
};

}  // namespace pagoda::cpu
