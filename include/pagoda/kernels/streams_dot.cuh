// kernels::StreamsDot<F>: the inner step of the decode GEMV on the
// field-streams layout (gemv_streams.cuh). A *unit* is 16 bytes of 4-bit
// quants (32 for Q8_0) that one lane loads whole, 16-byte aligned, with the
// few bytes of scales it needs from their own streams; consecutive lanes load
// consecutive units, so a warp's load is 512 contiguous bytes of quants.
//
// A unit's low nibbles meet one 16-element half of an x block and its high
// nibbles another (XHalf: two 16-byte chunks of int16 x in shared memory,
// quant/activation_q16.hpp), as 2-way int16 x int8 dot products (dp2a):
//   Q4_0..Q5_1, Q8_0: a unit is a block; halves 0 and 1 of that block.
//   Q4_K, Q5_K: unit j of a super-block is qs[16j..16j+15]: half j%2 of
//     sub-blocks 2(j/2) (low) and 2(j/2)+1 (high), each with its scale and min.
//   Q6_K: unit j = 4h + q is ql[64h+16q..]: low nibbles are elements
//     128h+16q.. and high ones 128h+64+16q.., their top bits in
//     qh[32h+16(q%2)..] (bits 2(q/2) and 4+2(q/2)), one int8 scale each.
// The x sums that the offsets (q - 8, q - 32, mins) need are computed once per
// unit and shared by the R rows of the warp; the integer sums are exact.
#pragma once

#if !defined(__CUDACC__)
#error "streams_dot.cuh is device code"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <pagoda/kernels/warp_dot_q.cuh>
#include <pagoda/quant/field_streams.hpp>

namespace pagoda::kernels {

namespace streams {

// 16 consecutive elements of x as int16 pairs: a = elements 0..7, b = 8..15.
struct XHalf {
  int4 a, b;
};

// x in shared memory, chunk-major (quantize_x16_to_shared<.., true>).
struct XShared {
  const int4* chunks;  // chunk c of block b at c * blocks + b
  const float* scales;  // (blocks)
  std::size_t blocks;

