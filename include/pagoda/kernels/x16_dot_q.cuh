// kernels::X16Dot<F>: the inner step of gemv_q's staged path. A tile of a
// weight row (tile_blocks whole blocks) sits in shared memory; it is cut into
// units of a few bytes of one block as in WarpDot (warp_dot_q.cuh), and 32
// lanes take 32 units. x arrives as int16 in shared memory
// (quant/activation_q16.hpp: 32 values and one f32 scale per block), so a
// unit's products are 2-way int16 x int8 dot products (dp2a) on the raw
// quants, whose integer sums are exact.
//
// The offsets of the _0 formats and Q6_K (q - 8, q - 16, q - 32) come out
// once per unit through the unit's sum of x, shared by every row of the warp.
// tile_blocks makes a tile a whole number of 16-byte words of ~1-1.7 KB: the
// staging loads are 16 bytes wide whatever the block size.
#pragma once

#if !defined(__CUDACC__)
#error "x16_dot_q.cuh is device code; host code includes pagoda/kernels/gemv_q.cuh"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <pagoda/kernels/gemv_staged_path.hpp>
#include <pagoda/kernels/warp_dot_q.cuh>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

namespace dot {

// Elements i..i+3 of x as two words of two int16 (8-byte aligned: i % 4 == 0).
__device__ __forceinline__ int2 load_x16_4(const std::int16_t* xq) { return *reinterpret_cast<const int2*>(xq); }
// sum_k x16_k * byte_k(w) over four elements.
__device__ __forceinline__ int dot4_x16(int2 x, std::uint32_t w, int acc) {
  return __dp2a_hi(x.y, static_cast<int>(w), __dp2a_lo(x.x, static_cast<int>(w), acc));
}
// sum_k x16_k over four elements.
__device__ __forceinline__ int sum4_x16(int2 x, int acc) {
  return __dp2a_lo(x.y, 0x0101, __dp2a_lo(x.x, 0x0101, acc));
}

}  // namespace dot

// One specialisation per format of gemv_staged_formats (gemv_staged_path.hpp),
// and none for any other: there is no primary definition, so a format listed
// without its X16Dot fails to compile, and one with an X16Dot but not listed
// fails x16_dot_matches_staged_list below. Formats without a staged path keep
// f32 x (WarpDot) and never name X16Dot.
template <class F>
struct X16Dot;

// Q4_0, Q4_1, Q5_0, Q5_1: 4 units of 4 qs bytes per block as WarpDot<Q4_0>:
// elements 4s..4s+3 (low nibbles) and 16+4s.. (high). _0: value (q - offset) * d;
// _1: value q * d + m.
template <class F>
struct X16DotLegacy {
  static constexpr bool five = std::is_same_v<F, quant::Q5_0> || std::is_same_v<F, quant::Q5_1>;
  static constexpr bool with_min = std::is_same_v<F, quant::Q4_1> || std::is_same_v<F, quant::Q5_1>;
  static constexpr int offset = with_min ? 0 : (five ? 16 : 8);
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t tile_blocks = gemv_staged_tile_blocks<F>;
  // Byte offsets within a block: the scale(s), qh (5-bit formats), qs.
  static constexpr int qh_at = with_min ? 4 : 2;
  static constexpr int qs_at = qh_at + (five ? 4 : 0);

  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const std::int16_t* xq,
                                    const float* xd, float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const int2 xl = dot::load_x16_4(xq + 32 * block + 4 * s);
    const int2 xh = dot::load_x16_4(xq + 32 * block + 16 + 4 * s);
    const float dx = xd[block];
    const int x_sum = dot::sum4_x16(xh, dot::sum4_x16(xl, 0));
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + F::block_bytes * block;
      const std::uint32_t q = with_min ? dot::load_u32(b + qs_at + 4 * s) : dot::load_u32_a2(b + qs_at + 4 * s);
      std::uint32_t lo = q & 0x0f0f0f0fu;
      std::uint32_t hi = (q >> 4) & 0x0f0f0f0fu;
      if constexpr (five) {
        const std::uint32_t qh = with_min ? dot::load_u32(b + qh_at) : dot::load_u32_a2(b + qh_at);
        lo |= dot::spread_bit4((qh >> (4 * s)) & 15u);
        hi |= dot::spread_bit4((qh >> (16 + 4 * s)) & 15u);
      }
      const int q_dot = dot::dot4_x16(xh, hi, dot::dot4_x16(xl, lo, 0));
      if constexpr (with_min) {
        const std::uint32_t dm = dot::load_u32(b);
        acc[r] = fmaf(dot::half_bits(dm) * dx, static_cast<float>(q_dot),
                      fmaf(dot::half_bits(dm >> 16) * dx, static_cast<float>(x_sum), acc[r]));
      } else {
        acc[r] = fmaf(dot::load_f16(b) * dx, static_cast<float>(q_dot - offset * x_sum), acc[r]);
      }
    }
  }
};
template <>
struct X16Dot<quant::Q4_0> : X16DotLegacy<quant::Q4_0> {};
template <>
struct X16Dot<quant::Q4_1> : X16DotLegacy<quant::Q4_1> {};
template <>
struct X16Dot<quant::Q5_0> : X16DotLegacy<quant::Q5_0> {};
template <>
struct X16Dot<quant::Q5_1> : X16DotLegacy<quant::Q5_1> {};

