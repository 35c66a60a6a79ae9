// The products the tensor-core prefill GEMMs compute (matmul_mma_streams.cuh,
// matmul_wgmma_streams.cuh), and which matrices they take.
#pragma once

#include <cstddef>

#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/format.hpp>

namespace pagoda::kernels {

// One product of a launch.
struct MatmulTarget {
  const std::byte* weights;  // (rows, cols) in the field-streams layout, 16-byte aligned
  std::size_t rows;
  float* y;                  // (tokens, rows)
  const float* residual;     // (tokens, rows) added to y, may equal y; or nullptr
};

inline constexpr std::size_t matmul_mma_max_targets = 3;

// Whether matmul_mma_streams<F> takes matrices of `cols`: whole 64-element
// stages, and every stream's entries of a row starting 4-byte aligned (each
// stage copies whole words), e.g. an even number of Q4_0 blocks or of Q6_K
// super-blocks per row. Otherwise the engine keeps matmul_q_streams.
template <quant::QuantFormat F>
constexpr bool matmul_mma_takes(std::size_t cols) {
  if constexpr (!quant::HasFieldStreams<F>) {
    return false;
  } else {
    if (cols == 0 || cols % 64 != 0 || cols % F::block_elements != 0) return false;
    const std::size_t blocks = cols / F::block_elements;
    for (const quant::FieldStream& s : quant::FieldStreams<F>::streams)
      if (blocks * s.bytes % 4 != 0) return false;
    return true;
  }
}

}  // namespace pagoda::kernels
