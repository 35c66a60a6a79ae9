// The unquantized formats: F32, F16 and BF16. In ggml's geometry each is a
// "block" of one element, so they go through the same code paths (tensor
// views, visit_format, kernels) as the quantized formats.
#pragma once

#include <cstddef>
#include <string_view>

#include <pagoda/core/host_device.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/quant/half.hpp>

namespace pagoda::quant {

struct F32 {
  struct block {
    float value;
  };
  static constexpr gguf::TensorType id = gguf::TensorType::F32;
  static constexpr std::string_view name = "F32";
  static constexpr std::size_t block_elements = 1;
  static constexpr std::size_t block_bytes = 4;

  PAGODA_HD static float dequantize_element(const block& b, int /*i*/) { return b.value; }
  PAGODA_HD static void dequantize_block(const block& b, float* out) { out[0] = b.value; }
};
static_assert(sizeof(F32::block) == F32::block_bytes);

struct F16 {
  struct block {
    f16_bits value;
  };
  static constexpr gguf::TensorType id = gguf::TensorType::F16;
  static constexpr std::string_view name = "F16";
  static constexpr std::size_t block_elements = 1;
  static constexpr std::size_t block_bytes = 2;

  PAGODA_HD static float dequantize_element(const block& b, int /*i*/) {
    return f16_to_f32(b.value);
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    out[0] = f16_to_f32(b.value);
  }
};
static_assert(sizeof(F16::block) == F16::block_bytes);

struct BF16 {
  struct block {
    bf16_bits value;
  };
  static constexpr gguf::TensorType id = gguf::TensorType::BF16;
  static constexpr std::string_view name = "BF16";
  static constexpr std::size_t block_elements = 1;
  static constexpr std::size_t block_bytes = 2;

  PAGODA_HD static float dequantize_element(const block& b, int /*i*/) {
    return bf16_to_f32(b.value);
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    out[0] = bf16_to_f32(b.value);
  }
};
static_assert(sizeof(BF16::block) == BF16::block_bytes);

}  // namespace pagoda::quant
