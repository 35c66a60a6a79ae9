// Helpers of the prefill kernel tests: an owning device array (poisoned on
// creation), the error metric of test-backend-ops (normalised MSE =
// mse(out, ref) / mse(ref, 0)), f16 rounding as the tensor cores see it,
// seeded random inputs, a tensor placed at the very end of its device
// allocation, and a cudaEvent timer (median of repeated runs).
// DeviceArray and normalized_mse follow gpu/support/device_array.hpp, which
// does not compile at the time of writing (cudaMalloc(&T*) without
// <cuda_runtime.h>; to_device_bytes returns a non-movable array by name).
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

#include <pagoda/quant/half.hpp>

namespace pagoda::prefill_test {

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
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  [[nodiscard]] T* get() const { return data_; }
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] std::size_t bytes() const { return count_ * sizeof(T); }

  void upload(std::span<const T> host) {
    cuda_ok(cudaMemcpy(data_, host.data(), host.size_bytes(), cudaMemcpyHostToDevice), "upload");
  }
  [[nodiscard]] std::vector<T> download() const {
    std::vector<T> host(count_);
    cuda_ok(cudaDeviceSynchronize(), "kernel");
    cuda_ok(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost), "download");
    return host;
  }
  // All bytes 0xFF: NaN for float, -1 for ints: never a plausible result.
  void poison() { cuda_ok(cudaMemset(data_, 0xFF, bytes()), "poison"); }

private:
  T* data_ = nullptr;
  std::size_t count_;
};

// mse(out, ref) / mse(ref, 0); +inf when any output is not finite.
inline double normalized_mse(std::span<const float> out, std::span<const float> ref) {
  double error = 0, norm = 0;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(out[i])) return std::numeric_limits<double>::infinity();
    const double d = double(out[i]) - ref[i];
    error += d * d;
    norm += double(ref[i]) * ref[i];
  }
  return norm == 0 ? error : error / norm;
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

// Median milliseconds of `runs` timed calls of fn() on the default stream,
// after one warm-up call.
template <class Fn>
double median_ms(Fn&& fn, int runs = 20) {
  cudaEvent_t begin, end;
  cuda_ok(cudaEventCreate(&begin), "cudaEventCreate");
  cuda_ok(cudaEventCreate(&end), "cudaEventCreate");
  fn();
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    cuda_ok(cudaEventRecord(begin), "record");
    fn();
    cuda_ok(cudaEventRecord(end), "record");
    cuda_ok(cudaEventSynchronize(end), "kernel");
    float ms = 0;
    cuda_ok(cudaEventElapsedTime(&ms, begin, end), "elapsed");
    times.push_back(ms);
  }
  cudaEventDestroy(begin);
  cudaEventDestroy(end);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace pagoda::prefill_test
