// kernels::kv_store: appends the keys and values of a batch of tokens to a
// layer's f16 KV cache: row positions[t] of k_cache and v_cache (each
// (context, kv_dim) f16, row-major) receives k[t] and v[t] rounded to nearest
// even (the value quant::f32_to_f16 gives). positions live on the device, so
// a captured decode step writes where the position of the moment says.
// Bytes moved: 8 * tokens * kv_dim read, 4 * tokens * kv_dim written.
// Bound: launch latency at decode, DRAM bandwidth for prefill batches.
//
// Host code (g++) includes this header for the launcher; the kernel is
// compiled in cuda/kernels/kv_cache.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace pagoda::kernels {

struct KvStorePolicy {
  int threads;
  friend constexpr bool operator==(const KvStorePolicy&, const KvStorePolicy&) = default;
};
// One thread per (token, element) of k and of v.
inline constexpr KvStorePolicy kv_store_policy{256};

// k, v: (tokens, kv_dim) f32; k_cache, v_cache: (rows, kv_dim) f16. The
// caller guarantees 0 <= positions[t] < rows: a position within one
// sequence's cache, or for a batched step a row of the engine's whole cache
// (sequence * context + position); the engine checks before it enqueues. Asynchronous on `stream`; throws
// pagoda::Error on null pointers or a failed launch.
void kv_store(const float* k, const float* v, __half* k_cache, __half* v_cache, std::size_t tokens,
              std::size_t kv_dim, const std::int32_t* positions, cudaStream_t stream);

#if defined(__CUDACC__)

template <int Threads>
__global__ void __launch_bounds__(Threads)
    kv_store_kernel(const float* __restrict__ k, const float* __restrict__ v,  // (tokens, kv_dim)
                    __half* __restrict__ k_cache, __half* __restrict__ v_cache,  // (context, kv_dim)
                    std::size_t elements,                                        // tokens * kv_dim
                    std::size_t kv_dim, const std::int32_t* __restrict__ positions) {
  const std::size_t stride = std::size_t{gridDim.x} * Threads;
  for (std::size_t i = std::size_t{blockIdx.x} * Threads + threadIdx.x; i < elements; i += stride) {
    const std::size_t token = i / kv_dim;
    const std::size_t at = static_cast<std::size_t>(positions[token]) * kv_dim + i % kv_dim;
    k_cache[at] = __float2half_rn(k[i]);
    v_cache[at] = __float2half_rn(v[i]);
  }
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
