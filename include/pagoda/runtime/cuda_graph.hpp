// A CUDA graph captured once from a stream and replayed: the decode step's
// ~10 kernels per layer launch as one unit, removing per-launch overhead.
#pragma once

#include <utility>

#include <cuda_runtime_api.h>

#include "pagoda/core/cuda_raii.hpp"

namespace pagoda::runtime {

class CudaGraph {
public:
  CudaGraph() = default;
  ~CudaGraph() { reset(); }
  CudaGraph(CudaGraph&& other) noexcept
      : graph_(std::exchange(other.graph_, nullptr)), exec_(std::exchange(other.exec_, nullptr)) {}
  CudaGraph& operator=(CudaGraph&& other) noexcept {
    if (this != &other) {
      reset();
      graph_ = std::exchange(other.graph_, nullptr);
      exec_ = std::exchange(other.exec_, nullptr);
    }
    return *this;
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  // Records what `enqueue(stream)` launches on `stream` (nothing runs yet).
  template <class Enqueue>
  void capture(cudaStream_t stream, Enqueue&& enqueue) {
    reset();
    check_cuda(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    try {
      enqueue(stream);
    } catch (...) {
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(stream, &broken);
      if (broken) cudaGraphDestroy(broken);
      throw;
    }
    check_cuda(cudaStreamEndCapture(stream, &graph_), "cudaStreamEndCapture");
    check_cuda(cudaGraphInstantiate(&exec_, graph_, 0), "cudaGraphInstantiate");
  }

  [[nodiscard]] bool captured() const { return exec_ != nullptr; }

  void launch(cudaStream_t stream) const { check_cuda(cudaGraphLaunch(exec_, stream), "cudaGraphLaunch"); }

  void reset() noexcept {
    if (exec_) cudaGraphExecDestroy(std::exchange(exec_, nullptr));
    if (graph_) cudaGraphDestroy(std::exchange(graph_, nullptr));
  }

private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace pagoda::runtime
