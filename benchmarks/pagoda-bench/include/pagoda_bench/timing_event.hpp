// A CUDA event that records time (pagoda::CudaEvent is created with
// cudaEventDisableTiming, for synchronisation only), and the elapsed time
// between two of them: how the benchmarks time device work.
#pragma once

#include <cuda_runtime_api.h>

#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::bench {

class TimingEvent {
public:
  TimingEvent() { pagoda::check_cuda(cudaEventCreate(&event_), "cudaEventCreate", "benchmark timing"); }
  ~TimingEvent() { cudaEventDestroy(event_); }
  TimingEvent(const TimingEvent&) = delete;
  TimingEvent& operator=(const TimingEvent&) = delete;

  void record(cudaStream_t stream) const { pagoda::check_cuda(cudaEventRecord(event_, stream), "cudaEventRecord"); }

  // Milliseconds from `start` to this event, waiting for this one first.
  [[nodiscard]] float milliseconds_since(const TimingEvent& start) const {
    pagoda::check_cuda(cudaEventSynchronize(event_), "cudaEventSynchronize", "benchmark timing");
    float ms = 0;
    pagoda::check_cuda(cudaEventElapsedTime(&ms, start.event_, event_), "cudaEventElapsedTime");
    return ms;
  }

private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace pagoda::bench
