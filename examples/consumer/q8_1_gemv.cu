// A kernel template of pagoda instantiated outside pagoda: kernels::gemv_q for
// GGUF's Q8_1, a format pagoda's quant::formats does not list. It takes a
// struct satisfying quant::QuantFormat and one line choosing gemv_q's warp
// decoder: here the generic one (F::dequantize_element per element), as
// pagoda's own rare formats do; a fast one would be a WarpDot specialisation
// of its own. Without either line the instantiation fails to compile: pagoda
// has no silent slow path.
#include "q8_1_gemv.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include <cuda_runtime.h>

#include <pagoda/core/host_device.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/gemv_q.cuh>
#include <pagoda/quant/half.hpp>

namespace consumer {

// GGUF's Q8_1: 32 signed 8-bit values, an f16 scale d and an f16 s (d times
// the sum of the values, for integer dot products; a float path ignores it).
struct Q8_1 {
  struct block {
    pagoda::quant::f16_bits d;
    pagoda::quant::f16_bits s;
    std::int8_t qs[32];
  };
  static constexpr pagoda::gguf::TensorType id = pagoda::gguf::TensorType::Q8_1;
  static constexpr std::string_view name = "Q8_1";
  static constexpr std::size_t block_elements = 32;
  static constexpr std::size_t block_bytes = 36;

  PAGODA_HD static float dequantize_element(const block& b, int i) {
    return pagoda::quant::mul_rn(static_cast<float>(b.qs[i]), pagoda::quant::f16_to_f32(b.d));
  }
  PAGODA_HD static void dequantize_block(const block& b, float* out) {
    for (int i = 0; i < 32; ++i) out[i] = dequantize_element(b, i);
  }
};
static_assert(pagoda::quant::QuantFormat<Q8_1>);

}  // namespace consumer

// The explicit opt-in to gemv_q's generic path (kernels/warp_dot_q.cuh).
template <>
struct pagoda::kernels::WarpDot<consumer::Q8_1> : pagoda::kernels::GenericDot<consumer::Q8_1> {};

// The explicit instantiation: this unit compiles gemv_q<Q8_1>'s kernels.
template void pagoda::kernels::gemv_q<consumer::Q8_1>(const std::byte*, std::size_t, std::size_t, const float*,
                                                      float*, const float*,
                                                      const pagoda::kernels::DeviceInfo&, cudaStream_t);

namespace consumer {

namespace {

template <class T>
struct DeviceBuffer {
  explicit DeviceBuffer(std::size_t count) {
    pagoda::check_cuda(cudaMalloc(&data, count * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() { cudaFree(data); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* data = nullptr;
};

}  // namespace

KernelCheck check_q8_1_gemv() {
  int devices = 0;
  if (const cudaError_t status = cudaGetDeviceCount(&devices); status != cudaSuccess || devices == 0) {
    std::printf("gemv_q<Q8_1>: no usable CUDA device (%s): the kernel check is skipped\n",
                status != cudaSuccess ? cudaGetErrorName(status) : "device count is 0");
    return KernelCheck::no_gpu;
  }

  // Odd sizes on purpose: a ragged last block of rows, more than one block per row.
  constexpr std::size_t rows = 37, cols = 5 * Q8_1::block_elements;
  constexpr std::size_t blocks_per_row = cols / Q8_1::block_elements;
  std::mt19937 random(1234);
  std::uniform_int_distribution<int> quant(-127, 127);
  std::uniform_real_distribution<float> scale(0.001f, 0.02f), value(-1.0f, 1.0f);
  std::vector<Q8_1::block> weights(rows * blocks_per_row);
  for (auto& b : weights) {
    b.d = pagoda::quant::f32_to_f16(scale(random));
    b.s = pagoda::quant::f32_to_f16(0.0f);
    for (auto& q : b.qs) q = static_cast<std::int8_t>(quant(random));
  }
  std::vector<float> x(cols);
  for (auto& v : x) v = value(random);

  // The reference: the format's own dequantize_block, then a plain dot product.
  std::vector<float> expected(rows, 0.0f);
  float row[Q8_1::block_elements];
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < blocks_per_row; ++k) {
      Q8_1::dequantize_block(weights[r * blocks_per_row + k], row);
      for (std::size_t i = 0; i < Q8_1::block_elements; ++i)
        expected[r] += row[i] * x[k * Q8_1::block_elements + i];
    }

  DeviceBuffer<Q8_1::block> device_weights(weights.size());
  DeviceBuffer<float> device_x(cols), device_y(rows);
  using pagoda::check_cuda;
  check_cuda(cudaMemcpy(device_weights.data, weights.data(), weights.size() * sizeof(Q8_1::block),
                        cudaMemcpyHostToDevice), "cudaMemcpy");
  check_cuda(cudaMemcpy(device_x.data, x.data(), cols * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  // What the launcher needs to know of the device (compute capability, SMs), read once.
  const auto device = pagoda::kernels::DeviceInfo::current();
  pagoda::kernels::gemv_q<Q8_1>(reinterpret_cast<const std::byte*>(device_weights.data), rows, cols, device_x.data,
                                device_y.data, nullptr, device, nullptr);
  std::vector<float> y(rows);
  check_cuda(cudaMemcpy(y.data(), device_y.data, rows * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");

  double worst = 0;
  for (std::size_t r = 0; r < rows; ++r)
    worst = std::fmax(worst, std::fabs(double(y[r]) - expected[r]) / (1.0 + std::fabs(double(expected[r]))));
  const bool passed = worst < 1e-4;
  std::printf("gemv_q<Q8_1> (instantiated in this program): %zu x %zu, worst relative error %.2e: %s\n", rows, cols,
              worst, passed ? "matches the host reference" : "DIFFERS from the host reference");
  return passed ? KernelCheck::passed : KernelCheck::failed;
}

}  // namespace consumer
