// Host dequantization of a run of whole blocks (a tensor row, or a whole
// tensor) to f32: the reference that the CUDA kernels and the CPU oracle are
// checked against. The source may sit at any address (a file mapping gives no
// alignment guarantee for a row), so each block is copied out before decoding.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>

#include <pagoda/core/error.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/format_list.hpp>

namespace pagoda::quant {

// src: (n_blocks * F::block_bytes) bytes -> dst: (n_blocks * F::block_elements) floats.
// Throws pagoda::Error when src is not whole blocks or dst has the wrong length.
template <QuantFormat F>
void dequantize_row(std::span<const std::byte> src, std::span<float> dst) {
  if (src.size() % F::block_bytes != 0)
    fail("dequantize_row({}): {} bytes are not a whole number of {}-byte blocks", F::name,
         src.size(), F::block_bytes);
  const std::size_t n_blocks = src.size() / F::block_bytes;
  if (dst.size() != n_blocks * F::block_elements)
    fail("dequantize_row({}): {} blocks hold {} elements, but the destination has {}", F::name,
         n_blocks, n_blocks * F::block_elements, dst.size());
  typename F::block block;
  for (std::size_t i = 0; i < n_blocks; ++i) {
    std::memcpy(&block, src.data() + i * F::block_bytes, F::block_bytes);
    F::dequantize_block(block, dst.data() + i * F::block_elements);
  }
}

// The same for a tensor type known only at run time; also throws for a type
// pagoda cannot compute (see visit_format).
inline void dequantize_row(gguf::TensorType type, std::span<const std::byte> src,
                           std::span<float> dst) {
  visit_format(type, [&](auto tag) { dequantize_row<typename decltype(tag)::type>(src, dst); });
}

}  // namespace pagoda::quant
