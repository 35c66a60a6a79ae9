// The launcher of kernels::rope_kv_store (the kernel and its notes: rope_kv_store.cuh).
#include <pagoda/kernels/rope_kv_store.cuh>

#include <string>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

void rope_kv_store(float* q, float* k, const float* v, __half* k_cache, __half* v_cache, std::size_t n_heads,
                   std::size_t n_kv_heads, const RopeParams& params, const std::int32_t* position,
                   cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::rope_kv_store";
  require_valid(params, operation);
  require(n_heads + n_kv_heads <= 0x7fffffffu, operation, "the heads fit one grid");
  if (n_heads + n_kv_heads == 0 || params.head_dim == 0) return;
  require(q != nullptr && k != nullptr && v != nullptr && k_cache != nullptr && v_cache != nullptr &&
              position != nullptr,
          operation, "q, k, v, the caches and the position are not null");
  constexpr int threads = 64;  // head_dim 64..256: one or a few passes
  rope_kv_store_kernel<threads><<<static_cast<unsigned>(n_heads + n_kv_heads), threads, 0, stream>>>(
      q, k, v, k_cache, v_cache, static_cast<std::uint32_t>(n_heads), static_cast<std::uint32_t>(n_kv_heads),
      params.head_dim, params.rotated_dims / 2, static_cast<double>(params.freq_base),
      static_cast<double>(params.linear_scale), params.freq_factors, params.layout == model::RopeLayout::neox,
      position);
  check_launch(operation);
}

}  // namespace pagoda::kernels
