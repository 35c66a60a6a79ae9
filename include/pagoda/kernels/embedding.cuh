// kernels::embedding<F>: out[t] = row tokens[t] of a quantized table, as f32:
// the token-embedding lookup. table: (vocab, dim / F::block_elements blocks)
// of F, row-major, in device or zero-copy host memory; tokens: (count) device
// int32; out: (count, dim) f32. Each element is F::dequantize_element, so the
// result equals the host decoder (quant::dequantize_row) bit for bit.
// Bytes moved: count rows of the table (dim / block_elements * block_bytes
// each; a block's scale bytes re-read by its threads from L1) and 4 * count *
// dim written. Bound: launch latency at decode (one row), the link the table
// comes through for long prompts.
//
// Host code compiled by g++ may include this header: it sees the launcher and
// the extern templates; the instantiations are generated per format from
// cuda/templates/embedding_format.cu.in into pagoda_cuda.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_runtime_api.h>

#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::kernels {

struct EmbeddingPolicy {
  int threads;  // one thread per element of a row; grid = (count, ceil(dim / threads))
  friend constexpr bool operator==(const EmbeddingPolicy&, const EmbeddingPolicy&) = default;
};
inline constexpr EmbeddingPolicy embedding_policy{256};

// Asynchronous on `stream`. Throws pagoda::Error naming the format when dim
// is not whole blocks, the table is misaligned for F's blocks, or the launch
// fails. Token ids must lie in [0, vocab): the engine checks them before they
// reach the device (the kernel has no vocab size to check against).
template <quant::QuantFormat F>
void embedding(const std::byte* table, std::size_t dim, const std::int32_t* tokens, std::size_t count, float* out,
               cudaStream_t stream);

#if defined(__CUDACC__)

template <quant::QuantFormat F, int Threads>
__global__ void __launch_bounds__(Threads)
    embedding_kernel(const std::byte* __restrict__ table,     // (vocab, row_bytes)
                     std::size_t dim, std::size_t row_bytes,
                     const std::int32_t* __restrict__ tokens,  // (count)
                     float* __restrict__ out) {                // (count, dim)
  const std::size_t e = std::size_t{blockIdx.y} * Threads + threadIdx.x;
  if (e >= dim) return;
  const std::size_t t = blockIdx.x;
  const auto* row = reinterpret_cast<const typename F::block*>(
      table + static_cast<std::size_t>(tokens[t]) * row_bytes);
  out[t * dim + e] = F::dequantize_element(row[e / F::block_elements], static_cast<int>(e % F::block_elements));
}

template <quant::QuantFormat F>
void embedding(const std::byte* table, std::size_t dim, const std::int32_t* tokens, std::size_t count, float* out,
               cudaStream_t stream) {
  const auto need = [](bool holds, const std::string& requirement) {
    if (!holds) fail_precondition(std::string("kernels::embedding<").append(F::name).append(">"), requirement);
  };
  need(dim % F::block_elements == 0, "dim (" + std::to_string(dim) + ") is a multiple of the block size (" +
                                         std::to_string(F::block_elements) + ")");
  if (dim == 0 || count == 0) return;
  need(table != nullptr && tokens != nullptr && out != nullptr, "table, tokens and out are not null");
  need(reinterpret_cast<std::uintptr_t>(table) % alignof(typename F::block) == 0,
       "the table is aligned to " + std::to_string(alignof(typename F::block)) + " bytes");
  constexpr EmbeddingPolicy policy = embedding_policy;
  const std::size_t column_blocks = (dim + policy.threads - 1) / policy.threads;
  need(count <= 0x7fffffffu && column_blocks <= 65535, "count and dim fit one grid");
  const dim3 grid(static_cast<unsigned>(count), static_cast<unsigned>(column_blocks));
  embedding_kernel<F, policy.threads><<<grid, policy.threads, 0, stream>>>(
      table, dim, dim / F::block_elements * F::block_bytes, tokens, out);
  if (const cudaError_t status = cudaGetLastError(); status != cudaSuccess)
    fail_cuda(std::string("kernels::embedding<").append(F::name).append(">"), cudaGetErrorName(status),
              cudaGetErrorString(status));
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/embedding_format.cu.in.
#include <pagoda/kernels/generated/embedding_externs.hpp>
