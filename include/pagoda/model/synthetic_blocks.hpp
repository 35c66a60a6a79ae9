// Random but valid blocks of every format in quant::formats, for synthetic
// models. Codes are uniform random bits; the f16 scales (and K-quant sub-block
// scales and mins) are set so the block dequantizes to values centred on zero
// with a chosen RMS — never random scale bits, which would give inf or NaN.
//
// Randomness is counter-based: unit_rng(seed, tensor, unit) starts an
// independent splitmix64 stream per block (per 256 elements for the float
// formats), so any range of a tensor can be generated alone, in any order, on
// any thread, and always gives the same bytes.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pagoda/quant/format_list.hpp"
#include "pagoda/quant/half.hpp"

namespace pagoda::model::synth {

// splitmix64's output function: a bijective 64-bit mix.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class SplitMix64 {
public:
  explicit constexpr SplitMix64(std::uint64_t state) : state_(state) {}

  constexpr std::uint64_t next() { return mix64(state_ += 0x9e3779b97f4a7c15ull); }
  // Uniform in [0, 1), 24 bits.
  float unit() { return static_cast<float>(next() >> 40) * 0x1p-24f; }
  // Uniform integer in [lo, hi], for small ranges (the modulo bias is irrelevant here).
  int between(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  template <std::size_t N>
  void fill(std::uint8_t (&bytes)[N]) {
    for (std::size_t i = 0; i < N; i += 8) {
      const std::uint64_t bits = next();
      std::memcpy(bytes + i, &bits, N - i < 8 ? N - i : 8);
    }
  }
  template <std::size_t N>
  void fill(std::int8_t (&bytes)[N]) {
    for (std::size_t i = 0; i < N; i += 8) {
      const std::uint64_t bits = next();
      std::memcpy(bytes + i, &bits, N - i < 8 ? N - i : 8);
    }
  }

private:
  std::uint64_t state_;
};

// The stream of one generation unit (a block; 256 elements for float formats).
[[nodiscard]] constexpr SplitMix64 unit_rng(std::uint64_t seed, std::uint64_t tensor, std::uint64_t unit) {
  return SplitMix64(mix64(mix64(seed ^ (tensor * 0xd1b54a32d192ed03ull)) + unit * 0x9e3779b97f4a7c15ull));
}

// Elements per generation unit of the float formats (one RNG stream each).
inline constexpr std::size_t float_unit_elements = 256;

namespace detail {

// Mean of (q - center)^2 for q uniform over the integers [lo, hi].
constexpr double mean_square(int lo, int hi, double center) {
  double sum = 0.0;
  for (int q = lo; q <= hi; ++q) sum += (q - center) * (q - center);
  return sum / (hi - lo + 1);
}
constexpr double constexpr_sqrt(double x) {
  double r = x > 1.0 ? x : 1.0;
  for (int i = 0; i < 64; ++i) r = 0.5 * (r + x / r);  // Newton: converges long before 64 steps
  return r;
}
// RMS of (q - center); consteval so the block loops never recompute it.
consteval float rms(int lo, int hi, double center) {
  return static_cast<float>(constexpr_sqrt(mean_square(lo, hi, center)));
}

inline quant::f16_bits signed_f16(SplitMix64& rng, float magnitude) {
  return quant::f32_to_f16((rng.next() & 1) != 0 ? -magnitude : magnitude);
}

// Packs 8 six-bit scales and mins the way quant::k_scale_min reads them.
inline void pack_k_scales(const std::uint8_t (&scale)[8], const std::uint8_t (&min)[8], std::uint8_t (&out)[12]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = static_cast<std::uint8_t>(scale[j] | ((scale[j + 4] >> 4) << 6));
    out[j + 4] = static_cast<std::uint8_t>(min[j] | ((min[j + 4] >> 4) << 6));
    out[j + 8] = static_cast<std::uint8_t>((scale[j + 4] & 0x0f) | ((min[j + 4] & 0x0f) << 4));
  }
}

// Packs 16 signed scales (-32..31) the way quant::q3_k_scale reads them.
inline void pack_q3_k_scales(const int (&scale)[16], std::uint8_t (&out)[12]) {
  int v[16];
  for (int j = 0; j < 16; ++j) v[j] = scale[j] + 32;
  for (int j = 0; j < 8; ++j) out[j] = static_cast<std::uint8_t>((v[j] & 0x0f) | ((v[j + 8] & 0x0f) << 4));
  for (int k = 0; k < 4; ++k)
    out[8 + k] = static_cast<std::uint8_t>((v[k] >> 4) | ((v[k + 4] >> 4) << 2) | ((v[k + 8] >> 4) << 4) |
                                           ((v[k + 12] >> 4) << 6));
}

// Q4_K / Q5_K: sub-block scales drawn from 32..63, mins equal to the scales,
// so x = d*scale*(q - center) when dmin = center*d.
template <class Block>
void k_scales_and_minimums(SplitMix64& rng, float target_rms, float code_rms, float center, Block& b) {
  std::uint8_t scale[8];
  for (auto& s : scale) s = static_cast<std::uint8_t>(rng.between(32, 63));
  pack_k_scales(scale, scale, b.scales);
  const float d = target_rms / (code_rms * rms(32, 63, 0.0));
  b.d = quant::f32_to_f16(d);
  b.dmin = quant::f32_to_f16(center * quant::f16_to_f32(b.d));
}

}  // namespace detail

