// Helpers shared by the kernel_*_test.cpp suites: an owning device array
// (poisoned on creation, as gpu/support/device_array.hpp's, which does not
// compile at the time of writing: see the note below), seeded random inputs
// (asserted non-zero, as CUTLASS's testbed refuses empty data), an owned CUDA
// stream, the error metric of test-backend-ops (normalised MSE =
// mse(out, ref) / mse(ref, 0)) and the per-dtype budgets the suites state.
// Note: device_array.hpp's to_device_bytes returns a non-movable array by
// name and its cudaMalloc(&T*) needs <cuda_runtime.h>; until it is fixed,
// these suites keep their own copy under pagoda::kernel_test.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include <cuda_runtime_api.h>

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

inline void cuda_ok(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(status));
}

template <class T>
class DeviceArray {
public:
  explicit DeviceArray(std::size_t count) : count_(count) {
    void* data = nullptr;
    cuda_ok(cudaMalloc(&data, bytes() == 0 ? 1 : bytes()), "cudaMalloc");
    data_ = static_cast<T*>(data);
    poison();
  }
  explicit DeviceArray(std::span<const T> host) : DeviceArray(host.size()) { upload(host); }
  ~DeviceArray() { cudaFree(data_); }
  DeviceArray(DeviceArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray& operator=(DeviceArray&&) = delete;

  [[nodiscard]] T* get() const { return data_; }
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] std::size_t bytes() const { return count_ * sizeof(T); }

  // Synchronous (legacy stream): ordered before later work on blocking streams.
  void upload(std::span<const T> host) {
    cuda_ok(cudaMemcpy(data_, host.data(), host.size_bytes(), cudaMemcpyHostToDevice), "upload");
  }
  [[nodiscard]] std::vector<T> download() const {
    std::vector<T> host(count_);
    cuda_ok(cudaDeviceSynchronize(), "kernel");
    cuda_ok(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost), "download");
    return host;
  }
  // All bytes 0xFF: NaN for f32 and f16, -1 for ints; never a plausible result.
  void poison() { cuda_ok(cudaMemset(data_, 0xFF, bytes()), "poison"); }

private:
  T* data_ = nullptr;
  std::size_t count_;
};

// mse(out, ref) / mse(ref, 0); +inf when any output is not finite.
inline double normalized_mse(std::span<const float> out, std::span<const float> ref) {
  if (out.size() != ref.size()) return std::numeric_limits<double>::infinity();
  double error = 0, norm = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return std::numeric_limits<double>::infinity();
    const double d = double(out[i]) - ref[i];
    error += d * d;
    norm += double(ref[i]) * ref[i];
  }
  return norm == 0 ? error : error / norm;
}

inline std::vector<float> random_normal(std::size_t n, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> values(n);
  std::size_t nonzero = 0;
  for (float& v : values) nonzero += (v = normal(rng)) != 0.0f;
  REQUIRE(nonzero > 0);
  return values;
}

inline void require_nonzero(const std::vector<float>& values) {
  std::size_t nonzero = 0;
  for (float v : values) nonzero += v != 0.0f && std::isfinite(v);
  REQUIRE_MESSAGE(nonzero > values.size() / 2, "the reference is mostly zero or not finite: a vacuous test");
}

// A blocking stream: ordered after the legacy-stream copies and memsets that
// DeviceArray issues (upload, poison), so no test races its own set-up.
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
