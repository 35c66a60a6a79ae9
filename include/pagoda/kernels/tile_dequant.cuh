// tile_dequant<F>: eight consecutive elements k .. k+7 (k % 8 == 0) of one
// weight row of format F, decoded to f32 (and, where it is exact, straight to
// f16): the unit in which matmul_q fills its shared-memory weight tile (one
// 16-byte store of 8 halves).
//
// Two halves, so that a kernel can issue the loads of its next tile before it
// multiplies the current one and decode after: load() gathers the few bytes
// the eight elements need into registers (Raw), decode() turns them into
// values. Loads are 2-byte (or single-byte) loads: rows of a zero-copy file
// mapping are only 2-byte aligned (576-wide Q4_0 rows are 324 bytes), and
// nothing outside the elements' own block is touched.
//
// Every value is bit-identical to F::dequantize_element (the same products and
// sums, each rounded once; small integers become floats exactly, without the
// device's slow conversion unit): the prefill tests check run() against it on
// the host for every format. The primary template is that definition itself
// (decoded at load time), used for the one-element formats.
// Plain C++ usable on host and device (PAGODA_HD), so g++ compiles it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#endif

#include <pagoda/core/host_device.hpp>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/half.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/k_scales.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

namespace tile_detail {

// A 2-byte aligned little-endian u16 (one 16-bit load on the device).
PAGODA_HD_INLINE std::uint32_t load_u16(const std::uint8_t* p) {
#if defined(__CUDA_ARCH__)
  return *reinterpret_cast<const std::uint16_t*>(p);
#else
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
#endif
}

// Eight bytes starting at a 2-byte aligned address, as two u32 words (byte i
// of the run is bits 8*(i%4) of word i/4).
struct Bytes8 {
  std::uint32_t w[2];
};
PAGODA_HD_INLINE Bytes8 load8(const std::uint8_t* p) {
  return {{load_u16(p) | (load_u16(p + 2) << 16), load_u16(p + 4) | (load_u16(p + 6) << 16)}};
}
PAGODA_HD_INLINE int byte_of(const Bytes8& b, int i) { return static_cast<int>((b.w[i >> 2] >> (8 * (i & 3))) & 0xffu); }

// Exact for |q| < 2^22. On the device an integer add and a float subtract
// (full-rate units) instead of I2F, the quarter-rate conversion.
PAGODA_HD_INLINE float int_to_float(int q) {
#if defined(__CUDA_ARCH__)
  return __int_as_float(0x4B400000 + q) - 12582912.0f;  // 1.5 * 2^23 + q, minus 1.5 * 2^23
#else
  return static_cast<float>(q);
#endif
}

// An f16 scale, widened exactly (the hardware conversion on the device).
PAGODA_HD_INLINE float scale_of(std::uint32_t bits) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(static_cast<unsigned short>(bits)));
#else
  return quant::f16_to_f32({static_cast<std::uint16_t>(bits)});
#endif
}

template <class F>
PAGODA_HD_INLINE const typename F::block& block_at(const std::byte* row, int k) {
  return reinterpret_cast<const typename F::block*>(row)[k / static_cast<int>(F::block_elements)];
}

}  // namespace tile_detail

// Generic: one F::dequantize_element per element, at load time. For
// one-element formats (F32, F16, BF16) `cols` may end inside the eight; those
// elements read as 0.
template <quant::QuantFormat F>
struct TileDequantPerElement {
  struct Raw {
    float v[8];
  };
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int cols) {
    using block = typename F::block;
    constexpr int be = static_cast<int>(F::block_elements);
    const block* blocks = reinterpret_cast<const block*>(row);
    Raw r;
    if constexpr (be == 1) {
      for (int i = 0; i < 8; ++i) r.v[i] = k + i < cols ? F::dequantize_element(blocks[k + i], 0) : 0.0f;
    } else {
      static_assert(be % 8 == 0, "a block holds whole runs of 8 elements");
      const block& b = blocks[k / be];
      for (int i = 0; i < 8; ++i) r.v[i] = F::dequantize_element(b, k % be + i);
    }
    return r;
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int, float (&out)[8]) {
    for (int i = 0; i < 8; ++i) out[i] = r.v[i];
  }
  PAGODA_HD_INLINE static void run(const std::byte* row, int k, int cols, float (&out)[8]) {
    decode(load(row, k, cols), k, out);
  }
};

// One specialisation per format of quant::formats: its own loads below, or
// the per-element decoder above by an explicit opt-in (the one-element
// formats). A format with neither is a compile-time error, not a silent
// fallback.
template <quant::QuantFormat F>
struct TileDequant;
template <>
struct TileDequant<quant::F32> : TileDequantPerElement<quant::F32> {};
template <>
struct TileDequant<quant::F16> : TileDequantPerElement<quant::F16> {};
template <>
struct TileDequant<quant::BF16> : TileDequantPerElement<quant::BF16> {};

