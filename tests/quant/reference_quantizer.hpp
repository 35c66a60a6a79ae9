// A simple reference quantizer for the round-trip tests: f32 block -> block of
// each format. Not ggml's quantizer and not tuned for quality: scales come from
// each group's range, and the K-quants try the neighbouring integer sub-block
// scale/min codes and keep the one with the least squared error. It writes the
// layouts independently of the decoders, so a round trip checks both.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <pagoda/core/type_list.hpp>
#include <pagoda/quant/format_list.hpp>

namespace pagoda::quant::testing {

namespace detail {

inline float to_f16_and_back(float x) { return f16_to_f32(f32_to_f16(x)); }

// The element of largest magnitude, with its sign.
inline float signed_absmax(const float* x, int n) {
  float best = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(best)) best = x[i];
  return best;
}

inline int quantize_to(float x, float step, float offset, int lo, int hi) {
  if (step == 0.0f) return std::clamp(0, lo, hi);
  return std::clamp(static_cast<int>(std::lround((x + offset) / step)), lo, hi);
}

// x ~ step*q - offset with q in [lo, hi]: squared error of the best q per element.
inline double group_error(const float* x, int n, float step, float offset, int lo, int hi) {
  double error = 0;
  for (int i = 0; i < n; ++i) {
    const double e = x[i] - (double{step} * quantize_to(x[i], step, offset, lo, hi) - offset);
    error += e * e;
  }
  return error;
}

// Best integer codes (sc, m) near the wanted scale and min, for
// x = (d*sc)*q - (dmin*m), q in [0, q_max], sc and m in [0, code_max].
struct AffineCodes {
  int sc;
  int m;
};
inline AffineCodes fit_affine(const float* x, int n, float d, float dmin, int code_max, int q_max,
                              float want_scale, float want_min) {
  const int sc0 = d > 0 ? static_cast<int>(std::lround(want_scale / d)) : 0;
  const int m0 = dmin > 0 ? static_cast<int>(std::lround(want_min / dmin)) : 0;
  AffineCodes best{0, 0};
  double best_error = std::numeric_limits<double>::infinity();
  for (int sc = std::max(sc0 - 1, 0); sc <= std::min(sc0 + 1, code_max); ++sc)
    for (int m = std::max(m0 - 1, 0); m <= std::min(m0 + 1, code_max); ++m) {
      const double e = group_error(x, n, d * sc, dmin * m, 0, q_max);
      if (e < best_error) best = {sc, m}, best_error = e;
    }
  return best;
}

// Best signed code sc near the wanted scale for x = (d*sc)*q, q in [q_lo, q_hi].
inline int fit_symmetric(const float* x, int n, float d, int code_lo, int code_hi, int q_lo, int q_hi,
                         float want_scale) {
  const int sc0 = d > 0 ? static_cast<int>(std::lround(want_scale / d)) : 0;
  int best = 0;
  double best_error = std::numeric_limits<double>::infinity();
  for (int sc = std::max(sc0 - 1, code_lo); sc <= std::min(sc0 + 1, code_hi); ++sc) {
    const double e = group_error(x, n, d * sc, 0.0f, q_lo, q_hi);
    if (e < best_error) best = sc, best_error = e;
  }
  return best;
}

// The two ggml 32-element layouts: element j in the low nibble of byte j, element j+16 in the high.
inline void pack_nibbles(const int* q, std::uint8_t* qs) {
  for (int j = 0; j < 16; ++j) qs[j] = static_cast<std::uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
}
inline void pack_fifth_bits(const int* q, std::uint8_t* qh) {
  std::memset(qh, 0, 4);
  for (int j = 0; j < 32; ++j) qh[j / 8] |= static_cast<std::uint8_t>(((q[j] >> 4) & 1) << (j % 8));
}

// Scale and offset of a range [lo, hi] mapped onto q in [0, levels-1].
struct Affine {
  float d;
  float m;
};
inline Affine affine_range(const float* x, int n, int levels) {
  const float lo = *std::min_element(x, x + n);
  const float hi = *std::max_element(x, x + n);
  return {to_f16_and_back((hi - lo) / static_cast<float>(levels - 1)), to_f16_and_back(lo)};
}

}  // namespace detail

inline F32::block quantize(type_tag<F32>, const float* x) { return {x[0]}; }
inline F16::block quantize(type_tag<F16>, const float* x) { return {f32_to_f16(x[0])}; }
inline BF16::block quantize(type_tag<BF16>, const float* x) { return {f32_to_bf16(x[0])}; }

