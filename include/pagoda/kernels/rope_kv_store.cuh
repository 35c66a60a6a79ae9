// kernels::rope_kv_store: one decode token's RoPE on q and k and its append
// to a layer's f16 KV cache, in one launch instead of three (rope on q, rope
// on k, kv_store): the same arithmetic as those kernels (rope_rotate_pair,
// __float2half_rn), so the results are bit-identical to running them in turn.
//   q: (n_heads * head_dim), k: (n_kv_heads * head_dim) f32, rotated in
//   place; v: (n_kv_heads * head_dim) f32; row *position of k_cache and
//   v_cache ((context, kv_dim) f16) receives the rotated k and v.
// One block per head (q heads first, then KV heads); a KV head's block also
// stores that head's k and v rows. Bytes moved: ~12 * (q_dim + 2 kv_dim).
// Bound: launch latency (a few microseconds), which is the point.
//
// Host code (g++) includes this header for the launcher; the kernel is
// compiled in cuda/kernels/rope_kv_store.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/rope.cuh>

namespace pagoda::kernels {

// Asynchronous on `stream`; throws pagoda::Error on a violated precondition
// (those of rope, null pointers) or a failed launch. 0 <= *position < context
// is the caller's to guarantee, as for kv_store.
void rope_kv_store(float* q, float* k, const float* v, __half* k_cache, __half* v_cache, std::size_t n_heads,
                   std::size_t n_kv_heads, const RopeParams& params, const std::int32_t* position,
                   cudaStream_t stream);

#if defined(__CUDACC__)

template <int Threads>
__global__ void __launch_bounds__(Threads)
    rope_kv_store_kernel(float* __restrict__ q, float* __restrict__ k, const float* __restrict__ v,
                         __half* __restrict__ k_cache, __half* __restrict__ v_cache, std::uint32_t n_heads,
                         std::uint32_t n_kv_heads, std::uint32_t head_dim, std::uint32_t pairs, double freq_base,
                         double linear_scale, const float* freq_factors, bool neox,
                         const std::int32_t* __restrict__ position) {
  const std::int32_t at = *position;
  const std::uint32_t block = blockIdx.x;
  const bool is_query = block < n_heads;
  float* head = is_query ? q + std::size_t{block} * head_dim : k + std::size_t{block - n_heads} * head_dim;
  for (std::uint32_t i = threadIdx.x; i < pairs; i += Threads)
    rope_rotate_pair(head, i, pairs, at, freq_base, linear_scale, freq_factors, neox);
  if (is_query) return;
  __syncthreads();  // the whole rotated head, not only this thread's pairs
  const std::size_t kv_dim = std::size_t{n_kv_heads} * head_dim;
  const std::size_t row = static_cast<std::size_t>(at) * kv_dim + std::size_t{block - n_heads} * head_dim;
  const float* value = v + std::size_t{block - n_heads} * head_dim;
  for (std::uint32_t i = threadIdx.x; i < head_dim; i += Threads) {
    k_cache[row + i] = __float2half_rn(head[i]);
    v_cache[row + i] = __float2half_rn(value[i]);
  }
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
