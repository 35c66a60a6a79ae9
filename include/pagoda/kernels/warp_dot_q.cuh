// kernels::WarpDot<F>: the per-format inner step of gemv_q. A weight row is cut
// into "units" (a few bytes of one block, one lane's step); accumulate() adds
// the dot products of one unit of R rows with the matching x values to acc[R].
// Consecutive units are adjacent bytes of a row, so a warp taking 32
// consecutive units reads contiguous memory. x is loaded once per unit and
// shared by the R rows.
//
// Bytes moved per unit: a few bytes of weights (from DRAM or, zero-copy, from
// host memory; never a byte outside the row) and 4 bytes of x per element
// (L1/L2 resident). Bound: DRAM bandwidth for the fast paths; the generic path
// (any format, through F::dequantize_element) is instruction bound.
//
// Alignment: GGUF puts a tensor at a 32-byte boundary and a row is whole
// blocks, so a block is aligned to gcd(block_bytes, 32): 2 for Q4_0/Q8_0/Q6_K
// (e.g. a 576-wide Q4_0 row is 324 bytes), 4 for Q4_1, 16 for Q4_K/Q5_K. Each
// path states the weight alignment it needs; loads are never wider than that.
#pragma once

#if !defined(__CUDACC__)
#error "warp_dot_q.cuh is device code; host code includes pagoda/kernels/gemv_q.cuh"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda_fp16.h>

#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

namespace dot {

__device__ __forceinline__ std::uint32_t load_u16(const std::byte* p) {
  return *reinterpret_cast<const std::uint16_t*>(p);
}
// Four bytes at a 2-byte boundary.
__device__ __forceinline__ std::uint32_t load_u32_a2(const std::byte* p) {
  return load_u16(p) | (load_u16(p + 2) << 16);
}
__device__ __forceinline__ std::uint32_t load_u32(const std::byte* p) {
  return *reinterpret_cast<const std::uint32_t*>(p);
}
__device__ __forceinline__ float half_bits(std::uint32_t bits) {  // exact, like quant::f16_to_f32
  return __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
}
__device__ __forceinline__ float load_f16(const std::byte* p) { return half_bits(load_u16(p)); }
__device__ __forceinline__ float4 load_x4(const float* x) { return *reinterpret_cast<const float4*>(x); }

// Byte K of w as a float minus (bias - 2^23): the byte lands in the mantissa
// of 2^23 (one PRMT), then one exact subtraction; no int-to-float conversion,
// which runs at a quarter of the FMA rate.
template <int K>
__device__ __forceinline__ float byte_minus(std::uint32_t w, float magic_bias) {
  return __int_as_float(static_cast<int>(__byte_perm(w, 0x4B000000u, 0x7440u | K))) - magic_bias;
}
inline constexpr float magic = 8388608.0f;  // 2^23

// acc + sum_k (byte_k(q) - (bias - 2^23)) * x[k]
__device__ __forceinline__ float dot4(std::uint32_t q, float magic_bias, float4 x, float acc) {
  acc = fmaf(byte_minus<0>(q, magic_bias), x.x, acc);
  acc = fmaf(byte_minus<1>(q, magic_bias), x.y, acc);
  acc = fmaf(byte_minus<2>(q, magic_bias), x.z, acc);
  return fmaf(byte_minus<3>(q, magic_bias), x.w, acc);
}
__device__ __forceinline__ float sum4(float4 x) { return (x.x + x.y) + (x.z + x.w); }

// Bits 0..3 of b to bit 4 of bytes 0..3 (the fifth bit of Q5 quants).
__device__ __forceinline__ std::uint32_t spread_bit4(std::uint32_t b) {
  return ((b * 0x00204081u) & 0x01010101u) << 4;
}

// Scale and min j of a Q4_K/Q5_K block from its scale bytes as three words
// (quant::k_scale_min, without indexing a byte array at a run-time offset).
__device__ __forceinline__ void k_scale_min(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2, int j,
                                            float& scale, float& min) {
  const int i = 8 * (j & 3);
  if (j < 4) {
    scale = static_cast<float>((w0 >> i) & 63u);
    min = static_cast<float>((w1 >> i) & 63u);
  } else {
    const std::uint32_t low = (w2 >> i) & 0xffu;
    scale = static_cast<float>((low & 15u) | (((w0 >> i) >> 6 & 3u) << 4));
    min = static_cast<float>((low >> 4) | (((w1 >> i) >> 6 & 3u) << 4));
  }
}

// One unit of a Q4_K/Q5_K block (c = sub-block pair, k = 4-byte group, as
// WarpDotK45 and X16DotK45 walk it): quants of sub-blocks 2c (lo) and 2c+1
// (hi) as 4 bytes each, their scales and mins, the block's d and dmin.
struct K45Unit {
  std::uint32_t lo, hi;
  float scale0, min0, scale1, min1;
  float d, dmin;
};
template <bool Five>
__device__ __forceinline__ K45Unit k45_unit(const std::byte* b, int c, int k) {
  K45Unit u;
  const std::uint32_t dm = load_u32(b);
  const std::uint32_t w0 = load_u32(b + 4), w1 = load_u32(b + 8), w2 = load_u32(b + 12);
  const std::uint32_t q = load_u32(b + (Five ? 48 : 16) + 32 * c + 4 * k);
  u.lo = q & 0x0f0f0f0fu;
  u.hi = (q >> 4) & 0x0f0f0f0fu;
  if constexpr (Five) {
    const std::uint32_t qh = load_u32(b + 16 + 4 * k);
    u.lo |= ((qh >> (2 * c)) & 0x01010101u) << 4;
    u.hi |= ((qh >> (2 * c + 1)) & 0x01010101u) << 4;
  }
  k_scale_min(w0, w1, w2, 2 * c, u.scale0, u.min0);
  k_scale_min(w0, w1, w2, 2 * c + 1, u.scale1, u.min1);
  u.d = half_bits(dm);
  u.dmin = half_bits(dm >> 16);
  return u;
}

// One unit of a Q6_K block (t = 16h + m): 6-bit quants (0..63) of elements
// 128h+4m.. (lo) and 128h+64+4m.. (hi), their int8 scales, the block's d.
struct Q6KUnit {
  std::uint32_t lo, hi;
  float scale_lo, scale_hi, d;
};
__device__ __forceinline__ Q6KUnit q6k_unit(const std::byte* b, int h, int m) {
  // The fields' offsets from the block struct (ql 0, qh 128, scales 192, d 208).
  using Block = quant::Q6_K::block;
  constexpr std::size_t qh_at = offsetof(Block, qh), scales_at = offsetof(Block, scales), d_at = offsetof(Block, d);
  const int shift = 2 * (m / 8);
  const std::uint32_t ql = load_u32_a2(b + offsetof(Block, ql) + 64 * h + 4 * m);
  const std::uint32_t qh = load_u32_a2(b + qh_at + 32 * h + 4 * (m % 8));
  const auto* scales = reinterpret_cast<const std::int8_t*>(b + scales_at + 8 * h + m / 4);
  return {(ql & 0x0f0f0f0fu) | (((qh >> shift) & 0x03030303u) << 4),
          ((ql >> 4) & 0x0f0f0f0fu) | (((qh >> (shift + 4)) & 0x03030303u) << 4), static_cast<float>(scales[0]),
          static_cast<float>(scales[4]), load_f16(b + d_at)};
}

}  // namespace dot

