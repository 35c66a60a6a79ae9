// A weight matrix the GPU can read, with the kernels for its format chosen
// once, at load (quant::visit_format in cuda/device_matrix.cpp): the hot path
// calls through these pointers and never looks at a format id again.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "pagoda/gguf/file.hpp"

namespace pagoda::runtime {

using GemvLauncher = void (*)(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                              float* y, const float* residual, cudaStream_t stream);
using MatmulLauncher = void (*)(const std::byte* weights, std::size_t rows, std::size_t cols, const float* x,
                                std::size_t tokens, float* y, const float* residual, cudaStream_t stream);
using EmbeddingLauncher = void (*)(const std::byte* table, std::size_t dim, const std::int32_t* tokens,
                                   std::size_t count, float* out, cudaStream_t stream);

struct DeviceMatrix {
  const gguf::TensorInfo* info = nullptr;
  const std::byte* data = nullptr;  // device-visible: VRAM or registered host memory, per the policy
  std::size_t rows = 0;             // output features
  std::size_t cols = 0;             // input features (dims[0])
  GemvLauncher gemv = nullptr;
  MatmulLauncher matmul = nullptr;
  EmbeddingLauncher embedding = nullptr;

  // y = W x (+ residual): one token.
  void multiply_vector(const float* x, float* y, const float* residual, cudaStream_t stream) const {
    gemv(data, rows, cols, x, y, residual, stream);
  }
  // Y = X W^T (+ residual): `tokens` rows of X at once, on tensor cores.
  void multiply(const float* x, std::size_t tokens, float* y, const float* residual, cudaStream_t stream) const {
    matmul(data, rows, cols, x, tokens, y, residual, stream);
  }
  // Rows `tokens` of the matrix, dequantized (an embedding table).
  void gather_rows(const std::int32_t* tokens, std::size_t count, float* out, cudaStream_t stream) const {
    embedding(data, cols, tokens, count, out, stream);
  }
};

// Binds `tensor`, whose bytes the GPU reads at `device_data`; throws for a
// format pagoda cannot compute.
[[nodiscard]] DeviceMatrix bind_device_matrix(const gguf::TensorInfo& tensor, const std::byte* device_data);

}  // namespace pagoda::runtime