// Q8_0 (34 B): 4 units of 8 signed bytes.
template <>
struct X16Dot<quant::Q8_0> {
  static constexpr std::size_t units_per_block = 4;
  static constexpr std::size_t tile_blocks = gemv_staged_tile_blocks<quant::Q8_0>;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const std::int16_t* xq,
                                    const float* xd, float (&acc)[R]) {
    const std::size_t block = unit / 4;
    const int s = static_cast<int>(unit % 4);
    const int2 x0 = dot::load_x16_4(xq + 32 * block + 8 * s);
    const int2 x1 = dot::load_x16_4(xq + 32 * block + 8 * s + 4);
    const float dx = xd[block];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::byte* b = rows[r] + 34 * block;
      const int q_dot = dot::dot4_x16(x1, dot::load_u32_a2(b + 6 + 8 * s),
                                      dot::dot4_x16(x0, dot::load_u32_a2(b + 2 + 8 * s), 0));
      acc[r] = fmaf(dot::load_f16(b) * dx, static_cast<float>(q_dot), acc[r]);
    }
  }
};

// Q4_K / Q5_K: 32 units of 4 qs bytes, as WarpDotK45: unit t reads
// qs[32c + 4k ..] (c = t/8, k = t%8), elements 64c+4k.. of sub-block 2c (low
// nibbles) and 64c+32+4k.. of sub-block 2c+1 (high); the 32-element
// sub-blocks coincide with the activation blocks. value = d*sc*q - dmin*m.
template <class F>
struct X16DotK45 {
  static constexpr bool five = std::is_same_v<F, quant::Q5_K>;
  static constexpr std::size_t units_per_block = 32;
  static constexpr std::size_t tile_blocks = gemv_staged_tile_blocks<F>;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const std::int16_t* xq,
                                    const float* xd, float (&acc)[R]) {
    const std::size_t block = unit / 32;
    const int t = static_cast<int>(unit % 32);
    const int c = t / 8;
    const int k = t % 8;
    const int2 xl = dot::load_x16_4(xq + 256 * block + 64 * c + 4 * k);
    const int2 xh = dot::load_x16_4(xq + 256 * block + 64 * c + 32 + 4 * k);
    const float dxl = xd[8 * block + 2 * c];
    const float dxh = xd[8 * block + 2 * c + 1];
    const float xl_sum = dxl * static_cast<float>(dot::sum4_x16(xl, 0));
    const float xh_sum = dxh * static_cast<float>(dot::sum4_x16(xh, 0));
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const dot::K45Unit u = dot::k45_unit<five>(rows[r] + F::block_bytes * block, c, k);
      const float scaled = fmaf(u.scale0 * dxl, static_cast<float>(dot::dot4_x16(xl, u.lo, 0)),
                                u.scale1 * dxh * static_cast<float>(dot::dot4_x16(xh, u.hi, 0)));
      const float offset = fmaf(u.min0, xl_sum, u.min1 * xh_sum);
      acc[r] = fmaf(u.d, scaled, fmaf(-u.dmin, offset, acc[r]));
    }
  }
};
template <>
struct X16Dot<quant::Q4_K> : X16DotK45<quant::Q4_K> {};
template <>
struct X16Dot<quant::Q5_K> : X16DotK45<quant::Q5_K> {};

// Q6_K (210 B): 32 units as WarpDot<Q6_K>: unit t = 16h + m, elements
// 128h+4m.. (scale 8h + m/4) and 128h+64+4m.. (scale 8h + 4 + m/4);
// value = d * sc * (q - 32).
template <>
struct X16Dot<quant::Q6_K> {
  static constexpr std::size_t units_per_block = 32;
  static constexpr std::size_t tile_blocks = gemv_staged_tile_blocks<quant::Q6_K>;
  template <int R>
  __device__ static void accumulate(const std::byte* const (&rows)[R], std::size_t unit, const std::int16_t* xq,
                                    const float* xd, float (&acc)[R]) {
    const std::size_t block = unit / 32;
    const int t = static_cast<int>(unit % 32);
    const int h = t / 16;
    const int m = t % 16;
    const int2 xl = dot::load_x16_4(xq + 256 * block + 128 * h + 4 * m);
    const int2 xh = dot::load_x16_4(xq + 256 * block + 128 * h + 64 + 4 * m);
    const float dxl = xd[8 * block + 4 * h + m / 8];
    const float dxh = xd[8 * block + 4 * h + 2 + m / 8];
    const int xl_offset = 32 * dot::sum4_x16(xl, 0);
    const int xh_offset = 32 * dot::sum4_x16(xh, 0);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const dot::Q6KUnit u = dot::q6k_unit(rows[r] + 210 * block, h, m);
      const int sum_lo = dot::dot4_x16(xl, u.lo, 0) - xl_offset;
      const int sum_hi = dot::dot4_x16(xh, u.hi, 0) - xh_offset;
      const float scaled = fmaf(u.scale_lo * dxl, static_cast<float>(sum_lo),
                                u.scale_hi * dxh * static_cast<float>(sum_hi));
      acc[r] = fmaf(u.d, scaled, acc[r]);
    }
  }
};

namespace detail {

template <class T, class = void>
inline constexpr bool is_complete = false;
template <class T>
inline constexpr bool is_complete<T, std::void_t<decltype(sizeof(T))>> = true;

}  // namespace detail

// Checked where gemv_q<F> is instantiated (launch_staged_kernel), so every
// format a program computes with is checked, pagoda's and a consumer's own.
template <class F>
inline constexpr bool x16_dot_matches_staged_list = detail::is_complete<X16Dot<F>> == gemv_has_staged_path<F>;

}  // namespace pagoda::kernels
