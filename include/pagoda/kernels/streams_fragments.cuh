// kernels::StreamsFragments<F>: mma.m16n8k16 B fragments (f16 weights) from
// the registers that StreamsDot<F>::load filled with one unit of a row in the
// field-streams layout: the few-token product's decoder (matmul_few_streams.cuh),
// on the decode GEMV's own loads, in the K order of streams_fragment_order.hpp.
//
//   prepare(raw, unit) -> Scales: the unit's f16 scale (and offset) pairs, once
//   chunk(raw, scales, unit, c, b): chunk c's two B registers
//
// Nibbles become f16 by the exponent trick of the prefill decoder
// (mma_fragments.cuh, mma::bits): 0x6400 | n is 1024 + n exactly; one
// subtraction gives the integer, one multiply or fma the scale, so a weight is
// the same f16 the prefill GEMM decodes (Q4_0: (q - 8) * d rounded once;
// K-quants: d * scale and dmin * min rounded to f16, then the fma).
// Device-only: nvcc.
#pragma once

#if !defined(__CUDACC__)
#error "streams_fragments.cuh is device code"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda_fp16.h>

#include <pagoda/kernels/mma_fragments.cuh>
#include <pagoda/kernels/streams_dot.cuh>
#include <pagoda/kernels/streams_fragment_order.hpp>

namespace pagoda::kernels {

namespace fragments {

// Word w (compile-time after unrolling) of a 16-byte unit.
__device__ __forceinline__ std::uint32_t word(uint4 v, int w) { return w == 0 ? v.x : (w == 1 ? v.y : (w == 2 ? v.z : v.w)); }
// Bytes 0, 1 (pair 0) or 2, 3 (pair 1) of w into bytes 0 and 2: one register of a B fragment.
__device__ __forceinline__ std::uint32_t pair(std::uint32_t w, int p) {
  return __byte_perm(w, 0u, p == 0 ? 0x4140u : 0x4342u);
}
__device__ __forceinline__ __half2 half2_of(float v) { return __float2half2_rn(v); }

}  // namespace fragments

template <class F>
struct StreamsFragments {
  static_assert(quant::HasFieldStreams<F> && !quant::HasFieldStreams<F>,
                "StreamsFragments: no few-token product for this format");
};

// Q4_0, Q4_1, Q5_0, Q5_1: chunk c is word c / 2 of the block's qs, nibbles
// low (elements 4w..) or high (16 + 4w..), the fifth bits from qh.
template <class F>
struct StreamsFragmentsLegacy {
  using Dot = StreamsDot<F>;
  using Raw = typename Dot::Raw;
  struct Scales {
    __half2 d, m;
  };
  __device__ __forceinline__ static Scales prepare(const Raw& raw, std::size_t) {
    const __half2 d = __half2half2(__ushort_as_half(static_cast<unsigned short>(raw.dm & 0xffffu)));
    if constexpr (Dot::with_min)
      return {d, __half2half2(__ushort_as_half(static_cast<unsigned short>(raw.dm >> 16)))};
    else
      return {d, d};
  }
  __device__ __forceinline__ static void chunk(const Raw& raw, const Scales& s, std::size_t, int c,
                                               std::uint32_t (&b)[2]) {
    using namespace mma::bits;
    const std::uint32_t w = fragments::word(raw.qs, c / 2);
    const bool high = (c % 2) != 0;
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      const std::uint32_t x = fragments::pair(w, p);
      __half2 q;  // the quant minus the format's offset (Q4_0: 8, Q5_0: 16), exactly
      if constexpr (Dot::five) {
        const int e = 16 * (c % 2) + 4 * (c / 2) + 2 * p;  // element of the block in byte 0's nibble
        const std::uint32_t n = high ? (x >> 4) & 0x000f000fu : x & 0x000f000fu;
        q = __hsub2(h2(n | qh_pair(raw.qh, e) | f16_1024), splat(1024.0f + static_cast<float>(Dot::offset)));
      } else {
        q = high ? high_minus(x, static_cast<float>(Dot::offset)) : low_minus(x, static_cast<float>(Dot::offset));
      }
      b[p] = u32(Dot::with_min ? __hfma2(q, s.d, s.m) : __hmul2(q, s.d));
    }
  }
};
template <>
struct StreamsFragments<quant::Q4_0> : StreamsFragmentsLegacy<quant::Q4_0> {};
template <>
struct StreamsFragments<quant::Q4_1> : StreamsFragmentsLegacy<quant::Q4_1> {};
template <>
struct StreamsFragments<quant::Q5_0> : StreamsFragmentsLegacy<quant::Q5_0> {};
template <>
struct StreamsFragments<quant::Q5_1> : StreamsFragmentsLegacy<quant::Q5_1> {};