  __device__ __forceinline__ XHalf half(std::size_t block, int h) const {
    return {chunks[(2 * h) * blocks + block], chunks[(2 * h + 1) * blocks + block]};
  }
};

// sum_i x_i * byte_i(w) over the 16 elements, w[k] holding elements 4k..4k+3.
__device__ __forceinline__ int dot16(const XHalf& x, std::uint32_t w0, std::uint32_t w1, std::uint32_t w2,
                                     std::uint32_t w3) {
  int acc = __dp2a_lo(x.a.x, static_cast<int>(w0), 0);
  acc = __dp2a_hi(x.a.y, static_cast<int>(w0), acc);
  acc = __dp2a_lo(x.a.z, static_cast<int>(w1), acc);
  acc = __dp2a_hi(x.a.w, static_cast<int>(w1), acc);
  acc = __dp2a_lo(x.b.x, static_cast<int>(w2), acc);
  acc = __dp2a_hi(x.b.y, static_cast<int>(w2), acc);
  acc = __dp2a_lo(x.b.z, static_cast<int>(w3), acc);
  return __dp2a_hi(x.b.w, static_cast<int>(w3), acc);
}
__device__ __forceinline__ int dot16(const XHalf& x, uint4 w) { return dot16(x, w.x, w.y, w.z, w.w); }

__device__ __forceinline__ int sum16(const XHalf& x) {
  constexpr int ones = 0x0101;
  int acc = __dp2a_lo(x.a.x, ones, 0);
  acc = __dp2a_lo(x.a.y, ones, acc);
  acc = __dp2a_lo(x.a.z, ones, acc);
  acc = __dp2a_lo(x.a.w, ones, acc);
  acc = __dp2a_lo(x.b.x, ones, acc);
  acc = __dp2a_lo(x.b.y, ones, acc);
  acc = __dp2a_lo(x.b.z, ones, acc);
  return __dp2a_lo(x.b.w, ones, acc);
}

__device__ __forceinline__ uint4 low_nibbles(uint4 q) {
  return {q.x & 0x0f0f0f0fu, q.y & 0x0f0f0f0fu, q.z & 0x0f0f0f0fu, q.w & 0x0f0f0f0fu};
}
__device__ __forceinline__ uint4 high_nibbles(uint4 q) {
  return {(q.x >> 4) & 0x0f0f0f0fu, (q.y >> 4) & 0x0f0f0f0fu, (q.z >> 4) & 0x0f0f0f0fu, (q.w >> 4) & 0x0f0f0f0fu};
}
// Bit `shift` of each byte of h (a run-time shift), moved to bit 4 (the fifth bit).
__device__ __forceinline__ uint4 fifth_bits(uint4 h, int shift) {
  return {((h.x >> shift) & 0x01010101u) << 4, ((h.y >> shift) & 0x01010101u) << 4,
          ((h.z >> shift) & 0x01010101u) << 4, ((h.w >> shift) & 0x01010101u) << 4};
}
__device__ __forceinline__ uint4 bit_or(uint4 a, uint4 b) { return {a.x | b.x, a.y | b.y, a.z | b.z, a.w | b.w}; }

template <class T>
__device__ __forceinline__ T load_as(const std::uint8_t* p) {
  return *reinterpret_cast<const T*>(p);
}

// Byte i (run time, 0..15) of a 16-byte word, by selects (no local memory).
__device__ __forceinline__ std::uint32_t byte_of(uint4 w, int i) {
  const std::uint32_t word = i < 8 ? (i < 4 ? w.x : w.y) : (i < 12 ? w.z : w.w);
  return (word >> (8 * (i & 3))) & 0xffu;
}

}  // namespace streams

// Formats without the field-streams layout have no StreamsDot: instantiating
// one is a compile-time error, never a silent fallback.
template <class F>
struct StreamsDot {
  static_assert(quant::HasFieldStreams<F> && !quant::HasFieldStreams<F>,
                "StreamsDot: no field-streams GEMV for this format");
};

// Q4_0, Q4_1, Q5_0, Q5_1: a unit is a block: qs (elements j and j+16 in byte
// j), qh (bit j: element j's fifth bit), d (and m).
template <class F>
struct StreamsDotLegacy {
  using B = typename F::block;
  static constexpr bool five = std::is_same_v<F, quant::Q5_0> || std::is_same_v<F, quant::Q5_1>;
  static constexpr bool with_min = std::is_same_v<F, quant::Q4_1> || std::is_same_v<F, quant::Q5_1>;
  static constexpr int offset = with_min ? 0 : (five ? 16 : 8);
  static constexpr int units_per_block = 1;
  static constexpr int units_per_step = 2;
  struct Raw {
    uint4 qs;
    std::uint32_t qh;  // five only
    std::uint32_t dm;  // d (and m in the high half)
  };
  __device__ static Raw load(const quant::FieldStreamRow<F>& row, std::size_t unit) {
    Raw r;
    r.qs = streams::load_as<uint4>(row.template bytes<offsetof(B, qs)>(unit));
    if constexpr (five) r.qh = streams::load_as<std::uint32_t>(row.template bytes<offsetof(B, qh)>(unit));
    if constexpr (with_min) r.dm = streams::load_as<std::uint32_t>(row.template bytes<offsetof(B, d)>(unit));
    else r.dm = streams::load_as<std::uint16_t>(row.template bytes<offsetof(B, d)>(unit));
    return r;
  }
  template <int R>
  __device__ static void accumulate(const Raw (&raw)[R], std::size_t unit, const streams::XShared& x,
                                    float (&acc)[R]) {
    const streams::XHalf x0 = x.half(unit, 0), x1 = x.half(unit, 1);
    const float dx = x.scales[unit];
    const int x_sum = streams::sum16(x0) + streams::sum16(x1);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      uint4 lo = streams::low_nibbles(raw[r].qs);
      uint4 hi = streams::high_nibbles(raw[r].qs);
      if constexpr (five) {
        const std::uint32_t h = raw[r].qh;
        lo = streams::bit_or(lo, uint4{dot::spread_bit4(h & 15u), dot::spread_bit4((h >> 4) & 15u),
                                       dot::spread_bit4((h >> 8) & 15u), dot::spread_bit4((h >> 12) & 15u)});
        hi = streams::bit_or(hi, uint4{dot::spread_bit4((h >> 16) & 15u), dot::spread_bit4((h >> 20) & 15u),
                                       dot::spread_bit4((h >> 24) & 15u), dot::spread_bit4(h >> 28)});
      }
      const int q_dot = streams::dot16(x0, lo) + streams::dot16(x1, hi);
      const float d = dot::half_bits(raw[r].dm & 0xffffu);
      if constexpr (with_min) {
        acc[r] = fmaf(d * dx, static_cast<float>(q_dot),
                      fmaf(dot::half_bits(raw[r].dm >> 16) * dx, static_cast<float>(x_sum), acc[r]));
      } else {
        acc[r] = fmaf(d * dx, static_cast<float>(q_dot - offset * x_sum), acc[r]);
      }
    }
  }
};
template <>
struct StreamsDot<quant::Q4_0> : StreamsDotLegacy<quant::Q4_0> {};
template <>
struct StreamsDot<quant::Q4_1> : StreamsDotLegacy<quant::Q4_1> {};
template <>
struct StreamsDot<quant::Q5_0> : StreamsDotLegacy<quant::Q5_0> {};
template <>
struct StreamsDot<quant::Q5_1> : StreamsDotLegacy<quant::Q5_1> {};

