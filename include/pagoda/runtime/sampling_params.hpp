// How the next token is chosen from the logits, and the arithmetic the CPU
// reference sampler (cpu/sampler.hpp) and the CUDA sampler
// (kernels/sampling.cuh) share, so that both choose the same token for the
// same logits, seed and step.
//
// The chain is llama.cpp's default order (common_params_sampling::samplers):
//
//   penalties -> top-k -> top-p -> min-p -> temperature -> draw
//
// Why temperature last: top-p and min-p then truncate the model's own
// (temperature 1) distribution, so the kept set does not depend on the
// temperature; a high temperature reshapes the kept tokens but cannot bring
// back the junk tail that top-p/min-p cut. That is also what a user who knows
// llama.cpp's flags expects from the same values.
//
// Each step, precisely (candidates sorted by logit descending, ties by lower id):
//   1. penalties: each distinct token t among the last penalty_last_n tokens,
//      seen c times: logit /= repeat if logit > 0, else logit *= repeat; then
//      logit -= c * frequency + (c > 0 ? presence : 0)          (OpenAI).
//   2. top-k keeps the first top_k (0: all).
//   3. top-p keeps the smallest prefix whose softmax mass (over the top-k
//      set, temperature 1) is >= top_p: i is kept while the mass before it is
//      < top_p (1: off).
//   4. min-p keeps i while logit_i >= logit_0 + log(min_p), i.e. while its
//      probability is >= min_p times the top one's (0: off).
//   5. temperature: weights exp((logit_i - logit_0) / T) over the kept prefix;
//      u = sampling_uniform(seed, step); the token is the first i whose
//      cumulative weight exceeds u * total (the last kept one if rounding
//      leaves none). Temperature 0 is greedy: the argmax after penalties.
//   A NaN logit counts as -inf; logits are otherwise assumed finite or -inf.
#pragma once

#include <cmath>
#include <cstdint>

#include "pagoda/core/host_device.hpp"

namespace pagoda::runtime {

// The seed when none is given: a fixed one, so runs reproduce by default.
inline constexpr std::uint64_t default_sampling_seed = 42;
// The penalty window the samplers hold on the device (a ring of this many ids).
inline constexpr int max_penalty_last_n = 4096;

struct SamplingParams {
  float temperature = 0.8f;      // >= 0; 0 = greedy
  int top_k = 40;                // >= 0; 0 = off
  float top_p = 0.95f;           // [0, 1]; 1 = off
  float min_p = 0.05f;           // [0, 1]; 0 = off
  float repeat_penalty = 1.0f;   // (0, 100]; 1 = off
  float frequency_penalty = 0;   // [-2, 2]; 0 = off
  float presence_penalty = 0;    // [-2, 2]; 0 = off
  int penalty_last_n = 64;       // [0, max_penalty_last_n]; 0 = no penalties
  std::uint64_t seed = default_sampling_seed;

  // Throws pagoda::Error naming the first field out of range and its allowed
  // range, e.g. "sampling parameter top_p = 1.5 is out of range: allowed [0, 1] (1 = off)".
  void validate() const;

  [[nodiscard]] constexpr bool greedy() const { return temperature == 0; }
  [[nodiscard]] constexpr bool penalties_active() const {
    return penalty_last_n > 0 && (repeat_penalty != 1 || frequency_penalty != 0 || presence_penalty != 0);
  }
  [[nodiscard]] constexpr bool top_p_active() const { return top_p < 1; }
  [[nodiscard]] constexpr bool min_p_active() const { return min_p > 0; }

  friend bool operator==(const SamplingParams&, const SamplingParams&) = default;
};

// ---- The arithmetic both samplers share, operation for operation ----------

// The n-th output (n = 0, 1, ...) of SplitMix64 seeded with `seed`: a pure
// function of (seed, n), so step n's draw needs no generator state.
PAGODA_HD_INLINE std::uint64_t splitmix64(std::uint64_t seed, std::uint64_t n) {
  std::uint64_t z = seed + (n + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Step `step`'s uniform draw in [0, 1): the top 53 bits of splitmix64(seed,
// step) times 2^-53, exact in a double on host and device alike.
PAGODA_HD_INLINE double sampling_uniform(std::uint64_t seed, std::uint64_t step) {
  return static_cast<double>(splitmix64(seed, step) >> 11) * 0x1.0p-53;
}

// NaN -> -inf (a NaN is never chosen, and sorting stays well defined).
PAGODA_HD_INLINE float sanitize_logit(float logit) { return logit != logit ? -INFINITY : logit; }

// Step 1 for one token seen `count` (> 0) times. On the device each operation
// is an explicit round-to-nearest intrinsic so that nvcc cannot fuse the
// multiply-add into an FMA; the host build does not contract either (ISO C++
// mode, -ffp-contract=off), so the result is bit-identical.
PAGODA_HD_INLINE float penalized_logit(float logit, int count, float repeat, float frequency, float presence) {
  const float n = static_cast<float>(count);
  const float present = count > 0 ? presence : 0.0f;
#if defined(__CUDA_ARCH__)
  if (repeat != 1.0f) logit = logit <= 0.0f ? __fmul_rn(logit, repeat) : __fdiv_rn(logit, repeat);
  return __fsub_rn(logit, __fadd_rn(__fmul_rn(n, frequency), present));
#else
  if (repeat != 1.0f) logit = logit <= 0.0f ? logit * repeat : logit / repeat;
  return logit - (n * frequency + present);
#endif
}

// Step 3's weight: exp(logit - top), in double so that host and device
// (whose exp differ by at most an ulp) agree far below any decision margin.
PAGODA_HD_INLINE double top_p_weight(float logit, float top) {
  return ::exp(static_cast<double>(logit) - static_cast<double>(top));
}

// Step 5's weight: exp((logit - top) / temperature).
PAGODA_HD_INLINE double temperature_weight(float logit, float top, double temperature) {
  return ::exp((static_cast<double>(logit) - static_cast<double>(top)) / temperature);
}

// Step 4's offset, log(min_p) rounded to float; computed on the host once for
// both samplers, so the threshold logit_0 + offset is the same float on both.
inline float min_p_log_offset(float min_p) { return static_cast<float>(std::log(static_cast<double>(min_p))); }

}  // namespace pagoda::runtime