// Any format, through F::dequantize_element: units of 8 elements of a block
// (1 element for F32/F16/BF16). The reference path, and the only one for
// formats without a fast path.
template <quant::QuantFormat F>
struct GenericDot {
  static constexpr int elements = F::block_elements == 1 ? 1 : 8;
  static_assert(F::block_elements % elements == 0);
  static constexpr std::size_t units_per_block = F::block_elements / elements;
  static constexpr std::size_t weight_alignment = alignof(typename F::block);
  static constexpr std::size_t x_alignment = elements == 8 ? 16 : 4;

  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / units_per_block;
    const int first = static_cast<int>(unit % units_per_block) * elements;
    float xs[elements];
    if constexpr (elements == 8) {
      const float4 a = dot::load_x4(x + 8 * unit);
      const float4 b = dot::load_x4(x + 8 * unit + 4);
      xs[0] = a.x, xs[1] = a.y, xs[2] = a.z, xs[3] = a.w, xs[4] = b.x, xs[5] = b.y, xs[6] = b.z, xs[7] = b.w;
    } else {
      xs[0] = x[unit];
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const auto& b = *reinterpret_cast<const typename F::block*>(rows[r] + block * F::block_bytes);
#pragma unroll
      for (int j = 0; j < elements; ++j) acc[r] = fmaf(F::dequantize_element(b, first + j), xs[j], acc[r]);
    }
  }
};

// The path gemv_q takes, one specialisation per format of quant::formats: a
// fast one below, or GenericDot by an explicit opt-in. A format with neither
// is a compile-time error (an incomplete type), never a silent slow path.
template <quant::QuantFormat F>
struct WarpDot;

