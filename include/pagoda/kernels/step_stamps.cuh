// The device half of step stamps (step_stamps.hpp): step_stamp() and
// step_stamp_done(), which compile to nothing unless PAGODA_STEP_STAMPS is
// set, and, in a profiling build, this unit's log symbol and its
// registration with the host sink. Also global_timer(), which the persistent
// step's profile reads too.
#pragma once

#if !defined(__CUDACC__)
#error "step_stamps.cuh is device code"
#endif

#include <cstdint>

#include <pagoda/kernels/step_stamps.hpp>

#if defined(PAGODA_STEP_STAMPS)
#include <cuda_runtime.h>

#include <pagoda/core/cuda_check.hpp>
#endif

namespace pagoda::kernels {

#if defined(PAGODA_STEP_STAMPS)
namespace step_stamps::detail {
// One per unit (static: without relocatable device code each unit has its own).
static __device__ StepStampLog unit_log;
static void set_unit_log(const StepStampLog& log) {
  check_cuda(cudaMemcpyToSymbol(unit_log, &log, sizeof log), "cudaMemcpyToSymbol(step stamp log)");
}
[[maybe_unused]] static const bool unit_registered = register_unit(&set_unit_log);
}  // namespace step_stamps::detail
#endif

// %globaltimer, ns (the step stamps' clock and the persistent step's).
__device__ __forceinline__ unsigned long long global_timer() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Thread 0 of the block stamps `event`.
__device__ __forceinline__ void step_stamp([[maybe_unused]] StampTag tag, [[maybe_unused]] StampEvent event,
                                           [[maybe_unused]] std::uint32_t detail,
                                           [[maybe_unused]] std::uint32_t cols = 0) {
#if defined(PAGODA_STEP_STAMPS)
  const StepStampLog& log = step_stamps::detail::unit_log;
  if (threadIdx.x != 0 || threadIdx.y != 0 || threadIdx.z != 0 || log.records == nullptr) return;
  const std::uint32_t slot = atomicAdd(log.cursor, 1u);
  if (slot >= log.capacity) return;
  const std::uint64_t now = global_timer();
  std::uint32_t sm;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
  StepStamp s{};
  s.time_ns = now;
  s.block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  s.grid = gridDim.x * gridDim.y * gridDim.z;
  s.detail = detail;
  s.sm = sm;
  s.cols = cols;
  s.tag = tag;
  s.event = event;
  log.records[slot] = s;
#endif
}

// Every thread of the block calls it at the end: stamps `done` once all of
// them have arrived (a barrier in a profiling build only).
__device__ __forceinline__ void step_stamp_done([[maybe_unused]] StampTag tag, [[maybe_unused]] std::uint32_t detail,
                                                [[maybe_unused]] std::uint32_t cols = 0) {
#if defined(PAGODA_STEP_STAMPS)
  __syncthreads();
  step_stamp(tag, StampEvent::done, detail, cols);
#endif
}

}  // namespace pagoda::kernels