inline Q4_0::block quantize(type_tag<Q4_0>, const float* x) {
  const float d = detail::to_f16_and_back(detail::signed_absmax(x, 32) / -8.0f);
  int q[32];
  for (int i = 0; i < 32; ++i) q[i] = detail::quantize_to(x[i], d, 0.0f, -8, 7) + 8;
  Q4_0::block b{f32_to_f16(d), {}};
  detail::pack_nibbles(q, b.qs);
  return b;
}

inline Q4_1::block quantize(type_tag<Q4_1>, const float* x) {
  const auto [d, m] = detail::affine_range(x, 32, 16);
  int q[32];
  for (int i = 0; i < 32; ++i) q[i] = detail::quantize_to(x[i], d, -m, 0, 15);
  Q4_1::block b{f32_to_f16(d), f32_to_f16(m), {}};
  detail::pack_nibbles(q, b.qs);
  return b;
}

inline Q5_0::block quantize(type_tag<Q5_0>, const float* x) {
  const float d = detail::to_f16_and_back(detail::signed_absmax(x, 32) / -16.0f);
  int q[32];
  for (int i = 0; i < 32; ++i) q[i] = detail::quantize_to(x[i], d, 0.0f, -16, 15) + 16;
  Q5_0::block b{f32_to_f16(d), {}, {}};
  detail::pack_fifth_bits(q, b.qh);
  detail::pack_nibbles(q, b.qs);
  return b;
}

inline Q5_1::block quantize(type_tag<Q5_1>, const float* x) {
  const auto [d, m] = detail::affine_range(x, 32, 32);
  int q[32];
  for (int i = 0; i < 32; ++i) q[i] = detail::quantize_to(x[i], d, -m, 0, 31);
  Q5_1::block b{f32_to_f16(d), f32_to_f16(m), {}, {}};
  detail::pack_fifth_bits(q, b.qh);
  detail::pack_nibbles(q, b.qs);
  return b;
}

inline Q8_0::block quantize(type_tag<Q8_0>, const float* x) {
  const float d = detail::to_f16_and_back(std::fabs(detail::signed_absmax(x, 32)) / 127.0f);
  Q8_0::block b{f32_to_f16(d), {}};
  for (int i = 0; i < 32; ++i)
    b.qs[i] = static_cast<std::int8_t>(detail::quantize_to(x[i], d, 0.0f, -127, 127));
  return b;
}

namespace detail {

// Shared by Q2_K, Q4_K and Q5_K: groups of `group` elements, x = d*sc*q - dmin*m.
// Writes the codes per group and the quant of every element.
template <int Group, int CodeMax, int QMax>
void quantize_affine_k(const float* x, float& d, float& dmin, int* sc, int* m, int* q) {
  constexpr int groups = 256 / Group;
  float want_scale[groups], want_min[groups];
  float max_scale = 0, max_min = 0;
  for (int g = 0; g < groups; ++g) {
    const float* v = x + g * Group;
    const float lo = std::min(0.0f, *std::min_element(v, v + Group));  // offsets are subtracted
    const float hi = *std::max_element(v, v + Group);
    want_scale[g] = (hi - lo) / QMax;
    want_min[g] = -lo;
    max_scale = std::max(max_scale, want_scale[g]);
    max_min = std::max(max_min, want_min[g]);
  }
  d = to_f16_and_back(max_scale / CodeMax);
  dmin = to_f16_and_back(max_min / CodeMax);
  for (int g = 0; g < groups; ++g) {
    const AffineCodes c = fit_affine(x + g * Group, Group, d, dmin, CodeMax, QMax, want_scale[g], want_min[g]);
    sc[g] = c.sc;
    m[g] = c.m;
    for (int l = 0; l < Group; ++l)
      q[g * Group + l] = quantize_to(x[g * Group + l], d * c.sc, dmin * c.m, 0, QMax);
  }
}

// Shared by Q3_K and Q6_K: 16 groups of 16, x = d*sc*q with signed sc and q.
template <int CodeLo, int CodeHi, int QLo, int QHi>
void quantize_symmetric_k(const float* x, float& d, int* sc, int* q) {
  float want[16];
  float max_abs = 0;
  for (int g = 0; g < 16; ++g) {
    want[g] = signed_absmax(x + 16 * g, 16) / static_cast<float>(QLo);
    max_abs = std::max(max_abs, std::fabs(want[g]));
  }
  d = to_f16_and_back(max_abs / static_cast<float>(std::min(-CodeLo, CodeHi)));
  for (int g = 0; g < 16; ++g) {
    sc[g] = fit_symmetric(x + 16 * g, 16, d, CodeLo, CodeHi, QLo, QHi, want[g]);
    for (int l = 0; l < 16; ++l) q[16 * g + l] = quantize_to(x[16 * g + l], d * sc[g], 0.0f, QLo, QHi);
  }
}

// Q4_K / Q5_K: 8 scales and 8 mins of 6 bits in 12 bytes (see k_scales.hpp).
inline void pack_k_scale_min(const int* sc, const int* m, std::uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 4; ++j) {
    scales[j] = static_cast<std::uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    scales[j + 4] = static_cast<std::uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    scales[j + 8] = static_cast<std::uint8_t>((sc[j + 4] & 15) | ((m[j + 4] & 15) << 4));
  }
}

