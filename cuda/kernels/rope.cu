// The launcher of kernels::rope (the kernel and its notes: rope.cuh).
#include <pagoda/kernels/rope.cuh>

#include <string>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

void require_valid(const RopeParams& params, std::string_view operation) {
  require(params.rotated_dims % 2 == 0, operation,
          "rotated_dims (" + std::to_string(params.rotated_dims) + ") is even");
  require(params.rotated_dims <= params.head_dim, operation,
          "rotated_dims (" + std::to_string(params.rotated_dims) + ") <= head_dim (" +
              std::to_string(params.head_dim) + ")");
  require(params.freq_base > 0.0f && params.linear_scale > 0.0f, operation,
          "freq_base and linear_scale are positive");
}

void rope(float* x, std::size_t tokens, std::size_t n_heads, const RopeParams& params,
          const std::int32_t* positions, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::rope";
  require_valid(params, operation);
  require(n_heads <= 0xffffffffu, operation, "n_heads fits 32 bits");
  const std::size_t pairs = params.rotated_dims / 2;
  const std::size_t total = tokens * n_heads * pairs;
  if (total == 0) return;
  require(x != nullptr && positions != nullptr, operation, "x and positions are not null");
  constexpr RopePolicy policy = rope_policy;
  const std::size_t blocks = (total + policy.threads - 1) / policy.threads;
  require(blocks <= 0x7fffffffu, operation, "the pairs fit one grid");
  rope_kernel<policy.threads><<<static_cast<unsigned>(blocks), policy.threads, 0, stream>>>(
      x, positions, total, static_cast<std::uint32_t>(n_heads), params.head_dim, static_cast<std::uint32_t>(pairs),
      static_cast<double>(params.freq_base), static_cast<double>(params.linear_scale),
      params.freq_factors, params.layout == model::RopeLayout::neox);
  check_launch(operation);
}

}  // namespace pagoda::kernels
