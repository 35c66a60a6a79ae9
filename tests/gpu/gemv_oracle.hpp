// The CPU oracle of the decode GEMV tests: y = W x (+ residual) by
// cpu::matmul over the same quantized bytes, and x as the int16 kernels see
// it (quant/activation_q16.hpp), shared by the GGUF-layout and field-streams
// kernel tests.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include <pagoda/cpu/ops.hpp>
#include <pagoda/cpu/thread_pool.hpp>
#include <pagoda/gguf/file.hpp>
#include <pagoda/quant/activation_q16.hpp>

namespace pagoda::kernel_test {

inline cpu::ThreadPool& oracle_pool() {
  static cpu::ThreadPool instance;
  return instance;
}

// y = W x (+ residual) by the oracle; bytes: (rows, cols) of F in GGUF blocks.
template <class F>
std::vector<float> gemv_oracle(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols,
                               const std::vector<float>& x, const std::vector<float>* residual) {
  gguf::TensorInfo info{};
  info.name = "w";
  info.dims = {cols, rows};
  info.type = F::id;
  info.element_count = rows * cols;
  info.byte_size = bytes.size();
  info.bytes = bytes;
  std::vector<float> y(rows);
  cpu::matmul(info, x, 1, y, oracle_pool());
  if (residual != nullptr)
    for (std::size_t r = 0; r < rows; ++r) y[r] += (*residual)[r];
  return y;
}

// x as the int16-activation kernels see it.
inline std::vector<float> int16_activations(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  quant::q16_activation_round_trip(x, out);
  return out;
}

}  // namespace pagoda::kernel_test
