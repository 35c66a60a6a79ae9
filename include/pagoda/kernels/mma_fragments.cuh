// B fragments of mma.m16n8k16 (mma_sync.cuh) straight from a weight row's
// field-streams bytes (quant/field_streams.hpp) staged in shared memory: the
// dequantization of the prefill GEMM, done in registers by the warp that
// multiplies, with no f16 copy of the weights anywhere.
//
// A stage covers stage_k = 64 elements of K: four k16 chunks. For each
// format, MmaFragments<F> says
//   - parts: what a stage copies of each stream, per row (StagePart);
//   - prepare(fields, k0): the row's scales for the stage (once per stage);
//   - pair(fields, scales, p, t, b): the B registers of two chunks,
//     chunk(p, 0) and chunk(p, 1), for lane t % 4 = t of the row.
// A B fragment wants, of its row, elements 2t, 2t+1 and 2t+8, 2t+9 of the
// chunk. In every format here those sit in the bytes 2t, 2t+1 and 2t+8, 2t+9
// of a 16-byte run of the quants, and the other chunk of the pair sits in
// the same bytes (the high nibbles, or the next qh bits), so two 2-byte
// shared loads feed two chunks.
//
// Nibbles become f16 by the exponent trick: 0x6400 | n is the f16 1024 + n,
// exactly, and 0x6400 | (n << 4) is 1024 + 16 n; one subtraction (or fma)
// gives the integer exactly, one multiply (or fma) applies the scale. So a
// Q4_0 weight is (q - 8) * d rounded once to f16, the value matmul_q's tile
// decoder produces; the K-quants round d * scale (and dmin * min) to f16
// first, then the fma: at most two roundings, within the accuracy budget the
// tests hold the kernel to.
// Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <array>
#include <cstdint>

#include <cuda_fp16.h>

#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/k_scales.hpp>

namespace pagoda::kernels::mma {

inline constexpr int stage_k = 64;  // elements of K per pipeline stage: 4 chunks of 16

// What one stage copies of stream `stream`, per row: the part of the field
// that covers its 64 elements. A field is split along K into parts of
// `unit_elements` (the block's size when it is not split): Q4_K's 128 bytes
// of quants are four 32-byte parts of 64 elements; Q4_0's 16 are one part of
// 32 elements, so a stage takes two consecutive ones.
struct StagePart {
  int stream;
  int unit_elements;
  int part_bytes;

  [[nodiscard]] constexpr int stage_bytes() const {
    return part_bytes * (unit_elements < stage_k ? stage_k / unit_elements : 1);
  }
  // A 2-byte part (Q6_K's d) is copied as the aligned 4-byte word holding it.
  [[nodiscard]] constexpr int copy_bytes() const {
    return stage_bytes() >= 16 ? 16 : (stage_bytes() < 4 ? 4 : stage_bytes());
  }
  [[nodiscard]] constexpr int copies() const { return stage_bytes() >= 16 ? stage_bytes() / 16 : 1; }
  // Row pitch in shared memory: 32- and 64-byte parts get 16 bytes of pad,
  // so that the 8 rows of a fragment's lanes fall in distinct banks.
  [[nodiscard]] constexpr int pitch() const {
    return stage_bytes() % 32 == 0 ? stage_bytes() + 16 : copy_bytes() * copies();
  }
  // Offset of the stage at element k0 within the row's entries of the stream,
  // whose blocks hold block_elements elements and field_bytes bytes of it.
  // Plain values on purpose: device code must not read the host's constexpr
  // tables at run time (they have no device copy: the read is of address 0).
  [[nodiscard]] constexpr std::size_t offset(int k0, int block_elements, std::size_t field_bytes) const {
    const auto block = static_cast<std::size_t>(k0 / block_elements);
    const int in_block = k0 % block_elements;
    const std::size_t at = block * field_bytes + static_cast<std::size_t>(in_block / unit_elements * part_bytes);
    return stage_bytes() < 4 ? at & ~std::size_t{3} : at;
  }
};

namespace bits {

inline constexpr std::uint32_t f16_1024 = 0x64006400u;  // 1024 in both halves

__device__ __forceinline__ __half2 h2(std::uint32_t u) { return *reinterpret_cast<const __half2*>(&u); }
__device__ __forceinline__ std::uint32_t u32(__half2 h) { return *reinterpret_cast<const std::uint32_t*>(&h); }
__device__ __forceinline__ __half2 splat(float v) { return __float2half2_rn(v); }

// Bytes p[0], p[1] of shared memory into bytes 0 and 2: [p0, 0, p1, 0].
__device__ __forceinline__ std::uint32_t spread(const std::uint8_t* p) {
  return __byte_perm(*reinterpret_cast<const std::uint16_t*>(p), 0u, 0x4140);
}
// (x & Mask) | bits in one LOP3: written plainly, with both constants as
// immediates, it compiles to two (SASS LOP3 takes one immediate), so `bits`
// goes in a register.
template <std::uint32_t Mask>
__device__ __forceinline__ std::uint32_t and_or(std::uint32_t x, std::uint32_t bits) {
  std::uint32_t out;
  asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(out) : "r"(x), "n"(Mask), "r"(bits));  // (a & b) | c
  return out;
}
// 1024 + low nibble of byte 0 / byte 2, as f16 pair.
__device__ __forceinline__ __half2 low_nibbles(std::uint32_t x) { return h2(and_or<0x000f000fu>(x, f16_1024)); }
// 1024 + 16 * high nibble.
__device__ __forceinline__ __half2 high_nibbles(std::uint32_t x) { return h2(and_or<0x00f000f0u>(x, f16_1024)); }
// The integers of low_nibbles / high_nibbles, minus `bias`, exactly.
__device__ __forceinline__ __half2 low_minus(std::uint32_t x, float bias) {
  return __hsub2(low_nibbles(x), splat(1024.0f + bias));
}
__device__ __forceinline__ __half2 high_minus(std::uint32_t x, float bias) {
  return __hfma2(high_nibbles(x), splat(1.0f / 16.0f), splat(-64.0f - bias));
}
// The 5th bit of a 5-bit quant, from the bits `e` and `e + 1` of qh, into bit 4 of each half.
__device__ __forceinline__ std::uint32_t qh_pair(std::uint32_t qh, int e) {
  const std::uint32_t v = qh >> e;
  return ((v & 1u) << 4) | ((v & 2u) << 19);
}
__device__ __forceinline__ float half_at(const std::uint8_t* p) { return __half2float(*reinterpret_cast<const __half*>(p)); }
__device__ __forceinline__ std::uint32_t word_at(const std::uint8_t* p) { return *reinterpret_cast<const std::uint32_t*>(p); }

}  // namespace bits