// Opted in to the generic path: rare in the models people run (f32 and bf16
// weights, Q2_K and Q3_K) and measured nowhere near the decode roofline.
template <>
struct WarpDot<quant::F32> : GenericDot<quant::F32> {};
template <>
struct WarpDot<quant::BF16> : GenericDot<quant::BF16> {};
template <>
struct WarpDot<quant::Q2_K> : GenericDot<quant::Q2_K> {};
template <>
struct WarpDot<quant::Q3_K> : GenericDot<quant::Q3_K> {};

// F16: one element per unit, hardware conversion.
template <>
struct WarpDot<quant::F16> {
  static constexpr std::size_t units_per_block = 1;
  static constexpr std::size_t weight_alignment = 2;
  static constexpr std::size_t x_alignment = 4;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const float xv = x[unit];
#pragma unroll
    for (int r = 0; r < R; ++r) acc[r] = fmaf(dot::load_f16(rows[r] + 2 * unit), xv, acc[r]);
  }
};

// Q4_0 (18 B): 4 units of 4 qs bytes = elements 4s..4s+3 (low nibbles) and 16+4s.. (high).
template <>
struct WarpDot<quant::Q4_0> {
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t weight_alignment = 2;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const float4 xl = dot::load_x4(x + 32 * block + 4 * s);
    const float4 xh = dot::load_x4(x + 32 * block + 16 + 4 * s);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + 18 * block;
      const std::uint32_t q = dot::load_u32_a2(b + 2 + 4 * s);
      float sum = dot::dot4(q & 0x0f0f0f0fu, dot::magic + 8, xl, 0.0f);
      sum = dot::dot4((q >> 4) & 0x0f0f0f0fu, dot::magic + 8, xh, sum);
      acc[r] = fmaf(dot::load_f16(b), sum, acc[r]);
    }
  }
};

// Q4_1 (20 B, 4-aligned): as Q4_0, x = d*q + m.
template <>
struct WarpDot<quant::Q4_1> {
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t weight_alignment = 4;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const float4 xl = dot::load_x4(x + 32 * block + 4 * s);
    const float4 xh = dot::load_x4(x + 32 * block + 16 + 4 * s);
    const float x_sum = dot::sum4(xl) + dot::sum4(xh);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + 20 * block;
      const std::uint32_t dm = dot::load_u32(b);
      const std::uint32_t q = dot::load_u32(b + 4 + 4 * s);
      float sum = dot::dot4(q & 0x0f0f0f0fu, dot::magic, xl, 0.0f);
      sum = dot::dot4((q >> 4) & 0x0f0f0f0fu, dot::magic, xh, sum);
      acc[r] = fmaf(dot::half_bits(dm), sum, fmaf(dot::half_bits(dm >> 16), x_sum, acc[r]));
    }
  }
};

// Q5_0 (22 B): Q4_0 plus the fifth bits of qh (bit j = element j).
template <>
struct WarpDot<quant::Q5_0> {
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t weight_alignment = 2;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const float4 xl = dot::load_x4(x + 32 * block + 4 * s);
    const float4 xh = dot::load_x4(x + 32 * block + 16 + 4 * s);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + 22 * block;
      const std::uint32_t qh = dot::load_u32_a2(b + 2);
      const std::uint32_t q = dot::load_u32_a2(b + 6 + 4 * s);
      const std::uint32_t lo = (q & 0x0f0f0f0fu) | dot::spread_bit4((qh >> (4 * s)) & 15u);
      const std::uint32_t hi = ((q >> 4) & 0x0f0f0f0fu) | dot::spread_bit4((qh >> (16 + 4 * s)) & 15u);
      const float sum = dot::dot4(hi, dot::magic + 16, xh, dot::dot4(lo, dot::magic + 16, xl, 0.0f));
      acc[r] = fmaf(dot::load_f16(b), sum, acc[r]);
    }
  }
};

// Q5_1 (24 B, 8-aligned): Q5_0's quants with x = d*q + m.
template <>
struct WarpDot<quant::Q5_1> {
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t weight_alignment = 4;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const float4 xl = dot::load_x4(x + 32 * block + 4 * s);
    const float4 xh = dot::load_x4(x + 32 * block + 16 + 4 * s);
    const float x_sum = dot::sum4(xl) + dot::sum4(xh);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + 24 * block;
      const std::uint32_t dm = dot::load_u32(b);
      const std::uint32_t qh = dot::load_u32(b + 4);
      const std::uint32_t q = dot::load_u32(b + 8 + 4 * s);
      const std::uint32_t lo = (q & 0x0f0f0f0fu) | dot::spread_bit4((qh >> (4 * s)) & 15u);
      const std::uint32_t hi = ((q >> 4) & 0x0f0f0f0fu) | dot::spread_bit4((qh >> (16 + 4 * s)) & 15u);
      const float sum = dot::dot4(hi, dot::magic, xh, dot::dot4(lo, dot::magic, xl, 0.0f));
      acc[r] = fmaf(dot::half_bits(dm), sum, fmaf(dot::half_bits(dm >> 16), x_sum, acc[r]));
    }
  }
};

