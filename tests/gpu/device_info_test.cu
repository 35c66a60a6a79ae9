// kernels::DeviceInfo on a real device: what DeviceInfo::of reads agrees with
// the driver's own description, and what it does once per kernel (the
// shared-memory opt-in, the resident-block count) is done once, on the
// device it describes, and shared by its copies. A kernel of this file's own
// stands in for pagoda's: the record is per kernel, whichever it is.
#include <doctest/doctest.h>

#include <string>

#include <cuda_runtime.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/device_info.hpp>

#include "support/skip.hpp"

using namespace pagoda;

namespace {

__global__ void fill_from_shared(int* out) {
  extern __shared__ int staged[];
  staged[threadIdx.x] = static_cast<int>(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = staged[blockDim.x - 1 - threadIdx.x];
}

void ok(cudaError_t status, const char* what) {
  REQUIRE_MESSAGE(status == cudaSuccess, what << ": " << cudaGetErrorName(status));
}

int dynamic_shared_limit(const void* kernel) {
  cudaFuncAttributes attributes{};
  ok(cudaFuncGetAttributes(&attributes, kernel), "cudaFuncGetAttributes");
  return attributes.maxDynamicSharedSizeBytes;
}

}  // namespace

TEST_CASE("DeviceInfo::current and DeviceInfo::of describe the current device as the driver does") {
  int ordinal = -1;
  ok(cudaGetDevice(&ordinal), "cudaGetDevice");
  cudaDeviceProp driver{};
  ok(cudaGetDeviceProperties(&driver, ordinal), "cudaGetDeviceProperties");
  const auto current = kernels::DeviceInfo::current();
  const auto of = kernels::DeviceInfo::of(ordinal);
  CHECK(current == of);  // two values for one device agree
  CHECK(current.device() == ordinal);
  CHECK(current.compute_capability() == 10 * driver.major + driver.minor);
  CHECK(current.multiprocessors() == driver.multiProcessorCount);
  CHECK(current.max_shared_optin() == driver.sharedMemPerBlockOptin);
  CHECK(current.programmatic_launch() == (driver.major >= 9));
  CHECK_FALSE(kernels::DeviceInfo::current(false).programmatic_launch());
  CHECK(current.wgmma() == (current.properties().wgmma_code && driver.major == 9 && driver.minor == 0));
  CHECK_THROWS_AS((void)kernels::DeviceInfo::of(1 << 20), Error);  // no such device: an error naming it
}

TEST_CASE("DeviceInfo opts a kernel in to more shared memory once per device, never lowering it") {
  const auto device = kernels::DeviceInfo::current();
  const auto* kernel = reinterpret_cast<const void*>(&fill_from_shared);
  constexpr int above_default = 64 * 1024;  // more than the 48 KiB any kernel may take unasked
  if (device.max_shared_optin() < static_cast<std::size_t>(above_default) + 1024)
    PAGODA_SKIP("the device lets a block opt in to less than 65 KiB of shared memory");

  device.opt_in_shared_memory(kernel, above_default, "test kernel");
  CHECK(dynamic_shared_limit(kernel) == above_default);
  device.opt_in_shared_memory(kernel, 1024, "test kernel");  // less: nothing to do
  CHECK(dynamic_shared_limit(kernel) == above_default);

  // Once: with the attribute reset behind its back, asking again for no more
  // than before does not call the driver.
  ok(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 1024), "cudaFuncSetAttribute");
  device.opt_in_shared_memory(kernel, above_default, "test kernel");
  CHECK(dynamic_shared_limit(kernel) == 1024);
  const kernels::DeviceInfo copy = device;  // copies share the record
  copy.opt_in_shared_memory(kernel, above_default, "test kernel");
  CHECK(dynamic_shared_limit(kernel) == 1024);
  // A value made apart keeps its own record (and sets the attribute again: harmless).
  const auto apart = kernels::DeviceInfo::current();
  apart.opt_in_shared_memory(kernel, above_default, "test kernel");
  CHECK(dynamic_shared_limit(kernel) == above_default);
  copy.opt_in_shared_memory(kernel, above_default + 1024, "test kernel");  // more: raised
  CHECK(dynamic_shared_limit(kernel) == above_default + 1024);

  // And the kernel runs with what it was given.
  int* out = nullptr;
  ok(cudaMalloc(&out, 256 * sizeof(int)), "cudaMalloc");
  fill_from_shared<<<1, 256, above_default>>>(out);
  ok(cudaGetLastError(), "launch with 64 KiB of dynamic shared memory");
  int host[256]{};
  ok(cudaMemcpy(host, out, sizeof(host), cudaMemcpyDeviceToHost), "cudaMemcpy");
  cudaFree(out);
  CHECK(host[0] == 255);
  CHECK(host[255] == 0);

  CHECK_THROWS_WITH_AS(device.opt_in_shared_memory(kernel, device.max_shared_optin() + 1, "test kernel"),
                       doctest::Contains("test kernel"), Error);
}

TEST_CASE("DeviceInfo counts the blocks of a kernel that fit the device at once, as the occupancy calculator does") {
  const auto device = kernels::DeviceInfo::current();
  const auto* kernel = reinterpret_cast<const void*>(&fill_from_shared);
  int per_sm = 0;
  ok(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, 256, 4096), "occupancy");
  REQUIRE(per_sm > 0);
  CHECK(device.resident_blocks(kernel, 256, 4096) == per_sm * device.multiprocessors());
  CHECK(device.resident_blocks(kernel, 256, 4096) == per_sm * device.multiprocessors());  // remembered
  CHECK(device.resident_blocks(kernel, 1024, 0) >= device.multiprocessors());             // at least one per SM
}
