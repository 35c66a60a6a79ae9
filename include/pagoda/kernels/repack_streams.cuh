// kernels::repack_streams: a matrix in VRAM, GGUF blocks, rearranged in place
// into the field-streams layout (quant/field_streams.hpp), a chunk of whole
// 8-row groups at a time through `scratch`: each chunk is repacked into the
// scratch buffer, then copied back over its own bytes (a group takes the same
// bytes in both layouts). So a policy that owns its VRAM needs one chunk of
// scratch, never a second copy of the model.
//
// Bytes moved: the matrix read and written twice (repack, copy back): for an
// 8B Q4_0 model ~17 GB of VRAM traffic, ~6-8 ms at HBM rates.
// Host code compiled by g++ includes this header for the declaration; the
// instantiations are generated per format of quant::field_stream_formats from
// cuda/templates/repack_streams_format.cu.in.
#pragma once

#include <cstddef>

#include <cuda_runtime_api.h>

#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/format.hpp>

#if defined(__CUDACC__)
#include <string>
#include <utility>

#include <pagoda/kernels/cuda_check.hpp>
#endif

namespace pagoda::kernels {

// Asynchronous on `stream`. `tensor`: (rows, cols) of F in the GGUF layout,
// 16-aligned, writable; `scratch`: at least 8 rows' bytes. Throws
// pagoda::Error on a violated precondition or a failed launch.
template <quant::QuantFormat F>
void repack_streams(std::byte* tensor, std::size_t rows, std::size_t cols, std::byte* scratch,
                    std::size_t scratch_bytes, cudaStream_t stream);

#if defined(__CUDACC__)

// One thread per block of the chunk: each field to its stream, 2 bytes at a
// time (every field of every format is 2-aligned and of even length).
template <class F>
__global__ void repack_streams_kernel(const std::byte* gguf, std::byte* out, std::size_t rows, std::size_t cols) {
  const std::size_t blocks = cols / F::block_elements;
  const std::size_t i = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (i >= rows * blocks) return;
  const std::size_t row = i / blocks, block = i % blocks;
  const quant::FieldStreamRow<F> to = quant::field_stream_row<F>(out, rows, cols, row);
  const auto* from = reinterpret_cast<const std::uint16_t*>(gguf + i * F::block_bytes);
  [&]<std::size_t... S>(std::index_sequence<S...>) {
    const auto copy = [&]<std::size_t s>(std::integral_constant<std::size_t, s>) {
      constexpr quant::FieldStream field = quant::FieldStreams<F>::streams[s];
      auto* dst = reinterpret_cast<std::uint16_t*>(const_cast<std::uint8_t*>(to.stream[s]) + block * field.bytes);
#pragma unroll
      for (std::size_t h = 0; h < field.bytes / 2; ++h) dst[h] = from[field.offset / 2 + h];
    };
    (copy(std::integral_constant<std::size_t, S>{}), ...);
  }(std::make_index_sequence<quant::FieldStreamRow<F>::stream_count>{});
}

template <quant::QuantFormat F>
void repack_streams(std::byte* tensor, std::size_t rows, std::size_t cols, std::byte* scratch,
                    std::size_t scratch_bytes, cudaStream_t stream) {
  static_assert(quant::HasFieldStreams<F>, "repack_streams: the format has no field-streams layout");
  const std::string operation = std::string("kernels::repack_streams<").append(F::name).append(">");
  constexpr std::size_t group = quant::field_stream_group_rows;
  const std::size_t row_bytes = cols / F::block_elements * F::block_bytes;
  require(cols > 0 && cols % F::block_elements == 0, operation, "cols is a non-zero multiple of the block size");
  require(reinterpret_cast<std::uintptr_t>(tensor) % 16 == 0, operation, "the tensor is aligned to 16 bytes");
  require(scratch != nullptr && scratch_bytes >= group * row_bytes, operation,
          "the scratch buffer holds one group of " + std::to_string(group) + " rows (" +
              std::to_string(group * row_bytes) + " bytes)");
  const std::size_t chunk_rows = scratch_bytes / (group * row_bytes) * group;
  for (std::size_t first = 0; first < rows; first += chunk_rows) {
    const std::size_t count = rows - first < chunk_rows ? rows - first : chunk_rows;
    std::byte* at = tensor + first * row_bytes;
    const std::size_t threads = count * (cols / F::block_elements);
    repack_streams_kernel<F><<<static_cast<unsigned>((threads + 255) / 256), 256, 0, stream>>>(at, scratch, count,
                                                                                              cols);
    check_launch(operation);
    check_cuda(cudaMemcpyAsync(at, scratch, count * row_bytes, cudaMemcpyDeviceToDevice, stream), operation);
  }
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/repack_streams_format.cu.in.
#include <pagoda/kernels/generated/repack_streams_externs.hpp>
