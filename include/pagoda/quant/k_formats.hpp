// The K-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. A 256-element super-block with
// one or two f16 super-scales (d, dmin) and a small integer scale (and min) per
// 16- or 32-element sub-block. The quants are packed in byte "lanes" (32
// bytes; 64 for Q6_K's low bits): element e sits at byte e % 32 (e % 64) of
// its lane, and which lane and which bit field of the byte follow from the
// rest of e, as each format says below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <pagoda/core/host_device.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/quant/half.hpp>
#include <pagoda/quant/k_scales.hpp>

namespace pagoda::quant {

// 2.625 bits/element. x = d*(scale & 15)*q - dmin*(scale >> 4), q in 0..3,
// one 4-bit scale and 4-bit min per 16 elements. Element e: byte
// qs[32*(e/128) + e%32], bits 2*((e/32)%4).
struct Q2_K {
  struct block {
    std::uint8_t scales[16];
    std::uint8_t qs[64];
    f16_bits d;
    f16_bits dmin;
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q2_K;
  static constexpr std::string_view name = "Q2_K";
  static constexpr std::size_t block_elements = qk_k;
  static constexpr std::size_t block_bytes = 84;

  PAGODA_HD static float dequantize_element(const block& b, int e) {
    const int sc = b.scales[e / 16];
    const int q = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
    const float scale = mul_rn(f16_to_f32(b.d), static_cast<float>(sc & 0x0f));
    const float offset = mul_rn(f16_to_f32(b.dmin), static_cast<float>(sc >> 4));
    return sub_rn(mul_rn(scale, static_cast<float>(q)), offset);
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    for (int g = 0; g < 16; ++g) {  // 16-element groups, in element order
      const float scale = mul_rn(d, static_cast<float>(b.scales[g] & 0x0f));
      const float offset = mul_rn(dmin, static_cast<float>(b.scales[g] >> 4));
      const std::uint8_t* lane = b.qs + 32 * (g / 8) + 16 * (g % 2);
      const int shift = 2 * ((g / 2) % 4);
      for (int l = 0; l < 16; ++l)
        out[16 * g + l] = sub_rn(mul_rn(scale, static_cast<float>((lane[l] >> shift) & 3)), offset);
    }
  }
};
static_assert(sizeof(Q2_K::block) == Q2_K::block_bytes);

// 3.4375 bits/element. x = d*scale*q, q = low2 - (hmask bit clear ? 4 : 0) in
// -4..3, one signed 6-bit scale per 16 elements (k_scales.hpp). Element e: low
// bits as in Q2_K, high bit = bit e/32 of hmask[e%32].
struct Q3_K {
  struct block {
    std::uint8_t hmask[32];
    std::uint8_t qs[64];
    std::uint8_t scales[12];
    f16_bits d;
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q3_K;
  static constexpr std::string_view name = "Q3_K";
  static constexpr std::size_t block_elements = qk_k;
  static constexpr std::size_t block_bytes = 110;

  PAGODA_HD static float dequantize_element(const block& b, int e) {
    const int low = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
    const int high = (b.hmask[e % 32] >> (e / 32)) & 1;
    const float scale = mul_rn(f16_to_f32(b.d), static_cast<float>(q3_k_scale(b.scales, e / 16)));
    return mul_rn(scale, static_cast<float>(low - (high ? 0 : 4)));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    for (int g = 0; g < 16; ++g) {
      const float scale = mul_rn(d, static_cast<float>(q3_k_scale(b.scales, g)));
      const std::uint8_t* lane = b.qs + 32 * (g / 8) + 16 * (g % 2);
      const std::uint8_t* hmask = b.hmask + 16 * (g % 2);
      const int shift = 2 * ((g / 2) % 4);
      const int hbit = g / 2;  // = e / 32 for every element of the group
      for (int l = 0; l < 16; ++l) {
        const int q = ((lane[l] >> shift) & 3) - (((hmask[l] >> hbit) & 1) ? 0 : 4);
        out[16 * g + l] = mul_rn(scale, static_cast<float>(q));
      }
    }
  }
};
static_assert(sizeof(Q3_K::block) == Q3_K::block_bytes);

// 4.5 bits/element. x = d*scale*q - dmin*min, q in 0..15, 6-bit scale and min
// per 32 elements (k_scales.hpp). Element e: byte qs[32*(e/64) + e%32], low
// nibble for even e/32, high nibble for odd.
struct Q4_K {
  struct block {
    f16_bits d;
    f16_bits dmin;
    std::uint8_t scales[12];
    std::uint8_t qs[128];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q4_K;
  static constexpr std::string_view name = "Q4_K";
  static constexpr std::size_t block_elements = qk_k;
  static constexpr std::size_t block_bytes = 144;