// Q8_0: chunk c is word c of the block's 32 signed bytes.
template <>
struct StreamsFragments<quant::Q8_0> {
  using Raw = StreamsDot<quant::Q8_0>::Raw;
  struct Scales {
    __half2 d;
  };
  __device__ __forceinline__ static Scales prepare(const Raw& raw, std::size_t) {
    return {__half2half2(__ushort_as_half(static_cast<unsigned short>(raw.d & 0xffffu)))};
  }
  __device__ __forceinline__ static void chunk(const Raw& raw, const Scales& s, std::size_t, int c,
                                               std::uint32_t (&b)[2]) {
    using namespace mma::bits;
    const std::uint32_t w = fragments::word(c < 4 ? raw.lo : raw.hi, c % 4);
#pragma unroll
    for (int p = 0; p < 2; ++p)  // (b ^ 0x80) | 0x6400 is 1024 + 128 + b
      b[p] = u32(__hmul2(__hsub2(h2((fragments::pair(w, p) ^ 0x00800080u) | f16_1024), splat(1152.0f)), s.d));
  }
};

// Q4_K / Q5_K: unit j of a super-block; chunk c is word c / 2 of qs[16j..],
// low nibbles sub-block 2(j/2), high 2(j/2) + 1, each with d * scale and
// -dmin * min; Q5_K's fifth bit is bit (sub-block) of the qh byte of the same element.
template <class F>
struct StreamsFragmentsK45 {
  using Raw = typename StreamsDot<F>::Raw;
  static constexpr bool five = std::is_same_v<F, quant::Q5_K>;
  struct Scales {
    __half2 scale[2], neg_min[2];
  };
  __device__ __forceinline__ static Scales prepare(const Raw& raw, std::size_t unit) {
    const int s0 = 2 * (static_cast<int>(unit % 8) / 2);
    const float d = dot::half_bits(raw.header.x & 0xffffu);
    const float dmin = dot::half_bits(raw.header.x >> 16);
    Scales s;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float scale, min;
      dot::k_scale_min(raw.header.y, raw.header.z, raw.header.w, s0 + h, scale, min);
      s.scale[h] = fragments::half2_of(d * scale);
      s.neg_min[h] = fragments::half2_of(-dmin * min);
    }
    return s;
  }
  __device__ __forceinline__ static void chunk(const Raw& raw, const Scales& s, std::size_t unit, int c,
                                               std::uint32_t (&b)[2]) {
    using namespace mma::bits;
    const int h = c % 2;
    const std::uint32_t w = fragments::word(raw.qs, c / 2);
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      const std::uint32_t x = fragments::pair(w, p);
      __half2 q;
      if constexpr (five) {
        const int sub_block = 2 * (static_cast<int>(unit % 8) / 2) + h;
        const std::uint32_t hb = fragments::pair(fragments::word(raw.qh, c / 2), p);
        const std::uint32_t n = h != 0 ? (x >> 4) & 0x000f000fu : x & 0x000f000fu;
        q = __hsub2(h2(n | (((hb >> sub_block) & 0x00010001u) << 4) | f16_1024), splat(1024.0f));
      } else {
        q = h != 0 ? high_minus(x, 0.0f) : low_minus(x, 0.0f);
      }
      b[p] = u32(__hfma2(q, s.scale[h], s.neg_min[h]));
    }
  }
};
template <>
struct StreamsFragments<quant::Q4_K> : StreamsFragmentsK45<quant::Q4_K> {};
template <>
struct StreamsFragments<quant::Q5_K> : StreamsFragmentsK45<quant::Q5_K> {};

// Q6_K: unit j = 4h + q; chunk c is word c / 2 of ql[64h+16q..], low nibbles
// (elements 128h+16q..) or high (+64), the top two bits from qh[32h+16(q%2)..]
// at bits 2(q/2) (+4 for the high nibbles), an int8 scale for each half.
template <>
struct StreamsFragments<quant::Q6_K> {
  using Raw = StreamsDot<quant::Q6_K>::Raw;
  struct Scales {
    __half2 scale[2];  // d * scale of the low and the high nibbles' 16 elements
  };
  __device__ __forceinline__ static Scales prepare(const Raw& raw, std::size_t unit) {
    const int j = static_cast<int>(unit % 8);
    const int half = j / 4, q = j % 4;
    const float d = dot::half_bits(raw.d & 0xffffu);
    Scales s;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const auto scale = static_cast<std::int8_t>(streams::byte_of(raw.scales, 8 * half + 4 * h + q));
      s.scale[h] = fragments::half2_of(d * static_cast<float>(scale));
    }
    return s;
  }
  __device__ __forceinline__ static void chunk(const Raw& raw, const Scales& s, std::size_t unit, int c,
                                               std::uint32_t (&b)[2]) {
    using namespace mma::bits;
    const int h = c % 2;
    const int shift = 2 * (static_cast<int>(unit % 4) / 2) + 4 * h;
    const std::uint32_t w = fragments::word(raw.ql, c / 2);
    const std::uint32_t top_word = fragments::word(raw.qh, c / 2);
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      const std::uint32_t x = fragments::pair(w, p);
      const std::uint32_t n = h != 0 ? (x >> 4) & 0x000f000fu : x & 0x000f000fu;
      const std::uint32_t top = ((fragments::pair(top_word, p) >> shift) & 0x00030003u) << 4;
      b[p] = u32(__hmul2(__hsub2(h2(n | top | f16_1024), splat(1056.0f)), s.scale[h]));
    }
  }
};

}  // namespace pagoda::kernels
