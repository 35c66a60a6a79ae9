// The launcher of kernels::rope_kv_store (the kernel and its notes: rope_kv_store.cuh).
#include <pagoda/kernels/rope_kv_store.cuh>

#include <string>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

void rope_kv_store(float* q, float* k, const float* v, __half* k_cache, __half* v_cache, std::size_t n_heads,
                   std::size_t n_kv_heads, const RopeParams& params, const std::int32_t* positions,
                   cudaStream_t stream, std::size_t rows, const std::int32_t* kv_rows, bool programmatic) {
  constexpr std::string_view operation = "kernels::rope_kv_store";
  require_valid(params, operation);
  require(n_heads + n_kv_heads <= 0x7fffffffu && rows <= 65535, operation,
          "the heads and rows (at most 65535) fit one grid");
  if (n_heads + n_kv_heads == 0 || params.head_dim == 0 || rows == 0) return;
  require(q != nullptr && k != nullptr && v != nullptr && k_cache != nullptr && v_cache != nullptr &&
              positions != nullptr,
          operation, "q, k, v, the caches and the positions are not null");
  constexpr int threads = 64;  // head_dim 64..256: one or a few passes
  const dim3 grid(static_cast<unsigned>(n_heads + n_kv_heads), static_cast<unsigned>(rows));
  launch_dependent(rope_kv_store_kernel<threads>, grid, threads, 0, stream, programmatic,
                   "cudaLaunchKernelEx(rope_kv_store_kernel)", q, k, v, k_cache, v_cache,
                   static_cast<std::uint32_t>(n_heads), static_cast<std::uint32_t>(n_kv_heads), params.head_dim,
                   params.rotated_dims / 2, static_cast<double>(params.freq_base),
                   static_cast<double>(params.linear_scale), params.freq_factors,
                   params.layout == model::RopeLayout::neox, positions, kv_rows);
  check_launch(operation);
}

}  // namespace pagoda::kernels
