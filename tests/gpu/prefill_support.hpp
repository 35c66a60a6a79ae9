// Helpers of the prefill kernel tests: the device array and error metric of
// gpu/device_array.hpp, f16 rounding as the tensor cores see it, seeded
// random inputs, and a tensor placed at the very end of its device allocation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "gpu/device_array.hpp"

#include <pagoda/gguf/file.hpp>
#include <pagoda/quant/half.hpp>

namespace pagoda::prefill_test {

using gpu_test::cuda_ok;
using gpu_test::DeviceArray;
using gpu_test::normalized_mse;

// A (rows, cols) matrix of `type` over `bytes`, as the CPU oracle reads one.
inline gguf::TensorInfo tensor_info(gguf::TensorType type, std::size_t rows, std::size_t cols,
                                    std::span<const std::byte> bytes) {
  gguf::TensorInfo info{};
  info.name = "w";
  info.dims = {cols, rows};
  info.type = type;
  info.element_count = rows * cols;
  info.byte_size = bytes.size();
  info.bytes = bytes;
  return info;
}

// f32 -> nearest f16 (ties to even) -> f32: exactly the kernels' __float2half_rn.
inline float round_f16(float v) { return quant::f16_to_f32(quant::f32_to_f16(v)); }

inline std::vector<float> random_floats(std::size_t n, float lo, float hi, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

inline std::size_t count_nonzero(std::span<const float> v) {
  return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](float x) { return x != 0.0f; }));
}

// A copy of `bytes` in device memory ending exactly at the end of its
// allocation, its start aligned to `alignment` but not to 2 * alignment (a
// file mapping gives a tensor's rows no better). Under compute-sanitizer, any
// read past the last byte is an out-of-bounds access.
class TensorAtEnd {
public:
  TensorAtEnd(std::span<const std::byte> bytes, std::size_t alignment)
      : storage_(16 + alignment + bytes.size()), data_(storage_.get() + 16 + alignment) {
    cuda_ok(cudaMemcpy(data_, bytes.data(), bytes.size(), cudaMemcpyHostToDevice), "upload tensor");
  }
  [[nodiscard]] const std::byte* get() const { return data_; }

private:
  DeviceArray<std::byte> storage_;
  std::byte* data_;
};

}  // namespace pagoda::prefill_test