// Q3_K: 16 signed 6-bit scales, offset by 32, in 12 bytes (see k_scales.hpp).
inline void pack_q3_k_scales(const int* sc, std::uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 16; ++j) {
    const int u = sc[j] + 32;
    scales[j % 8] |= static_cast<std::uint8_t>((u & 15) << (j < 8 ? 0 : 4));
    scales[8 + j % 4] |= static_cast<std::uint8_t>((u >> 4) << (2 * (j / 4)));
  }
}

}  // namespace detail

inline Q2_K::block quantize(type_tag<Q2_K>, const float* x) {
  float d, dmin;
  int sc[16], m[16], q[256];
  detail::quantize_affine_k<16, 15, 3>(x, d, dmin, sc, m, q);
  Q2_K::block b{};
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<std::uint8_t>(sc[g] | (m[g] << 4));
  for (int e = 0; e < 256; ++e)
    b.qs[32 * (e / 128) + e % 32] |= static_cast<std::uint8_t>(q[e] << (2 * ((e / 32) % 4)));
  b.d = f32_to_f16(d);
  b.dmin = f32_to_f16(dmin);
  return b;
}

inline Q3_K::block quantize(type_tag<Q3_K>, const float* x) {
  float d;
  int sc[16], q[256];
  detail::quantize_symmetric_k<-32, 31, -4, 3>(x, d, sc, q);
  Q3_K::block b{};
  for (int e = 0; e < 256; ++e) {
    const int u = q[e] + 4;  // 0..7: low two bits in qs, the third in hmask
    b.qs[32 * (e / 128) + e % 32] |= static_cast<std::uint8_t>((u & 3) << (2 * ((e / 32) % 4)));
    b.hmask[e % 32] |= static_cast<std::uint8_t>((u >> 2) << (e / 32));
  }
  detail::pack_q3_k_scales(sc, b.scales);
  b.d = f32_to_f16(d);
  return b;
}

inline Q4_K::block quantize(type_tag<Q4_K>, const float* x) {
  float d, dmin;
  int sc[8], m[8], q[256];
  detail::quantize_affine_k<32, 63, 15>(x, d, dmin, sc, m, q);
  Q4_K::block b{};
  b.d = f32_to_f16(d);
  b.dmin = f32_to_f16(dmin);
  detail::pack_k_scale_min(sc, m, b.scales);
  for (int e = 0; e < 256; ++e)
    b.qs[32 * (e / 64) + e % 32] |= static_cast<std::uint8_t>(q[e] << (4 * ((e / 32) % 2)));
  return b;
}

inline Q5_K::block quantize(type_tag<Q5_K>, const float* x) {
  float d, dmin;
  int sc[8], m[8], q[256];
  detail::quantize_affine_k<32, 63, 31>(x, d, dmin, sc, m, q);
  Q5_K::block b{};
  b.d = f32_to_f16(d);
  b.dmin = f32_to_f16(dmin);
  detail::pack_k_scale_min(sc, m, b.scales);
  for (int e = 0; e < 256; ++e) {
    b.qs[32 * (e / 64) + e % 32] |= static_cast<std::uint8_t>((q[e] & 15) << (4 * ((e / 32) % 2)));
    b.qh[e % 32] |= static_cast<std::uint8_t>((q[e] >> 4) << (e / 32));
  }
  return b;
}

inline Q6_K::block quantize(type_tag<Q6_K>, const float* x) {
  float d;
  int sc[16], q[256];
  detail::quantize_symmetric_k<-128, 127, -32, 31>(x, d, sc, q);
  Q6_K::block b{};
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<std::int8_t>(sc[g]);
  for (int e = 0; e < 256; ++e) {
    const int u = q[e] + 32, h = e / 128, o = e % 128;
    b.ql[64 * h + o % 64] |= static_cast<std::uint8_t>((u & 15) << (4 * (o / 64)));
    b.qh[32 * h + o % 32] |= static_cast<std::uint8_t>((u >> 4) << (2 * (o / 32)));
  }
  b.d = f32_to_f16(d);
  return b;
}

// x: F::block_elements values. A format without a quantize overload above is a
// compile error here, naming it.
template <QuantFormat F>
typename F::block quantize_block(const float* x) {
  return quantize(type_tag<F>{}, x);
}

}  // namespace pagoda::quant::testing