// Fills one block of F whose values have RMS about `target_rms` (each block
// jitters it by ±25%, as real blocks differ) and mean about zero.
template <class F>
void random_block(SplitMix64& rng, float target_rms, typename F::block& b) {
  using namespace quant;
  using detail::rms;
  const float target = target_rms * (0.75f + 0.5f * rng.unit());
  if constexpr (std::same_as<F, Q4_0>) {
    rng.fill(b.qs);
    b.d = detail::signed_f16(rng, target / rms(0, 15, 8.0));  // random sign: (q - 8) has mean -0.5
  } else if constexpr (std::same_as<F, Q4_1>) {
    rng.fill(b.qs);
    b.d = f32_to_f16(target / rms(0, 15, 7.5));
    b.m = f32_to_f16(-7.5f * f16_to_f32(b.d));
  } else if constexpr (std::same_as<F, Q5_0>) {
    rng.fill(b.qs);
    rng.fill(b.qh);
    b.d = detail::signed_f16(rng, target / rms(0, 31, 16.0));
  } else if constexpr (std::same_as<F, Q5_1>) {
    rng.fill(b.qs);
    rng.fill(b.qh);
    b.d = f32_to_f16(target / rms(0, 31, 15.5));
    b.m = f32_to_f16(-15.5f * f16_to_f32(b.d));
  } else if constexpr (std::same_as<F, Q8_0>) {
    rng.fill(b.qs);
    b.d = detail::signed_f16(rng, target / rms(-128, 127, 0.0));
  } else if constexpr (std::same_as<F, Q2_K>) {
    // 4-bit scale s in 8..15 with min = s and dmin = 1.5*d: x = d*s*(q - 1.5).
    for (auto& s : b.scales) {
      const int scale = rng.between(8, 15);
      s = static_cast<std::uint8_t>(scale | (scale << 4));
    }
    rng.fill(b.qs);
    b.d = f32_to_f16(target / (rms(0, 3, 1.5) * rms(8, 15, 0.0)));
    b.dmin = f32_to_f16(1.5f * f16_to_f32(b.d));
  } else if constexpr (std::same_as<F, Q3_K>) {
    // Signed scales of magnitude 16..31 and random sign centre the -4..3 codes.
    int scale[16];
    for (auto& s : scale) s = (rng.next() & 1) != 0 ? -rng.between(16, 31) : rng.between(16, 31);
    detail::pack_q3_k_scales(scale, b.scales);
    rng.fill(b.hmask);
    rng.fill(b.qs);
    b.d = f32_to_f16(target / (rms(-4, 3, 0.0) * rms(16, 31, 0.0)));
  } else if constexpr (std::same_as<F, Q4_K>) {
    rng.fill(b.qs);
    detail::k_scales_and_minimums(rng, target, rms(0, 15, 7.5), 7.5f, b);
  } else if constexpr (std::same_as<F, Q5_K>) {
    rng.fill(b.qs);
    rng.fill(b.qh);
    detail::k_scales_and_minimums(rng, target, rms(0, 31, 15.5), 15.5f, b);
  } else if constexpr (std::same_as<F, Q6_K>) {
    rng.fill(b.ql);
    rng.fill(b.qh);
    for (auto& s : b.scales) {
      const int scale = rng.between(64, 127);
      s = static_cast<std::int8_t>((rng.next() & 1) != 0 ? -scale : scale);
    }
    b.d = f32_to_f16(target / (rms(0, 63, 32.0) * rms(64, 127, 0.0)));
  } else {
    static_assert(F::block_elements == 0, "random_block: no synthetic block generator for this format");
  }
}

// Writes `count` (<= float_unit_elements) values of a float format, uniform
// with the given mean and standard deviation, little-endian, to `out`.
template <class F>
void random_floats(SplitMix64& rng, float mean, float std, std::size_t count, std::byte* out) {
  static_assert(F::block_elements == 1, "random_floats is for F32, F16 and BF16");
  const float half_width = std * 1.7320508f;  // uniform on [-a, a] has std a / sqrt(3)
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (i % 4 == 0) bits = rng.next();
    const float u = (static_cast<float>(bits & 0xffffu) + 0.5f) * 0x1p-16f;
    bits >>= 16;
    const float value = mean + half_width * (2.0f * u - 1.0f);
    typename F::block b;
    if constexpr (std::same_as<F, quant::F32>) b.value = value;
    else if constexpr (std::same_as<F, quant::F16>) b.value = quant::f32_to_f16(value);
    else if constexpr (std::same_as<F, quant::BF16>) b.value = quant::f32_to_bf16(value);
    else static_assert(F::block_elements == 0, "random_floats: unknown float format");
    std::memcpy(out + i * F::block_bytes, &b, F::block_bytes);
  }
}

}  // namespace pagoda::model::synth
