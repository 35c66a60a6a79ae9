// Activations quantized to int16 for the decode GEMV: x in blocks of 32
// elements, each block stored as 32 signed 16-bit values q and one f32 scale
// d with x ~ q * d, d = max|x| / 32767. The integer weight formats then meet
// x in 2-way int16 x int8 dot products (dp2a): half the instructions of f32
// FMAs after dequantizing, and x read as 2 bytes per element instead of 4.
//
// Why 16 bits and not 8 (llama.cpp's q8_1): int8 activations moved SmolLM2's
// decode logits by up to 1.0 (mean 0.15) from the f32 oracle and cost 2 of 94
// top-1 tokens (measured on an H100, docs/notes/performance.md); 16 bits leave
// an error ~256 times smaller, below the f16 rounding of the prefill path.
//
// The rule is written once here so that the kernel (kernels/gemv_q_staged.cuh)
// and the CPU oracle of its test quantize bit for bit alike: an IEEE division
// for the scale, a multiplication by 32767 / max|x|, round half to even.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

#include <pagoda/core/host_device.hpp>

namespace pagoda::quant {

inline constexpr std::size_t q16_activation_block = 32;

// d of a block whose largest magnitude is `amax` (0 for an all-zero block).
PAGODA_HD_INLINE float q16_activation_scale(float amax) { return amax / 32767.0f; }
// The factor that maps a block onto [-32767, 32767] (0 for an all-zero block).
PAGODA_HD_INLINE float q16_activation_inverse(float amax) { return amax > 0.0f ? 32767.0f / amax : 0.0f; }

// The CPU form of the rule: x (a multiple of 32 long) as the values q * d the
// kernel computes with, for tests that need the kernel's exact input.
inline void q16_activation_round_trip(std::span<const float> x, std::span<float> out) {
  for (std::size_t block = 0; block + q16_activation_block <= x.size(); block += q16_activation_block) {
    float amax = 0.0f;
    for (std::size_t i = 0; i < q16_activation_block; ++i) amax = std::fmax(amax, std::fabs(x[block + i]));
    const float d = q16_activation_scale(amax);
    const float inverse = q16_activation_inverse(amax);
    for (std::size_t i = 0; i < q16_activation_block; ++i)
      out[block + i] = std::nearbyint(x[block + i] * inverse) * d;
  }
}

}  // namespace pagoda::quant
