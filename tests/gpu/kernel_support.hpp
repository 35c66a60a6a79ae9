// Helpers shared by the kernel_*_test.cpp suites: the device array and error
// metric of gpu/device_array.hpp, seeded random inputs (asserted non-zero, as
// CUTLASS's testbed refuses empty data), an owned CUDA stream, and the
// per-dtype budgets the suites state.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

#include "gpu/device_array.hpp"

#include <pagoda/model/synthetic_blocks.hpp>

namespace pagoda::kernel_test {

// Normalised-MSE budgets, per kind of result.
// Same operations in the same order, only a different reduction order or expf's last bit:
inline constexpr double nmse_f32_exact = 1e-12;
// f32 dot products of thousands of terms in another order (gemv vs cpu::matmul):
inline constexpr double nmse_f32_dot = 1e-10;
// ... or, where outputs cancel, each within this fraction of sum |terms|:
inline constexpr double scaled_f32_dot = 1e-5;
// attention over an f16 cache against a reference reading the same f16 values:
inline constexpr double nmse_attention = 1e-8;

using gpu_test::cuda_ok;
using gpu_test::DeviceArray;
using gpu_test::normalized_mse;

inline std::vector<float> random_normal(std::size_t n, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> values(n);
  std::size_t nonzero = 0;
  for (float& v : values) nonzero += (v = normal(rng)) != 0.0f;
  REQUIRE(nonzero > 0);
  return values;
}

// Whether two arrays hold the same bits (a bit-for-bit comparison of two
// computations, NaN payloads and signed zeros included).
template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

inline void require_nonzero(const std::vector<float>& values) {
  std::size_t nonzero = 0;
  for (float v : values) nonzero += v != 0.0f && std::isfinite(v);
  REQUIRE_MESSAGE(nonzero > values.size() / 2, "the reference is mostly zero or not finite: a vacuous test");
}

// A blocking stream: ordered after the legacy-stream copies and memsets that
// DeviceArray issues (upload, poison), so no test races its own set-up.
// rows x cols of F as a model would have them (the synthetic generator's
// blocks: valid scales, values with RMS ~0.5), seeded.
template <class F>
std::vector<std::byte> synthetic_weights(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  const std::size_t n_blocks = rows * cols / F::block_elements;
  std::vector<std::byte> bytes(n_blocks * F::block_bytes);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    auto rng = model::synth::unit_rng(seed, 5, b);
    typename F::block block{};
    model::synth::random_block<F>(rng, 0.5f, block);
    std::memcpy(bytes.data() + b * F::block_bytes, &block, F::block_bytes);
  }
  return bytes;
}

class Stream {
public:
  Stream() { cuda_ok(cudaStreamCreate(&stream_), "cudaStreamCreate"); }
  ~Stream() { cudaStreamDestroy(stream_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  operator cudaStream_t() const { return stream_; }
  void sync() const { cuda_ok(cudaStreamSynchronize(stream_), "kernel"); }

private:
  cudaStream_t stream_ = nullptr;
};

}  // namespace pagoda::kernel_test