// The formats with their own loads share run().
template <class Self>
struct TileDequantBase {
  PAGODA_HD_INLINE static void run(const std::byte* row, int k, int cols, float (&out)[8]) {
    Self::decode(Self::load(row, k, cols), k, out);
  }
};

// Q4_0 / Q4_1: element j in the low nibble of qs[j], j+16 in its high nibble.
template <>
struct TileDequant<quant::Q4_0> : TileDequantBase<TileDequant<quant::Q4_0>> {
  struct Raw {
    tile_detail::Bytes8 q;
    std::uint32_t d;
  };
  // The bytes of elements k..k+7 from a field source (quant::GgufBlockRow or
  // quant::FieldStreamRow): the same bytes, so the same values, in either layout.
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q4_0::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 32;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + k % 16),
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q4_0>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int shift = k % 32 < 16 ? 0 : 4;
    const float d = tile_detail::scale_of(r.d);
    for (int i = 0; i < 8; ++i)
      out[i] = quant::mul_rn(tile_detail::int_to_float(((tile_detail::byte_of(r.q, i) >> shift) & 0x0f) - 8), d);
  }
#if defined(__CUDACC__)
  // Straight to f16, bit-identical to rounding decode()'s values: 0x6400 | q is
  // the half 1024 + q, minus 1032 is q - 8 exactly, and one correctly rounded
  // half product (q - 8) * d equals the f32 product (exact) rounded to f16.
  __device__ __forceinline__ static uint4 decode_halves(const Raw& r, int k) {
    const int shift = k % 32 < 16 ? 0 : 4;
    const __half2 d2 = __half2half2(__ushort_as_half(static_cast<unsigned short>(r.d)));
    const __half2 bias = __float2half2_rn(1032.0f);
    unsigned packed[4];
#pragma unroll
    for (int p = 0; p < 4; ++p) {
      // bytes 2p and 2p+1 of the run -> bits 0..7 and 16..23
      const std::uint32_t spread = __byte_perm(r.q.w[p >> 1], 0u, (p & 1) ? 0x4342u : 0x4140u);
      const std::uint32_t bits = ((spread >> shift) & 0x000f000fu) | 0x64006400u;
      const __half2 v = __hmul2(__hsub2(*reinterpret_cast<const __half2*>(&bits), bias), d2);
      packed[p] = *reinterpret_cast<const unsigned*>(&v);
    }
    return make_uint4(packed[0], packed[1], packed[2], packed[3]);
  }
#endif
};

template <>
struct TileDequant<quant::Q4_1> : TileDequantBase<TileDequant<quant::Q4_1>> {
  struct Raw {
    tile_detail::Bytes8 q;
    std::uint32_t d, m;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q4_1::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 32;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + k % 16),
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb)),
            tile_detail::load_u16(src.template bytes<offsetof(B, m)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q4_1>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int shift = k % 32 < 16 ? 0 : 4;
    const float d = tile_detail::scale_of(r.d);
    const float m = tile_detail::scale_of(r.m);
    for (int i = 0; i < 8; ++i)
      out[i] = quant::add_rn(
          quant::mul_rn(tile_detail::int_to_float((tile_detail::byte_of(r.q, i) >> shift) & 0x0f), d), m);
  }
};

// Q5_0 / Q5_1: as Q4, plus bit j of qh; eight aligned elements use one byte of qh.
template <>
struct TileDequant<quant::Q5_0> : TileDequantBase<TileDequant<quant::Q5_0>> {
  struct Raw {
    tile_detail::Bytes8 q;
    std::uint32_t high, d;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q5_0::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 32;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + k % 16),
            src.template bytes<offsetof(B, qh)>(kb)[k % 32 / 8],
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q5_0>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int shift = k % 32 < 16 ? 0 : 4;
    const float d = tile_detail::scale_of(r.d);
    for (int i = 0; i < 8; ++i) {
      const int q = ((tile_detail::byte_of(r.q, i) >> shift) & 0x0f) | static_cast<int>(((r.high >> i) & 1u) << 4);
      out[i] = quant::mul_rn(tile_detail::int_to_float(q - 16), d);
    }
  }
};

template <>
struct TileDequant<quant::Q5_1> : TileDequantBase<TileDequant<quant::Q5_1>> {
  struct Raw {
    tile_detail::Bytes8 q;
    std::uint32_t high, d, m;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q5_1::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 32;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + k % 16),
            src.template bytes<offsetof(B, qh)>(kb)[k % 32 / 8],
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb)),
            tile_detail::load_u16(src.template bytes<offsetof(B, m)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q5_1>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int shift = k % 32 < 16 ? 0 : 4;
    const float d = tile_detail::scale_of(r.d);
    const float m = tile_detail::scale_of(r.m);
    for (int i = 0; i < 8; ++i) {
      const int q = ((tile_detail::byte_of(r.q, i) >> shift) & 0x0f) | static_cast<int>(((r.high >> i) & 1u) << 4);
      out[i] = quant::add_rn(quant::mul_rn(tile_detail::int_to_float(q), d), m);
    }
  }
};

