// What every GPU test suite needs: an owning device array, poisoned on
// creation (all bytes 0xFF: NaN for f32 and f16, -1 for ints — an unwritten
// output can never pass), and the error metric of test-backend-ops:
// normalised MSE = mse(out, ref) / mse(ref, 0).
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

namespace pagoda::gpu_test {

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
  void poison() { cuda_ok(cudaMemset(data_, 0xFF, bytes()), "poison"); }

private:
  T* data_ = nullptr;
  std::size_t count_;
};

// mse(out, ref) / mse(ref, 0); +inf when any output is not finite or the sizes differ.
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

}  // namespace pagoda::gpu_test
