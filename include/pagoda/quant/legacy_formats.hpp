// ggml's original 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
// One f16 scale d (and for the _1 variants an f16 offset m) per block; 4-bit
// values are packed two per byte with element j in the low nibble of qs[j] and
// element j+16 in its high nibble; the 5-bit formats keep each element's fifth
// bit in a 32-bit little-endian mask qh (bit j belongs to element j).
//   _0: x = (q - 2^(bits-1)) * d        _1: x = q * d + m
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <pagoda/core/host_device.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/quant/half.hpp>

namespace pagoda::quant {

namespace detail {

// Element i (0..31) of a 32-element block whose 4-bit values are split as
// low nibbles (elements 0..15) then high nibbles (elements 16..31).
PAGODA_HD_INLINE int nibble_of(const std::uint8_t* qs, int i) {
  return i < 16 ? (qs[i] & 0x0f) : (qs[i - 16] >> 4);
}

// Bit i (0..31) of a 4-byte little-endian mask, as a value 0 or 1.
PAGODA_HD_INLINE int mask_bit(const std::uint8_t* qh, int i) { return (qh[i >> 3] >> (i & 7)) & 1; }

}  // namespace detail

struct Q4_0 {
  struct block {
    f16_bits d;
    std::uint8_t qs[16];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q4_0;
  static constexpr std::string_view name = "Q4_0";
  static constexpr std::size_t block_elements = 32;
  static constexpr std::size_t block_bytes = 18;

  PAGODA_HD static float dequantize_element(const block& b, int i) {
    return mul_rn(static_cast<float>(detail::nibble_of(b.qs, i) - 8), f16_to_f32(b.d));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < 16; ++j) {
      out[j] = mul_rn(static_cast<float>((b.qs[j] & 0x0f) - 8), d);
      out[j + 16] = mul_rn(static_cast<float>((b.qs[j] >> 4) - 8), d);
    }
  }
};
static_assert(sizeof(Q4_0::block) == Q4_0::block_bytes);

struct Q4_1 {
  struct block {
    f16_bits d;
    f16_bits m;
    std::uint8_t qs[16];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q4_1;
  static constexpr std::string_view name = "Q4_1";
  static constexpr std::size_t block_elements = 32;
  static constexpr std::size_t block_bytes = 20;

  PAGODA_HD static float dequantize_element(const block& b, int i) {
    return add_rn(mul_rn(static_cast<float>(detail::nibble_of(b.qs, i)), f16_to_f32(b.d)),
                  f16_to_f32(b.m));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    const float m = f16_to_f32(b.m);
    for (int j = 0; j < 16; ++j) {
      out[j] = add_rn(mul_rn(static_cast<float>(b.qs[j] & 0x0f), d), m);
      out[j + 16] = add_rn(mul_rn(static_cast<float>(b.qs[j] >> 4), d), m);
    }
  }
};
static_assert(sizeof(Q4_1::block) == Q4_1::block_bytes);

struct Q5_0 {
  struct block {
    f16_bits d;
    std::uint8_t qh[4];
    std::uint8_t qs[16];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q5_0;
  static constexpr std::string_view name = "Q5_0";
  static constexpr std::size_t block_elements = 32;
  static constexpr std::size_t block_bytes = 22;

  PAGODA_HD static float dequantize_element(const block& b, int i) {
    const int q = detail::nibble_of(b.qs, i) | (detail::mask_bit(b.qh, i) << 4);
    return mul_rn(static_cast<float>(q - 16), f16_to_f32(b.d));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b.qs[j] & 0x0f) | (detail::mask_bit(b.qh, j) << 4);
      const int hi = (b.qs[j] >> 4) | (detail::mask_bit(b.qh, j + 16) << 4);
      out[j] = mul_rn(static_cast<float>(lo - 16), d);
      out[j + 16] = mul_rn(static_cast<float>(hi - 16), d);
    }
  }
};
static_assert(sizeof(Q5_0::block) == Q5_0::block_bytes);

struct Q5_1 {
  struct block {
    f16_bits d;
    f16_bits m;
    std::uint8_t qh[4];
    std::uint8_t qs[16];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q5_1;
  static constexpr std::string_view name = "Q5_1";
  static constexpr std::size_t block_elements = 32;
  static constexpr std::size_t block_bytes = 24;

  PAGODA_HD static float dequantize_element(const block& b, int i) {
    const int q = detail::nibble_of(b.qs, i) | (detail::mask_bit(b.qh, i) << 4);
    return add_rn(mul_rn(static_cast<float>(q), f16_to_f32(b.d)), f16_to_f32(b.m));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    const float m = f16_to_f32(b.m);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b.qs[j] & 0x0f) | (detail::mask_bit(b.qh, j) << 4);
      const int hi = (b.qs[j] >> 4) | (detail::mask_bit(b.qh, j + 16) << 4);
      out[j] = add_rn(mul_rn(static_cast<float>(lo), d), m);
      out[j + 16] = add_rn(mul_rn(static_cast<float>(hi), d), m);
    }
  }
};
static_assert(sizeof(Q5_1::block) == Q5_1::block_bytes);

struct Q8_0 {
  struct block {
    f16_bits d;
    std::int8_t qs[32];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q8_0;
  static constexpr std::string_view name = "Q8_0";
  static constexpr std::size_t block_elements = 32;
  static constexpr std::size_t block_bytes = 34;

  PAGODA_HD static float dequantize_element(const block& b, int i) {
    return mul_rn(static_cast<float>(b.qs[i]), f16_to_f32(b.d));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    for (int j = 0; j < 32; ++j) out[j] = mul_rn(static_cast<float>(b.qs[j]), d);
  }
};
static_assert(sizeof(Q8_0::block) == Q8_0::block_bytes);

}  // namespace pagoda::quant