template <>
struct TileDequant<quant::Q8_0> : TileDequantBase<TileDequant<quant::Q8_0>> {
  struct Raw {
    tile_detail::Bytes8 q;
    std::uint32_t d;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q8_0::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 32;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + k % 32),
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q8_0>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int, float (&out)[8]) {
    const float d = tile_detail::scale_of(r.d);
    for (int i = 0; i < 8; ++i)
      out[i] = quant::mul_rn(
          tile_detail::int_to_float(static_cast<std::int8_t>(static_cast<std::uint8_t>(tile_detail::byte_of(r.q, i)))),
          d);
  }
};

// Q2_K: eight aligned elements share one 16-element group (scale byte) and one lane shift.
template <>
struct TileDequant<quant::Q2_K> : TileDequantBase<TileDequant<quant::Q2_K>> {
  struct Raw {
    tile_detail::Bytes8 q;
    std::uint32_t sc, d, dmin;
  };
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    const auto& b = tile_detail::block_at<quant::Q2_K>(row, k);
    const int e = k % 256;
    return {tile_detail::load8(b.qs + 32 * (e / 128) + e % 32), b.scales[e / 16], b.d.bits, b.dmin.bits};
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int shift = 2 * ((k % 256 / 32) % 4);
    const float scale = quant::mul_rn(tile_detail::scale_of(r.d), tile_detail::int_to_float(static_cast<int>(r.sc & 0x0f)));
    const float offset = quant::mul_rn(tile_detail::scale_of(r.dmin), tile_detail::int_to_float(static_cast<int>(r.sc >> 4)));
    for (int i = 0; i < 8; ++i)
      out[i] = quant::sub_rn(
          quant::mul_rn(scale, tile_detail::int_to_float((tile_detail::byte_of(r.q, i) >> shift) & 3)), offset);
  }
};

// Q3_K: the 6-bit signed scale of group j = e/16 is the nibble of scales[j % 8]
// (low for j < 8) and bits 2*(j/4) of scales[8 + j % 4] (quant::q3_k_scale).
template <>
struct TileDequant<quant::Q3_K> : TileDequantBase<TileDequant<quant::Q3_K>> {
  struct Raw {
    tile_detail::Bytes8 low, high;
    std::uint32_t scale_low, scale_high, d;
  };
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    const auto& b = tile_detail::block_at<quant::Q3_K>(row, k);
    const int e = k % 256;
    const int j = e / 16;
    return {tile_detail::load8(b.qs + 32 * (e / 128) + e % 32), tile_detail::load8(b.hmask + e % 32),
            b.scales[j % 8], b.scales[8 + j % 4], b.d.bits};
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int e = k % 256;
    const int j = e / 16;
    const int shift = 2 * ((e / 32) % 4);
    const int hbit = e / 32;
    const int low = static_cast<int>(j < 8 ? (r.scale_low & 0x0f) : (r.scale_low >> 4));
    const int high = static_cast<int>((r.scale_high >> (2 * (j / 4))) & 3);
    const float scale = quant::mul_rn(tile_detail::scale_of(r.d), tile_detail::int_to_float((low | (high << 4)) - 32));
    for (int i = 0; i < 8; ++i) {
      const int q = ((tile_detail::byte_of(r.low, i) >> shift) & 3) - (((tile_detail::byte_of(r.high, i) >> hbit) & 1) ? 0 : 4);
      out[i] = quant::mul_rn(scale, tile_detail::int_to_float(q));
    }
  }
};

// Q4_K / Q5_K: eight aligned elements share one 32-element sub-block s; its
// 6-bit scale and min come from three bytes of `scales` (quant::k_scale_min).
struct KScaleBytes {
  std::uint32_t a, b, c;  // s < 4: scales[s], scales[s+4]; else scales[s+4], scales[s-4], scales[s]
};
PAGODA_HD_INLINE KScaleBytes load_k_scale_bytes(const std::uint8_t* scales, int s) {
  return s < 4 ? KScaleBytes{scales[s], scales[s + 4], 0u} : KScaleBytes{scales[s + 4], scales[s - 4], scales[s]};
}
PAGODA_HD_INLINE quant::ScaleMin k_scale_min_of(const KScaleBytes& x, int s) {
  if (s < 4) return {static_cast<int>(x.a & 0x3f), static_cast<int>(x.b & 0x3f)};
  return {static_cast<int>((x.a & 0x0f) | ((x.b >> 6) << 4)), static_cast<int>((x.a >> 4) | ((x.c >> 6) << 4))};
}

