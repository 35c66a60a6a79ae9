// The launchers of kernels::swiglu and kernels::add (kernels and notes: activation.cuh).
#include <pagoda/kernels/activation.cuh>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

namespace {

unsigned grid_for(std::size_t n) {
  constexpr ElementwisePolicy policy = elementwise_policy;
  const std::size_t needed = (n + policy.threads - 1) / policy.threads;
  return static_cast<unsigned>(needed < policy.max_blocks ? needed : policy.max_blocks);
}

}  // namespace

void swiglu(const float* gate, const float* up, float* out, std::size_t n, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::swiglu";
  if (n == 0) return;
  require(gate != nullptr && up != nullptr && out != nullptr, operation, "gate, up and out are not null");
  constexpr int threads = elementwise_policy.threads;
  swiglu_kernel<threads><<<grid_for(n), threads, 0, stream>>>(gate, up, out, n);
  check_launch(operation);
}

void add(const float* a, const float* b, float* out, std::size_t n, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::add";
  if (n == 0) return;
  require(a != nullptr && b != nullptr && out != nullptr, operation, "a, b and out are not null");
  constexpr int threads = elementwise_policy.threads;
  add_kernel<threads><<<grid_for(n), threads, 0, stream>>>(a, b, out, n);
  check_launch(operation);
}

}  // namespace pagoda::kernels
