// Owners of CUDA resources: each acquires in its constructor (checked,
// throwing pagoda::Error with the call, the CUDA error name and the context)
// and releases in its destructor, so an exception halfway through building
// something releases exactly what was acquired. Move-only. Destructors cannot
// report a failed release; they do not throw.
//
// Usable from nvcc and g++ alike; the checks are pagoda::check_cuda
// (core/cuda_check.hpp). In core because every layer that touches CUDA
// (mapping, kernels, runtime) owns such resources.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <cuda_runtime_api.h>

#include "pagoda/core/cuda_check.hpp"

namespace pagoda {

// Makes `device` current for a scope; restores the previous one after.
class ScopedDevice {
public:
  explicit ScopedDevice(int device) {
    check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check_cuda(cudaSetDevice(device), "cudaSetDevice", std::to_string(device));
  }
  ~ScopedDevice() { cudaSetDevice(previous_); }
  ScopedDevice(const ScopedDevice&) = delete;
  ScopedDevice& operator=(const ScopedDevice&) = delete;

private:
  int previous_ = 0;
};

// A unique owner of one handle: Traits::release(handle) on destruction.
template <class Handle, class Traits>
class UniqueCudaHandle {
public:
  UniqueCudaHandle() = default;
  explicit UniqueCudaHandle(Handle handle) : handle_(handle) {}
  ~UniqueCudaHandle() { reset(); }
  UniqueCudaHandle(UniqueCudaHandle&& other) noexcept : handle_(std::exchange(other.handle_, Handle{})) {}
  UniqueCudaHandle& operator=(UniqueCudaHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, Handle{});
    }
    return *this;
  }
  UniqueCudaHandle(const UniqueCudaHandle&) = delete;
  UniqueCudaHandle& operator=(const UniqueCudaHandle&) = delete;

  [[nodiscard]] Handle get() const { return handle_; }
  void reset() {
    if (handle_ != Handle{}) Traits::release(std::exchange(handle_, Handle{}));
  }

private:
  Handle handle_{};
};

namespace detail {
struct FreeDevice {
  static void release(void* p) { cudaFree(p); }
};
struct FreeHost {
  static void release(void* p) { cudaFreeHost(p); }
};
struct Unregister {
  static void release(void* p) { cudaHostUnregister(p); }
};
struct DestroyStream {
  static void release(cudaStream_t s) { cudaStreamDestroy(s); }
};
struct DestroyEvent {
  static void release(cudaEvent_t e) { cudaEventDestroy(e); }
};
}  // namespace detail

// cudaMalloc'd device memory.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(std::size_t bytes, std::string_view context) : size_(bytes) {
    void* p = nullptr;
    if (bytes != 0) check_cuda(cudaMalloc(&p, bytes), "cudaMalloc", std::string(context) + ", " + std::to_string(bytes) + " bytes");
    memory_ = decltype(memory_)(p);
  }
  [[nodiscard]] std::byte* data() const { return static_cast<std::byte*>(memory_.get()); }
  [[nodiscard]] std::size_t size() const { return memory_.get() ? size_ : 0; }

private:
  UniqueCudaHandle<void*, detail::FreeDevice> memory_;
  std::size_t size_ = 0;
};

// cudaHostAlloc'd (pinned) host memory.
class PinnedBuffer {
public:
  PinnedBuffer() = default;
  PinnedBuffer(std::size_t bytes, std::string_view context) : size_(bytes) {
    void* p = nullptr;
    if (bytes != 0)
      check_cuda(cudaHostAlloc(&p, bytes, cudaHostAllocDefault), "cudaHostAlloc",
                 std::string(context) + ", " + std::to_string(bytes) + " bytes");
    memory_ = decltype(memory_)(p);
  }
  [[nodiscard]] std::byte* data() const { return static_cast<std::byte*>(memory_.get()); }
  [[nodiscard]] std::size_t size() const { return memory_.get() ? size_ : 0; }

private:
  UniqueCudaHandle<void*, detail::FreeHost> memory_;
  std::size_t size_ = 0;
};

