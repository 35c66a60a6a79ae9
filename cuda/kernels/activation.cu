// The launchers of the element-wise kernels (kernels and notes: activation.cuh).
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

void geglu(const float* gate, const float* up, float* out, std::size_t n, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::geglu";
  if (n == 0) return;
  require(gate != nullptr && up != nullptr && out != nullptr, operation, "gate, up and out are not null");
  constexpr int threads = elementwise_policy.threads;
  geglu_kernel<threads><<<grid_for(n), threads, 0, stream>>>(gate, up, out, n);
  check_launch(operation);
}

void gated_activation(model::FfnActivation activation, const float* gate, const float* up, float* out, std::size_t n,
                      cudaStream_t stream) {
  switch (activation) {
    case model::FfnActivation::silu: swiglu(gate, up, out, n, stream); return;
    case model::FfnActivation::gelu_tanh: geglu(gate, up, out, n, stream); return;
  }
  fail_precondition("kernels::gated_activation", "the activation is one pagoda implements");
}

void gated_activation(model::FfnActivation activation, const float* gate, const float* up, __half* out, std::size_t n,
                      cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::gated_activation (f16 out)";
  if (n == 0) return;
  require(gate != nullptr && up != nullptr && out != nullptr, operation, "gate, up and out are not null");
  constexpr int threads = elementwise_policy.threads;
  switch (activation) {
    case model::FfnActivation::silu:
      swiglu_kernel<threads, __half><<<grid_for(n), threads, 0, stream>>>(gate, up, out, n);
      return check_launch(operation);
    case model::FfnActivation::gelu_tanh:
      geglu_kernel<threads, __half><<<grid_for(n), threads, 0, stream>>>(gate, up, out, n);
      return check_launch(operation);
  }
  fail_precondition(operation, "the activation is one pagoda implements");
}

void add_bias(float* x, const float* bias, std::size_t rows, std::size_t width, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::add_bias";
  if (rows == 0 || width == 0) return;
  require(x != nullptr && bias != nullptr, operation, "x and bias are not null");
  constexpr int threads = elementwise_policy.threads;
  add_bias_kernel<threads><<<grid_for(rows * width), threads, 0, stream>>>(x, bias, rows * width, width);
  check_launch(operation);
}

void scale(float* x, float factor, std::size_t n, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::scale";
  if (n == 0) return;
  require(x != nullptr, operation, "x is not null");
  constexpr int threads = elementwise_policy.threads;
  scale_kernel<threads><<<grid_for(n), threads, 0, stream>>>(x, factor, n);
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