template <>
struct TileDequant<quant::Q4_K> : TileDequantBase<TileDequant<quant::Q4_K>> {
  struct Raw {
    tile_detail::Bytes8 q;
    KScaleBytes sc;
    std::uint32_t d, dmin;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q4_K::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 256;
    const int e = k % 256;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + 32 * (e / 64) + e % 32),
            load_k_scale_bytes(src.template bytes<offsetof(B, scales)>(kb), e / 32),
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb)),
            tile_detail::load_u16(src.template bytes<offsetof(B, dmin)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q4_K>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int s = k % 256 / 32;
    const int shift = 4 * (s % 2);
    const quant::ScaleMin sm = k_scale_min_of(r.sc, s);
    const float scale = quant::mul_rn(tile_detail::scale_of(r.d), tile_detail::int_to_float(sm.scale));
    const float offset = quant::mul_rn(tile_detail::scale_of(r.dmin), tile_detail::int_to_float(sm.min));
    for (int i = 0; i < 8; ++i)
      out[i] = quant::sub_rn(
          quant::mul_rn(scale, tile_detail::int_to_float((tile_detail::byte_of(r.q, i) >> shift) & 0x0f)), offset);
  }
};

template <>
struct TileDequant<quant::Q5_K> : TileDequantBase<TileDequant<quant::Q5_K>> {
  struct Raw {
    tile_detail::Bytes8 low, high;
    KScaleBytes sc;
    std::uint32_t d, dmin;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q5_K::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 256;
    const int e = k % 256;
    return {tile_detail::load8(src.template bytes<offsetof(B, qs)>(kb) + 32 * (e / 64) + e % 32),
            tile_detail::load8(src.template bytes<offsetof(B, qh)>(kb) + e % 32),
            load_k_scale_bytes(src.template bytes<offsetof(B, scales)>(kb), e / 32),
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb)),
            tile_detail::load_u16(src.template bytes<offsetof(B, dmin)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q5_K>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int s = k % 256 / 32;
    const int shift = 4 * (s % 2);
    const quant::ScaleMin sm = k_scale_min_of(r.sc, s);
    const float scale = quant::mul_rn(tile_detail::scale_of(r.d), tile_detail::int_to_float(sm.scale));
    const float offset = quant::mul_rn(tile_detail::scale_of(r.dmin), tile_detail::int_to_float(sm.min));
    for (int i = 0; i < 8; ++i) {
      const int q = ((tile_detail::byte_of(r.low, i) >> shift) & 0x0f) | (((tile_detail::byte_of(r.high, i) >> s) & 1) << 4);
      out[i] = quant::sub_rn(quant::mul_rn(scale, tile_detail::int_to_float(q)), offset);
    }
  }
};

// Q6_K: eight aligned elements share one 16-element scale and both shifts.
template <>
struct TileDequant<quant::Q6_K> : TileDequantBase<TileDequant<quant::Q6_K>> {
  struct Raw {
    tile_detail::Bytes8 low, high;
    std::int32_t scale;
    std::uint32_t d;
  };
  template <class Source>
  PAGODA_HD_INLINE static Raw load_from(const Source& src, int k) {
    using B = quant::Q6_K::block;
    const std::size_t kb = static_cast<std::size_t>(k) / 256;
    const int e = k % 256;
    const int h = e / 128;
    const int o = e % 128;
    return {tile_detail::load8(src.template bytes<offsetof(B, ql)>(kb) + 64 * h + o % 64),
            tile_detail::load8(src.template bytes<offsetof(B, qh)>(kb) + 32 * h + o % 32),
            static_cast<std::int8_t>(src.template bytes<offsetof(B, scales)>(kb)[e / 16]),
            tile_detail::load_u16(src.template bytes<offsetof(B, d)>(kb))};
  }
  PAGODA_HD_INLINE static Raw load(const std::byte* row, int k, int) {
    return load_from(quant::GgufBlockRow<quant::Q6_K>{row}, k);
  }
  PAGODA_HD_INLINE static void decode(const Raw& r, int k, float (&out)[8]) {
    const int o = k % 128;
    const int low_shift = 4 * (o / 64);
    const int high_shift = 2 * (o / 32);
    const float scale = quant::mul_rn(tile_detail::scale_of(r.d), tile_detail::int_to_float(r.scale));
    for (int i = 0; i < 8; ++i) {
      const int q = ((tile_detail::byte_of(r.low, i) >> low_shift) & 0x0f) |
                    (((tile_detail::byte_of(r.high, i) >> high_shift) & 0x03) << 4);
      out[i] = quant::mul_rn(scale, tile_detail::int_to_float(q - 32));
    }
  }
};

}  // namespace pagoda::kernels