// Host memory registered with cudaHostRegister (pinned, and with
// cudaHostRegisterMapped visible to the device); unregistered on destruction.
// The memory itself belongs to someone else and must outlive this.
class HostRegistration {
public:
  HostRegistration() = default;
  // Throws on failure. `address` and `bytes` should cover whole pages.
  HostRegistration(const void* address, std::size_t bytes, unsigned flags, std::string_view context) {
    check_cuda(register_memory(address, bytes, flags), "cudaHostRegister", context);
    adopt(address, bytes);
  }
  // The status, leaving *this empty on failure (for callers with a fallback).
  [[nodiscard]] cudaError_t try_register(const void* address, std::size_t bytes, unsigned flags) {
    const cudaError_t status = register_memory(address, bytes, flags);
    if (status == cudaSuccess) adopt(address, bytes);
    else cudaGetLastError();  // not sticky: clear it so later calls do not see it
    return status;
  }
  [[nodiscard]] const std::byte* host() const { return static_cast<const std::byte*>(memory_.get()); }
  [[nodiscard]] std::size_t size() const { return memory_.get() ? size_ : 0; }
  // The device-side address of host() (requires cudaHostRegisterMapped).
  [[nodiscard]] const std::byte* device_pointer() const {
    void* device = nullptr;
    check_cuda(cudaHostGetDevicePointer(&device, memory_.get(), 0), "cudaHostGetDevicePointer");
    return static_cast<const std::byte*>(device);
  }

private:
  // CUDA takes a non-const pointer; with cudaHostRegisterReadOnly it never
  // writes, and pagoda never writes registered weights either way.
  static cudaError_t register_memory(const void* address, std::size_t bytes, unsigned flags) {
    return cudaHostRegister(const_cast<void*>(address), bytes, flags);
  }
  void adopt(const void* address, std::size_t bytes) {
    memory_ = decltype(memory_)(const_cast<void*>(address));
    size_ = bytes;
  }
  UniqueCudaHandle<void*, detail::Unregister> memory_;
  std::size_t size_ = 0;
};

class CudaStream {
public:
  explicit CudaStream(std::string_view context) {
    cudaStream_t s = nullptr;
    check_cuda(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags", context);
    stream_ = decltype(stream_)(s);
  }
  [[nodiscard]] cudaStream_t get() const { return stream_.get(); }
  void synchronize(std::string_view context) const {
    check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize", context);
  }

private:
  UniqueCudaHandle<cudaStream_t, detail::DestroyStream> stream_;
};

class CudaEvent {
public:
  explicit CudaEvent(std::string_view context) {
    cudaEvent_t e = nullptr;
    check_cuda(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreateWithFlags", context);
    event_ = decltype(event_)(e);
  }
  [[nodiscard]] cudaEvent_t get() const { return event_.get(); }
  void record(cudaStream_t stream, std::string_view context) const {
    check_cuda(cudaEventRecord(event_.get(), stream), "cudaEventRecord", context);
  }
  // Returns at once for an event never recorded.
  void synchronize(std::string_view context) const {
    check_cuda(cudaEventSynchronize(event_.get()), "cudaEventSynchronize", context);
  }

private:
  UniqueCudaHandle<cudaEvent_t, detail::DestroyEvent> event_;
};

// Free and total device memory of the current device (cudaMemGetInfo).
struct DeviceMemoryInfo {
  std::size_t free_bytes = 0;
  std::size_t total_bytes = 0;
};
inline DeviceMemoryInfo device_memory_info(std::string_view context) {
  DeviceMemoryInfo info;
  check_cuda(cudaMemGetInfo(&info.free_bytes, &info.total_bytes), "cudaMemGetInfo", context);
  return info;
}

}  // namespace pagoda
