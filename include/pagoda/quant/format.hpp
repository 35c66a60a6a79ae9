// What a quantization format is, to the rest of pagoda: a stateless struct
// naming a GGUF tensor type, the exact byte layout of one block of it, and how
// to turn a block (or one element of it) back into f32. Kernels, tensor views
// and visit_format are written against this concept, never against a format.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include <pagoda/gguf/tensor_type.hpp>

namespace pagoda::quant {

template <class F>
concept QuantFormat =
    requires(const typename F::block& b, float* out, int i) {
      { F::id } -> std::convertible_to<gguf::TensorType>;
      { F::name } -> std::convertible_to<std::string_view>;
      { F::block_elements } -> std::convertible_to<std::size_t>;
      { F::block_bytes } -> std::convertible_to<std::size_t>;
      { F::dequantize_block(b, out) } -> std::same_as<void>;
      { F::dequantize_element(b, i) } -> std::same_as<float>;
    } &&
    // Blocks are read straight out of a file mapping: no padding, no constructors.
    sizeof(typename F::block) == F::block_bytes &&
    std::is_trivially_copyable_v<typename F::block> &&
    std::is_standard_layout_v<typename F::block> && (F::block_elements > 0);

}  // namespace pagoda::quant