template <class F>
struct MmaFragments;  // no specialisation: the format has no tensor-core prefill path

// Pairs in 32-element-block formats: block p of the stage gives chunks 2p, 2p + 1.
struct TwoBlockPairs {
  static constexpr int chunk(int p, int j) { return 2 * p + j; }
};
// Pairs in K-quants: chunk p of the stage's two sub-blocks (low, high nibbles) gives chunks p, p + 2.
struct SubBlockPairs {
  static constexpr int chunk(int p, int j) { return p + 2 * j; }
};

// Q4_0 / Q8_0: one f16 d per block, the two blocks' d in stream 1.
struct OneScalePerBlock : TwoBlockPairs {
  struct Scales {
    __half2 d[2];
  };
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int) {
    return {{__half2half2(*reinterpret_cast<const __half*>(f[1])),
             __half2half2(*reinterpret_cast<const __half*>(f[1] + 2))}};
  }
};

template <>
struct MmaFragments<quant::Q4_0> : OneScalePerBlock {
  static constexpr std::array<StagePart, 2> parts{{{0, 32, 16}, {1, 32, 2}}};  // qs, d
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const std::uint32_t x[2] = {spread(f[0] + 16 * p + 2 * t), spread(f[0] + 16 * p + 2 * t + 8)};
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      b[0][i] = u32(__hmul2(low_minus(x[i], 8.0f), s.d[p]));
      b[1][i] = u32(__hmul2(high_minus(x[i], 8.0f), s.d[p]));
    }
  }
};

template <>
struct MmaFragments<quant::Q4_1> : TwoBlockPairs {
  static constexpr std::array<StagePart, 2> parts{{{0, 32, 16}, {1, 32, 4}}};  // qs, (d, m)
  struct Scales {
    __half2 d[2], m[2];
  };
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int) {
    const auto* dm = reinterpret_cast<const __half*>(f[1]);
    return {{__half2half2(dm[0]), __half2half2(dm[2])}, {__half2half2(dm[1]), __half2half2(dm[3])}};
  }
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const std::uint32_t x[2] = {spread(f[0] + 16 * p + 2 * t), spread(f[0] + 16 * p + 2 * t + 8)};
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      b[0][i] = u32(__hfma2(low_minus(x[i], 0.0f), s.d[p], s.m[p]));
      b[1][i] = u32(__hfma2(high_minus(x[i], 0.0f), s.d[p], s.m[p]));
    }
  }
};

