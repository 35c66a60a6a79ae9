// Programmatic dependent launch (PDL, sm_90+): a kernel launched with it may
// start while the kernel before it in the stream is still running, do work
// that does not depend on it (the staged GEMV fetches its first weight tiles),
// and wait at pdl_wait() for the earlier kernel's completion and memory before
// it reads that kernel's outputs. Kernels that end a decode chain's step call
// pdl_trigger() first thing, so that the next one may be scheduled at once.
// In a captured CUDA graph this becomes a programmatic edge.
//
// Only a kernel that calls pdl_wait() before touching its predecessor's
// outputs may be launched with it (gemv_q_staged_kernel, gemv_streams_kernel,
// rope_kv_store_kernel, attention_decode_split_kernel and its merge kernel).
// Whether their launchers ask for it is the engine's choice, a field of the
// DeviceInfo they are given (DeviceInfo::programmatic_launch: on by default
// where the device has compute capability 9.0 or more;
// EngineOptions::programmatic_launch, pagoda-bench --no-pdl, turns it off to
// measure what it brings).
#pragma once

#if defined(__CUDACC__)
#include <cstddef>

#include <cuda_runtime.h>

#include <pagoda/core/cuda_check.hpp>
#endif

namespace pagoda::kernels {

#if defined(__CUDACC__)

// Launches `kernel` (grid x threads, `shared` bytes of dynamic shared memory,
// on `stream`) as a programmatic dependent launch where `programmatic`: the
// kernel must pdl_wait() before it reads what the kernel before it wrote.
template <class... Params, class... Args>
void launch_dependent(void (*kernel)(Params...), dim3 grid, unsigned threads, std::size_t shared,
                      cudaStream_t stream, bool programmatic, const char* what, Args... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = dim3(threads);
  config.dynamicSmemBytes = shared;
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  if (programmatic) {
    config.attrs = &attribute;
    config.numAttrs = 1;
  }
  check_cuda(cudaLaunchKernelEx(&config, kernel, args...), what);
}

__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