// Q8_0: a unit is a block: 32 signed bytes in two 16-byte loads, and d.
template <>
struct StreamsDot<quant::Q8_0> {
  using B = quant::Q8_0::block;
  static constexpr int units_per_block = 1;
  static constexpr int units_per_step = 2;
  struct Raw {
    uint4 lo, hi;
    std::uint32_t d;
  };
  __device__ static Raw load(const quant::FieldStreamRow<quant::Q8_0>& row, std::size_t unit) {
    const std::uint8_t* qs = row.template bytes<offsetof(B, qs)>(unit);
    return {streams::load_as<uint4>(qs), streams::load_as<uint4>(qs + 16),
            streams::load_as<std::uint16_t>(row.template bytes<offsetof(B, d)>(unit))};
  }
  template <int R>
  __device__ static void accumulate(const Raw (&raw)[R], std::size_t unit, const streams::XShared& x,
                                    float (&acc)[R]) {
    const streams::XHalf x0 = x.half(unit, 0), x1 = x.half(unit, 1);
    const float dx = x.scales[unit];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int q_dot = streams::dot16(x0, raw[r].lo) + streams::dot16(x1, raw[r].hi);
      acc[r] = fmaf(dot::half_bits(raw[r].d) * dx, static_cast<float>(q_dot), acc[r]);
    }
  }
};

// Q4_K / Q5_K: unit j of a super-block (8 per block): qs[16j..], the 16-byte
// header (d, dmin, 12 scale bytes) and for Q5_K qh[16(j%2)..].
// Q4_K loads two units a step, as the legacy formats: with one, a warp of two
// rows kept ~1 KB of quants in flight, ~16 KB an SM, under what HBM's latency
// asks at full rate (~23 KB), and Q4_K streamed at ~1.5 TB/s where Q4_0
// reached 2.2 (ptxas: 114-120 registers, no spills, still one 512-thread
// block an SM). Q5_K's extra qh word would spill at two (128 registers).
template <class F>
struct StreamsDotK45 {
  using B = typename F::block;
  static constexpr bool five = std::is_same_v<F, quant::Q5_K>;
  static constexpr int units_per_block = 8;
  static constexpr int units_per_step = five ? 1 : 2;
  struct Raw {
    uint4 qs, header, qh;
  };
  __device__ static Raw load(const quant::FieldStreamRow<F>& row, std::size_t unit) {
    const std::size_t block = unit / 8;
    const int j = static_cast<int>(unit % 8);
    Raw r;
    r.qs = streams::load_as<uint4>(row.template bytes<offsetof(B, qs)>(block) + 16 * j);
    r.header = streams::load_as<uint4>(row.template bytes<offsetof(B, d)>(block));
    if constexpr (five) r.qh = streams::load_as<uint4>(row.template bytes<offsetof(B, qh)>(block) + 16 * (j % 2));
    return r;
  }
  template <int R>
  __device__ static void accumulate(const Raw (&raw)[R], std::size_t unit, const streams::XShared& x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 8;
    const int j = static_cast<int>(unit % 8);
    const int s0 = 2 * (j / 2), s1 = s0 + 1, h = j % 2;
    const streams::XHalf x0 = x.half(8 * block + s0, h), x1 = x.half(8 * block + s1, h);
    const float dx0 = x.scales[8 * block + s0], dx1 = x.scales[8 * block + s1];
    const float x_sum0 = dx0 * static_cast<float>(streams::sum16(x0));
    const float x_sum1 = dx1 * static_cast<float>(streams::sum16(x1));
#pragma unroll
    for (int r = 0; r < R; ++r) {
      uint4 lo = streams::low_nibbles(raw[r].qs);
      uint4 hi = streams::high_nibbles(raw[r].qs);
      if constexpr (five) {
        lo = streams::bit_or(lo, streams::fifth_bits(raw[r].qh, s0));
        hi = streams::bit_or(hi, streams::fifth_bits(raw[r].qh, s1));
      }
      float scale0, min0, scale1, min1;
      dot::k_scale_min(raw[r].header.y, raw[r].header.z, raw[r].header.w, s0, scale0, min0);
      dot::k_scale_min(raw[r].header.y, raw[r].header.z, raw[r].header.w, s1, scale1, min1);
      const float scaled = fmaf(scale0 * dx0, static_cast<float>(streams::dot16(x0, lo)),
                                scale1 * dx1 * static_cast<float>(streams::dot16(x1, hi)));
      const float offset = fmaf(min0, x_sum0, min1 * x_sum1);
      acc[r] = fmaf(dot::half_bits(raw[r].header.x & 0xffffu), scaled,
                    fmaf(-dot::half_bits(raw[r].header.x >> 16), offset, acc[r]));
    }
  }
};
template <>
struct StreamsDot<quant::Q4_K> : StreamsDotK45<quant::Q4_K> {};
template <>
struct StreamsDot<quant::Q5_K> : StreamsDotK45<quant::Q5_K> {};