// Q5_0 / Q5_1: element e of a block takes its 5th bit from bit e of qh.
template <class F, bool WithMin>
struct Q5LegacyFragments : TwoBlockPairs {
  struct Scales {
    __half2 d[2], m[2];
    std::uint32_t qh[2];
  };
  __device__ __forceinline__ static void pair_with(const std::uint8_t* qs, const Scales& s, int p, int t,
                                                   std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const std::uint32_t x[2] = {spread(qs + 16 * p + 2 * t), spread(qs + 16 * p + 2 * t + 8)};
    constexpr float bias = WithMin ? 0.0f : 16.0f;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int e = 2 * t + 8 * i;  // element of the block's first chunk; +16 in the second
      const __half2 lo = h2((x[i] & 0x000f000fu) | qh_pair(s.qh[p], e) | f16_1024);
      const __half2 hi = h2(((x[i] >> 4) & 0x000f000fu) | qh_pair(s.qh[p], e + 16) | f16_1024);
      const __half2 lo_q = __hsub2(lo, splat(1024.0f + bias));
      const __half2 hi_q = __hsub2(hi, splat(1024.0f + bias));
      if constexpr (WithMin) {
        b[0][i] = u32(__hfma2(lo_q, s.d[p], s.m[p]));
        b[1][i] = u32(__hfma2(hi_q, s.d[p], s.m[p]));
      } else {
        b[0][i] = u32(__hmul2(lo_q, s.d[p]));
        b[1][i] = u32(__hmul2(hi_q, s.d[p]));
      }
    }
  }
};

template <>
struct MmaFragments<quant::Q5_0> : Q5LegacyFragments<quant::Q5_0, false> {
  static constexpr std::array<StagePart, 3> parts{{{0, 32, 16}, {1, 32, 4}, {2, 32, 2}}};  // qs, qh, d
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int) {
    const auto* d = reinterpret_cast<const __half*>(f[2]);
    const __half2 zero = __float2half2_rn(0.0f);
    return {{__half2half2(d[0]), __half2half2(d[1])}, {zero, zero}, {bits::word_at(f[1]), bits::word_at(f[1] + 4)}};
  }
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    pair_with(f[0], s, p, t, b);
  }
};

template <>
struct MmaFragments<quant::Q5_1> : Q5LegacyFragments<quant::Q5_1, true> {
  static constexpr std::array<StagePart, 3> parts{{{0, 32, 16}, {1, 32, 4}, {2, 32, 4}}};  // qs, qh, (d, m)
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int) {
    const auto* dm = reinterpret_cast<const __half*>(f[2]);
    return {{__half2half2(dm[0]), __half2half2(dm[2])},
            {__half2half2(dm[1]), __half2half2(dm[3])},
            {bits::word_at(f[1]), bits::word_at(f[1] + 4)}};
  }
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    pair_with(f[0], s, p, t, b);
  }
};

template <>
struct MmaFragments<quant::Q8_0> : OneScalePerBlock {
  static constexpr std::array<StagePart, 2> parts{{{0, 32, 32}, {1, 32, 2}}};  // qs, d
  // Two signed bytes -> their f16 pair: (b ^ 0x80) | 0x6400 is 1024 + 128 + b.
  __device__ __forceinline__ static __half2 signed_pair(const std::uint8_t* p) {
    using namespace bits;
    return __hsub2(h2((spread(p) ^ 0x00800080u) | f16_1024), splat(1152.0f));
  }
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const std::uint8_t* qs = f[0] + 32 * p + 2 * t;
#pragma unroll
    for (int j = 0; j < 2; ++j)
#pragma unroll
      for (int i = 0; i < 2; ++i) b[j][i] = u32(__hmul2(signed_pair(qs + 16 * j + 8 * i), s.d[p]));
  }
};

// Q4_K / Q5_K: a stage is sub-blocks 2q and 2q + 1 of a super-block (q = its
// quarter), the low and the high nibbles of one 32-byte run of qs; each with
// its 6-bit scale and min from the 16-byte header (d, dmin, scales).
struct KScales {
  __half2 scale[2], neg_min[2];  // d * scale_j and -(dmin * min_j), j = 2q, 2q + 1
  int quarter;
};
__device__ __forceinline__ KScales k_scales(const std::uint8_t* header, int k0) {
  using namespace bits;
  KScales s{};
  s.quarter = (k0 % 256) / 64;
  const float d = half_at(header);
  const float dmin = half_at(header + 2);
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    const quant::ScaleMin sm = quant::k_scale_min(header + 4, 2 * s.quarter + j);
    s.scale[j] = splat(d * static_cast<float>(sm.scale));
    s.neg_min[j] = splat(-dmin * static_cast<float>(sm.min));
  }
  return s;
}

