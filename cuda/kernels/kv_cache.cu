// The launcher of kernels::kv_store (the kernel and its notes: kv_cache.cuh).
#include <pagoda/kernels/kv_cache.cuh>

#include <string>

#include <pagoda/kernels/cuda_check.hpp>

namespace pagoda::kernels {

void kv_store(const float* k, const float* v, __half* k_cache, __half* v_cache, std::size_t tokens,
              std::size_t kv_dim, const std::int32_t* positions, cudaStream_t stream) {
  constexpr std::string_view operation = "kernels::kv_store";
  const std::size_t elements = tokens * kv_dim;
  if (elements == 0) return;
  require(k != nullptr && v != nullptr && k_cache != nullptr && v_cache != nullptr && positions != nullptr,
          operation, "k, v, the caches and positions are not null");
  constexpr KvStorePolicy policy = kv_store_policy;
  constexpr std::size_t max_blocks = 1u << 16;  // grid-stride beyond
  const std::size_t needed = (elements + policy.threads - 1) / policy.threads;
  const auto blocks = static_cast<unsigned>(needed < max_blocks ? needed : max_blocks);
  kv_store_kernel<policy.threads><<<blocks, policy.threads, 0, stream>>>(k, v, k_cache, v_cache, elements, kv_dim,
                                                                           positions);
  check_launch(operation);
}

}  // namespace pagoda::kernels
