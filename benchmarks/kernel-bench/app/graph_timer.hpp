// Timing a kernel the way a decode step runs it: `launches` launches captured
// as one CUDA graph (as the engine replays its decode step), each on its own
// copy of the inputs so that no launch finds its bytes in L2; one warm-up
// replay, then `samples` replays timed with CUDA events. Per-launch time is
// a replay's time over `launches`; the median replay is reported.
#pragma once

#include <cstdint>
#include <vector>

#include <cuda_runtime_api.h>

#include "pagoda/runtime/cuda_graph.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda_bench/statistics.hpp"
#include "pagoda_bench/timing_event.hpp"

namespace pagoda::kernel_bench {

// enqueue(stream, i) launches the kernel on copy i (0 <= i < launches).
template <class Enqueue>
[[nodiscard]] double median_microseconds_per_launch(cudaStream_t stream, int launches, std::uint32_t samples,
                                                    Enqueue&& enqueue) {
  runtime::CudaGraph graph;
  graph.capture(stream, [&](cudaStream_t s) {
    for (int i = 0; i < launches; ++i) enqueue(s, i);
  });
  graph.launch(stream);  // warm-up
  pagoda::check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "graph warm-up");
  bench::TimingEvent start, stop;
  std::vector<double> microseconds;
  microseconds.reserve(samples);
  for (std::uint32_t s = 0; s < samples; ++s) {
    start.record(stream);
    graph.launch(stream);
    stop.record(stream);
    microseconds.push_back(1000.0 * stop.milliseconds_since(start) / launches);
  }
  pagoda::check_cuda(cudaGetLastError(), "a timed kernel");
  return bench::summarize(microseconds).median;
}

}  // namespace pagoda::kernel_bench
