// kernels::DeviceInfo: what the launchers need to know about the device they
// launch on, read from the driver once (DeviceInfo::of) and passed to every
// launcher that depends on it, as one `const DeviceInfo&` before its stream.
//
// Why a value rather than function-local statics or per-call queries: a
// static caches the first device's answer for every later one (and so did
// the process-wide programmatic-launch switch this replaces), and a query on
// every call (the SM count, cudaFuncSetAttribute) costs each prefill matmul
// a driver round trip. An engine makes one from its EngineOptions and its
// runtime::DeviceModel keeps it; tests and benchmarks make their own with
// DeviceInfo::current().
//
// It also remembers, per device, what a launcher needs to do only once per
// kernel: the opt-in to more than 48 KiB of dynamic shared memory, and how
// many blocks of a kernel fit the GPU at once. Copies share that record
// (they describe the same device), guarded by a mutex: engines on several
// threads may launch at once.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <tuple>

namespace pagoda::kernels {

// What DeviceInfo::of reads from the driver.
struct DeviceProperties {
  int ordinal = 0;
  int compute_capability = 0;        // 10 * major + minor: 90 on an H100
  int multiprocessors = 0;
  std::size_t max_shared_optin = 0;  // dynamic shared memory a block may opt in to, bytes
  bool wgmma_code = false;           // pagoda_cuda holds sm_90a code (kernels::wgmma_built)
  friend bool operator==(const DeviceProperties&, const DeviceProperties&) = default;
};

// Programmatic dependent launch (programmatic_launch.hpp) exists from
// compute capability 9.0.
[[nodiscard]] constexpr bool programmatic_launch_supported(int compute_capability) {
  return compute_capability >= 90;
}
// wgmma exists only in sm_90a code, which runs on compute capability 9.0 alone.
[[nodiscard]] constexpr bool wgmma_supported(int compute_capability, bool wgmma_code) {
  return wgmma_code && compute_capability == 90;
}

class DeviceInfo {
public:
  // `device`'s properties, queried here once. programmatic_launch: whether
  // the launches that support it use PDL where the device has it
  // (EngineOptions::programmatic_launch; pagoda-bench --no-pdl turns it off).
  // Throws pagoda::Error if the device cannot be queried.
  [[nodiscard]] static DeviceInfo of(int device, bool programmatic_launch = true);
  // The same for the calling thread's current device.
  [[nodiscard]] static DeviceInfo current(bool programmatic_launch = true);

  // From properties already known: no CUDA call (tests).
  DeviceInfo(const DeviceProperties& properties, bool programmatic_launch)
      : properties_(properties),
        programmatic_launch_(programmatic_launch && programmatic_launch_supported(properties.compute_capability)),
        kernels_(std::make_shared<KernelRecord>()) {}

  [[nodiscard]] const DeviceProperties& properties() const { return properties_; }
  [[nodiscard]] int device() const { return properties_.ordinal; }
  [[nodiscard]] int compute_capability() const { return properties_.compute_capability; }
  [[nodiscard]] int multiprocessors() const { return properties_.multiprocessors; }
  [[nodiscard]] std::size_t max_shared_optin() const { return properties_.max_shared_optin; }
  // PDL was asked for and the device has it.
  [[nodiscard]] bool programmatic_launch() const { return programmatic_launch_; }
  // matmul_wgmma_streams can run here: the build has sm_90a code and the
  // device is compute capability 9.0.
  [[nodiscard]] bool wgmma() const { return wgmma_supported(properties_.compute_capability, properties_.wgmma_code); }

  // Lets `kernel` (a __global__ function) take `bytes` of dynamic shared
  // memory on this device: cudaFuncSetAttribute the first time, and again only
  // for more than it was given before. Throws naming `operation` if the
  // device has not that much (max_shared_optin) or the call fails.
  void opt_in_shared_memory(const void* kernel, std::size_t bytes, std::string_view operation) const;
  // Blocks of `kernel` that fit this device at once with `threads` threads
  // and `shared_bytes` of dynamic shared memory (at least one per SM); asked
  // of the occupancy calculator once per kernel and shape.
  [[nodiscard]] int resident_blocks(const void* kernel, int threads, std::size_t shared_bytes) const;

  // The same device described the same way (the kernel record aside).
  friend bool operator==(const DeviceInfo& a, const DeviceInfo& b) {
    return a.properties_ == b.properties_ && a.programmatic_launch_ == b.programmatic_launch_;
  }

private:
  struct KernelRecord {
    std::mutex mutex;
    std::map<const void*, std::size_t> shared_opted_in;  // kernel -> bytes it may take
    std::map<std::tuple<const void*, int, std::size_t>, int> resident;  // (kernel, threads, shared) -> blocks
  };

  DeviceProperties properties_;
  bool programmatic_launch_ = false;
  std::shared_ptr<KernelRecord> kernels_;
};

}  // namespace pagoda::kernels
