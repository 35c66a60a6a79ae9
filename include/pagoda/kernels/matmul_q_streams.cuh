// kernels::matmul_q_streams: the prefill product Y = X W^T (+ residual) of
// matmul_q (matmul_q.cuh: f16 tensor-core tiles, f32 accumulation) over a
// matrix in the field-streams layout (quant/field_streams.hpp). The tiles read
// the same bytes through quant::FieldStreamRow that matmul_q reads in the GGUF
// blocks, so the results are bit for bit those of matmul_q on the GGUF bytes.
//
// Host code compiled by g++ includes this header for the declarations; the
// instantiations are generated per format of quant::field_stream_formats from
// cuda/templates/matmul_q_streams_format.cu.in.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/matmul_q.cuh>
#include <pagoda/quant/field_streams.hpp>

namespace pagoda::kernels {

template <quant::QuantFormat F>
void matmul_q_streams(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                      std::size_t tokens, float* y, const float* residual, const DeviceInfo& device,
                      cudaStream_t stream);

#if defined(__CUDACC__)
template <quant::QuantFormat F>
void matmul_q_streams(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                      std::size_t tokens, float* y, const float* residual, const DeviceInfo& device,
                      cudaStream_t stream) {
  static_assert(quant::HasFieldStreams<F>, "matmul_q_streams: the format has no field-streams layout");
  detail::matmul_q_in<F, quant::WeightLayout::field_streams>(weights, rows, cols, x, tokens, y, residual, device,
                                                             stream);
}
#endif

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/matmul_q_streams_format.cu.in.
#include <pagoda/kernels/generated/matmul_q_streams_externs.hpp>