  PAGODA_HD static float dequantize_element(const block& b, int e) {
    const ScaleMin sm = k_scale_min(b.scales, e / 32);
    const int q = (b.qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0f;
    const float scale = mul_rn(f16_to_f32(b.d), static_cast<float>(sm.scale));
    const float offset = mul_rn(f16_to_f32(b.dmin), static_cast<float>(sm.min));
    return sub_rn(mul_rn(scale, static_cast<float>(q)), offset);
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    for (int s = 0; s < 8; ++s) {  // 32-element sub-blocks
      const ScaleMin sm = k_scale_min(b.scales, s);
      const float scale = mul_rn(d, static_cast<float>(sm.scale));
      const float offset = mul_rn(dmin, static_cast<float>(sm.min));
      const std::uint8_t* lane = b.qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l)
        out[32 * s + l] = sub_rn(mul_rn(scale, static_cast<float>((lane[l] >> shift) & 0x0f)), offset);
    }
  }
};
static_assert(sizeof(Q4_K::block) == Q4_K::block_bytes);

// 5.5 bits/element. As Q4_K, plus a fifth bit: bit e/32 of qh[e%32].
struct Q5_K {
  struct block {
    f16_bits d;
    f16_bits dmin;
    std::uint8_t scales[12];
    std::uint8_t qh[32];
    std::uint8_t qs[128];
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q5_K;
  static constexpr std::string_view name = "Q5_K";
  static constexpr std::size_t block_elements = qk_k;
  static constexpr std::size_t block_bytes = 176;

  PAGODA_HD static float dequantize_element(const block& b, int e) {
    const ScaleMin sm = k_scale_min(b.scales, e / 32);
    const int low = (b.qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0f;
    const int q = low | (((b.qh[e % 32] >> (e / 32)) & 1) << 4);
    const float scale = mul_rn(f16_to_f32(b.d), static_cast<float>(sm.scale));
    const float offset = mul_rn(f16_to_f32(b.dmin), static_cast<float>(sm.min));
    return sub_rn(mul_rn(scale, static_cast<float>(q)), offset);
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    for (int s = 0; s < 8; ++s) {
      const ScaleMin sm = k_scale_min(b.scales, s);
      const float scale = mul_rn(d, static_cast<float>(sm.scale));
      const float offset = mul_rn(dmin, static_cast<float>(sm.min));
      const std::uint8_t* lane = b.qs + 32 * (s / 2);
      const int shift = 4 * (s % 2);
      for (int l = 0; l < 32; ++l) {
        const int q = ((lane[l] >> shift) & 0x0f) | (((b.qh[l] >> s) & 1) << 4);
        out[32 * s + l] = sub_rn(mul_rn(scale, static_cast<float>(q)), offset);
      }
    }
  }
};
static_assert(sizeof(Q5_K::block) == Q5_K::block_bytes);

// 6.5625 bits/element. x = d*scale*(q - 32), q in 0..63, signed 8-bit scale
// per 16 elements. Each 128-element half h has its own 64 bytes of ql and 32 of
// qh; within it, element o = e%128 takes ql[64h + o%64] (low nibble for o < 64,
// high for o >= 64) and bits 2*(o/32) of qh[32h + o%32] as its top two bits.
struct Q6_K {
  struct block {
    std::uint8_t ql[128];
    std::uint8_t qh[64];
    std::int8_t scales[16];
    f16_bits d;
  };
  static constexpr gguf::TensorType id = gguf::TensorType::Q6_K;
  static constexpr std::string_view name = "Q6_K";
  static constexpr std::size_t block_elements = qk_k;
  static constexpr std::size_t block_bytes = 210;

  PAGODA_HD static float dequantize_element(const block& b, int e) {
    const int h = e / 128;
    const int o = e % 128;
    const int low = (b.ql[64 * h + o % 64] >> (4 * (o / 64))) & 0x0f;
    const int high = (b.qh[32 * h + o % 32] >> (2 * (o / 32))) & 0x03;
    const float scale = mul_rn(f16_to_f32(b.d), static_cast<float>(b.scales[e / 16]));
    return mul_rn(scale, static_cast<float>((low | (high << 4)) - 32));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    const float d = f16_to_f32(b.d);
    for (int g = 0; g < 16; ++g) {
      const float scale = mul_rn(d, static_cast<float>(b.scales[g]));
      const int h = g / 8;
      const int o = 16 * (g % 8);  // first o of the group; o/64 and o/32 are constant in it
      const std::uint8_t* ql = b.ql + 64 * h + o % 64;
      const std::uint8_t* qh = b.qh + 32 * h + o % 32;
      const int low_shift = 4 * (o / 64);
      const int high_shift = 2 * (o / 32);
      for (int l = 0; l < 16; ++l) {
        const int q = ((ql[l] >> low_shift) & 0x0f) | (((qh[l] >> high_shift) & 0x03) << 4);
        out[16 * g + l] = mul_rn(scale, static_cast<float>(q - 32));
      }
    }
  }
};
static_assert(sizeof(Q6_K::block) == Q6_K::block_bytes);

}  // namespace pagoda::quant