template <>
struct MmaFragments<quant::Q4_K> : SubBlockPairs {
  static constexpr std::array<StagePart, 2> parts{{{0, 64, 32}, {1, 256, 16}}};  // qs, header
  using Scales = KScales;
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int k0) { return k_scales(f[1], k0); }
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const std::uint32_t x[2] = {spread(f[0] + 16 * p + 2 * t), spread(f[0] + 16 * p + 2 * t + 8)};
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      b[0][i] = u32(__hfma2(low_minus(x[i], 0.0f), s.scale[0], s.neg_min[0]));
      b[1][i] = u32(__hfma2(high_minus(x[i], 0.0f), s.scale[1], s.neg_min[1]));
    }
  }
};

template <>
struct MmaFragments<quant::Q5_K> : SubBlockPairs {
  static constexpr std::array<StagePart, 3> parts{{{0, 64, 32}, {1, 256, 32}, {2, 256, 16}}};  // qs, qh, header
  using Scales = KScales;
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int k0) { return k_scales(f[2], k0); }
  // Element l of sub-block j takes its 5th bit from bit j of qh[l].
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const int j0 = 2 * s.quarter;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int at = 16 * p + 2 * t + 8 * i;
      const std::uint32_t x = spread(f[0] + at);
      const std::uint32_t h = spread(f[1] + at);
      const __half2 lo = h2((x & 0x000f000fu) | (((h >> j0) & 0x00010001u) << 4) | f16_1024);
      const __half2 hi = h2(((x >> 4) & 0x000f000fu) | (((h >> (j0 + 1)) & 0x00010001u) << 4) | f16_1024);
      b[0][i] = u32(__hfma2(__hsub2(lo, splat(1024.0f)), s.scale[0], s.neg_min[0]));
      b[1][i] = u32(__hfma2(__hsub2(hi, splat(1024.0f)), s.scale[1], s.neg_min[1]));
    }
  }
};

// Q6_K: a super-block is two halves of 128; in a half, element l (0..31) and
// l + 32, l + 64, l + 96 take the low nibble of ql[l], of ql[l + 32], the high
// nibble of ql[l], of ql[l + 32], and bits 0-1, 2-3, 4-5, 6-7 of qh[l]. A
// stage (quarter q) is half q / 2, nibbles high when q is odd: ql 64 bytes,
// qh 32 bytes, a signed 8-bit scale per 16 elements, d.
template <>
struct MmaFragments<quant::Q6_K> : SubBlockPairs {
  static constexpr std::array<StagePart, 4> parts{{{0, 128, 64}, {1, 128, 32}, {2, 256, 16}, {3, 256, 2}}};
  struct Scales {
    __half2 scale[4];  // d * scale of the stage's four chunks
    int quarter;
  };
  // The word holding d holds d of super-blocks 2i and 2i + 1 (the launcher
  // requires an even number of super-blocks per row, so it is the row's own).
  __device__ __forceinline__ static Scales prepare(const std::uint8_t* const* f, int k0) {
    using namespace bits;
    Scales s{};
    s.quarter = (k0 % 256) / 64;
    const float d = half_at(f[3] + 2 * ((k0 / 256) & 1));
    const auto* scales = reinterpret_cast<const std::int8_t*>(f[2]) + 4 * s.quarter;
#pragma unroll
    for (int c = 0; c < 4; ++c) s.scale[c] = splat(d * static_cast<float>(scales[c]));
    return s;
  }
  __device__ __forceinline__ static void pair(const std::uint8_t* const* f, const Scales& s, int p, int t,
                                              std::uint32_t (&b)[2][2]) {
    using namespace bits;
    const bool high = (s.quarter & 1) != 0;
    const int shift = 4 * (s.quarter & 1);
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int at = 16 * p + 2 * t + 8 * i;
      const std::uint32_t h = spread(f[1] + at);
#pragma unroll
      for (int j = 0; j < 2; ++j) {  // chunk p + 2j: ql[l + 32 j], qh bits 2j (+4 when high)
        const std::uint32_t x = spread(f[0] + 32 * j + at);
        const std::uint32_t nibble = (high ? x >> 4 : x) & 0x000f000fu;
        const std::uint32_t top = ((h >> (shift + 2 * j)) & 0x00030003u) << 4;
        b[j][i] = u32(__hmul2(__hsub2(h2(nibble | top | f16_1024), splat(1056.0f)), s.scale[p + 2 * j]));
      }
    }
  }
};

}  // namespace pagoda::kernels::mma

#endif  // __CUDACC__