// Q8_0 (34 B): 4 units of 8 signed bytes; q ^ 0x80 = q + 128 as an unsigned byte.
template <>
struct WarpDot<quant::Q8_0> {
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t weight_alignment = 2;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const float4 x0 = dot::load_x4(x + 32 * block + 8 * s);
    const float4 x1 = dot::load_x4(x + 32 * block + 8 * s + 4);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + 34 * block;
      const std::uint32_t q0 = dot::load_u32_a2(b + 2 + 8 * s) ^ 0x80808080u;
      const std::uint32_t q1 = dot::load_u32_a2(b + 6 + 8 * s) ^ 0x80808080u;
      const float sum = dot::dot4(q1, dot::magic + 128, x1, dot::dot4(q0, dot::magic + 128, x0, 0.0f));
      acc[r] = fmaf(dot::load_f16(b), sum, acc[r]);
    }
  }
};

// Q4_K (144 B, 16-aligned): 32 units of 4 qs bytes; unit t reads qs[32c + 4k ..]
// (c = t/8, k = t%8): elements 64c+4k.. (sub-block 2c, low nibbles) and
// 64c+32+4k.. (sub-block 2c+1, high nibbles). Q5_K adds bit e/32 of qh[e%32].
template <class F>
struct WarpDotK45 {
  static constexpr bool five = std::is_same_v<F, quant::Q5_K>;
  static constexpr std::size_t units_per_block = 32;
  static constexpr std::size_t weight_alignment = 4;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 32;
    const int t = static_cast<int>(unit % 32);
    const int c = t / 8;
    const int k = t % 8;
    const float* xb = x + 256 * block + 64 * c + 4 * k;
    const float4 xl = dot::load_x4(xb);
    const float4 xh = dot::load_x4(xb + 32);
    const float xl_sum = dot::sum4(xl);
    const float xh_sum = dot::sum4(xh);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const dot::K45Unit u = dot::k45_unit<five>(rows[r] + F::block_bytes * block, c, k);
      const float sum_lo = dot::dot4(u.lo, dot::magic, xl, 0.0f);
      const float sum_hi = dot::dot4(u.hi, dot::magic, xh, 0.0f);
      const float scaled = fmaf(u.scale0, sum_lo, u.scale1 * sum_hi);
      const float offset = fmaf(u.min0, xl_sum, u.min1 * xh_sum);
      acc[r] = fmaf(u.d, scaled, fmaf(-u.dmin, offset, acc[r]));
    }
  }
};
template <>
struct WarpDot<quant::Q4_K> : WarpDotK45<quant::Q4_K> {};
template <>
struct WarpDot<quant::Q5_K> : WarpDotK45<quant::Q5_K> {};

// Q6_K (210 B): 32 units; unit t = 16h + m reads ql[64h + 4m ..] and
// qh[32h + 4(m%8) ..]: elements 128h + 4m.. (low nibbles, high bits at
// 2*(m/8)) and 128h + 64 + 4m.. (high nibbles, high bits at 4 + 2*(m/8)).
template <>
struct WarpDot<quant::Q6_K> {
  static constexpr std::size_t units_per_block = 32;
  static constexpr std::size_t weight_alignment = 2;
  static constexpr std::size_t x_alignment = 16;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const float* x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 32;
    const int t = static_cast<int>(unit % 32);
    const int h = t / 16;
    const int m = t % 16;
    const float* xb = x + 256 * block + 128 * h + 4 * m;
    const float4 xl = dot::load_x4(xb);
    const float4 xh = dot::load_x4(xb + 64);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const dot::Q6KUnit u = dot::q6k_unit(rows[r] + 210 * block, h, m);
      const float sum_lo = dot::dot4(u.lo, dot::magic + 32, xl, 0.0f);
      const float sum_hi = dot::dot4(u.hi, dot::magic + 32, xh, 0.0f);
      acc[r] = fmaf(u.d, fmaf(u.scale_lo, sum_lo, u.scale_hi * sum_hi), acc[r]);
    }
  }
};

}  // namespace pagoda::kernels