// Q6_K: unit j = 4h + q of a super-block: ql[64h+16q..], qh[32h+16(q%2)..],
// the 16 scale bytes and d.
template <>
struct StreamsDot<quant::Q6_K> {
  using B = quant::Q6_K::block;
  static constexpr int units_per_block = 8;
  static constexpr int units_per_step = 1;
  struct Raw {
    uint4 ql, qh, scales;
    std::uint32_t d;
  };
  __device__ static Raw load(const quant::FieldStreamRow<quant::Q6_K>& row, std::size_t unit) {
    const std::size_t block = unit / 8;
    const int j = static_cast<int>(unit % 8);
    const int h = j / 4, q = j % 4;
    return {streams::load_as<uint4>(row.template bytes<offsetof(B, ql)>(block) + 64 * h + 16 * q),
            streams::load_as<uint4>(row.template bytes<offsetof(B, qh)>(block) + 32 * h + 16 * (q % 2)),
            streams::load_as<uint4>(row.template bytes<offsetof(B, scales)>(block)),
            streams::load_as<std::uint16_t>(row.template bytes<offsetof(B, d)>(block))};
  }
  template <int R>
  __device__ static void accumulate(const Raw (&raw)[R], std::size_t unit, const streams::XShared& x,
                                    float (&acc)[R]) {
    const std::size_t block = unit / 8;
    const int j = static_cast<int>(unit % 8);
    const int h = j / 4, q = j % 4;
    const std::size_t xb_lo = 8 * block + 4 * h + q / 2, xb_hi = xb_lo + 2;
    const streams::XHalf x0 = x.half(xb_lo, q % 2), x1 = x.half(xb_hi, q % 2);
    const float dx0 = x.scales[xb_lo], dx1 = x.scales[xb_hi];
    const int offset0 = 32 * streams::sum16(x0), offset1 = 32 * streams::sum16(x1);
    const int shift_lo = 2 * (q / 2), shift_hi = 4 + 2 * (q / 2);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const uint4 ql = raw[r].ql, qh = raw[r].qh;
      const auto top = [&](int shift) {
        return uint4{((qh.x >> shift) & 0x03030303u) << 4, ((qh.y >> shift) & 0x03030303u) << 4,
                     ((qh.z >> shift) & 0x03030303u) << 4, ((qh.w >> shift) & 0x03030303u) << 4};
      };
      const uint4 lo = streams::bit_or(streams::low_nibbles(ql), top(shift_lo));
      const uint4 hi = streams::bit_or(streams::high_nibbles(ql), top(shift_hi));
      const auto scale_at = [&](int i) {
        return static_cast<float>(static_cast<std::int8_t>(streams::byte_of(raw[r].scales, i)));
      };
      const float scaled = fmaf(scale_at(8 * h + q) * dx0, static_cast<float>(streams::dot16(x0, lo) - offset0),
                                scale_at(8 * h + 4 + q) * dx1 * static_cast<float>(streams::dot16(x1, hi) - offset1));
      acc[r] = fmaf(dot::half_bits(raw[r].d), scaled, acc[r]);
    }
  }
};

}  // namespace pagoda::kernels
