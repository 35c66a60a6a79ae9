// kernels::rope_kv_store: decode tokens' RoPE on q and k and their append
// to a layer's f16 KV cache, in one launch instead of three (rope on q, rope
// on k, kv_store): the same arithmetic as those kernels (rope_rotate_pair,
// __float2half_rn), so the results are bit-identical to running them in turn.
//   q: (rows, n_heads * head_dim), k: (rows, n_kv_heads * head_dim) f32,
//   rotated in place; v: (rows, n_kv_heads * head_dim) f32; row r rotates at
//   positions[r], and cache row kv_rows[r] (positions[r] when kv_rows is
//   null) of k_cache and v_cache ((cache rows, kv_dim) f16) receives its
//   rotated k and v. One row: a sequence's decode step; several: the batched
//   step, each row its own sequence's cache row.
// One block per head and row (q heads first, then KV heads); a KV head's
// block also stores that head's k and v rows. Bytes moved: ~12 * (q_dim + 2 kv_dim).
// Bound: launch latency (a few microseconds), which is the point.
//
// Host code (g++) includes this header for the launcher; the kernel is
// compiled in cuda/kernels/rope_kv_store.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/programmatic_launch.hpp>
#include <pagoda/kernels/rope.cuh>

#if defined(__CUDACC__)
#include <pagoda/kernels/norm.cuh>
#endif

namespace pagoda::kernels {

// Asynchronous on `stream`; throws pagoda::Error on a violated precondition
// (those of rope, null pointers, at most 65535 rows) or a failed launch. That
// each row's cache row (kv_rows[r], else positions[r]) lies below the cache's
// rows is the caller's to guarantee, as for kv_store. programmatic: launched
// as a programmatic dependent launch (programmatic_launch.hpp; the kernel
// waits before it reads q, k and v), as DeviceInfo::programmatic_launch says.
void rope_kv_store(float* q, float* k, const float* v, __half* k_cache, __half* v_cache, std::size_t n_heads,
                   std::size_t n_kv_heads, const RopeParams& params, const std::int32_t* positions,
                   cudaStream_t stream, std::size_t rows = 1, const std::int32_t* kv_rows = nullptr,
                   bool programmatic = false);

#if defined(__CUDACC__)

// A KV head's rotated key and its value row into cache row `cache_row`, by
// the block's threads: the last step of rope_kv_store_kernel's KV blocks and
// of the persistent step's rope_kv items.
template <int Threads>
__device__ __forceinline__ void store_kv_head(const float* key, const float* v, __half* k_cache, __half* v_cache,
                                              std::uint32_t n_kv_heads, std::uint32_t head_dim, std::int32_t cache_row,
                                              std::uint32_t kv_head) {
  const std::size_t row = static_cast<std::size_t>(cache_row) * n_kv_heads * head_dim + std::size_t{kv_head} * head_dim;
  const float* value = v + std::size_t{kv_head} * head_dim;
  for (std::uint32_t i = threadIdx.x; i < head_dim; i += Threads) {
    k_cache[row + i] = __float2half_rn(key[i]);
    v_cache[row + i] = __float2half_rn(value[i]);
  }
}

template <int Threads>
__global__ void __launch_bounds__(Threads)
    rope_kv_store_kernel(float* __restrict__ q, float* __restrict__ k, const float* __restrict__ v,
                         __half* __restrict__ k_cache, __half* __restrict__ v_cache, std::uint32_t n_heads,
                         std::uint32_t n_kv_heads, std::uint32_t head_dim, std::uint32_t pairs, double freq_base,
                         double linear_scale, const float* freq_factors, bool neox,
                         const std::int32_t* __restrict__ positions, const std::int32_t* __restrict__ kv_rows) {
  pdl_trigger();  // see programmatic_launch.hpp
  pdl_wait();     // q, k and v come from the kernel before
  const std::uint32_t r = blockIdx.y;
  const std::int32_t at = positions[r];
  const std::size_t kv_dim = std::size_t{n_kv_heads} * head_dim;
  q += std::size_t{r} * n_heads * head_dim;
  k += std::size_t{r} * kv_dim;
  v += std::size_t{r} * kv_dim;
  const std::uint32_t block = blockIdx.x;
  const bool is_query = block < n_heads;
  float* head = is_query ? q + std::size_t{block} * head_dim : k + std::size_t{block - n_heads} * head_dim;
  for (std::uint32_t i = threadIdx.x; i < pairs; i += Threads)
    rope_rotate_pair(head, i, pairs, at, freq_base, linear_scale, freq_factors, neox);
  if (is_query) return;
  __syncthreads();  // the whole rotated head, not only this thread's pairs
  store_kv_head<Threads>(head, v, k_cache, v_cache, n_kv_heads, head_dim, kv_rows != nullptr ? kv_rows[r] : at,
                         block - n_heads);
}

// One KV head's share of a decode token, by a whole block (the persistent
// decode step's rope_kv item): the query heads it serves and its key rotated
// at `position`, then its key and value rows stored at cache row `cache_row`;
// the same arithmetic as rope_kv_store_kernel. q_norm / k_norm (or null):
// each head row RMS-normalised first (qk-norm architectures), as
// kernels::rms_norm computes it. The inputs were written by other blocks of
// the same kernel: no read here may take the non-coherent path (the caller
// has acquired them; see persistent_decode.cuh). Synchronises the block.
template <int Threads>
__device__ __forceinline__ void rope_kv_head(float* q, float* k, const float* v, __half* k_cache, __half* v_cache,
                                             std::uint32_t n_heads, std::uint32_t n_kv_heads,
                                             std::uint32_t head_dim, std::uint32_t pairs, double freq_base,
                                             double linear_scale, const float* freq_factors, bool neox,
                                             const float* q_norm, const float* k_norm, float norm_eps,
                                             std::int32_t position, std::int32_t cache_row, std::uint32_t kv_head) {
  const std::uint32_t per_kv = n_heads / n_kv_heads;
  float* const key = k + std::size_t{kv_head} * head_dim;
  for (std::uint32_t h = 0; h <= per_kv; ++h) {  // the query heads, then the key
    float* const head = h < per_kv ? q + std::size_t{kv_head * per_kv + h} * head_dim : key;
    const float* const norm = h < per_kv ? q_norm : k_norm;
    if (norm != nullptr) {
      rms_norm_row<Threads, true>(head, norm, head, head_dim, norm_eps);
      __syncthreads();  // the normed row, whole, before any pair of it turns
    }
    for (std::uint32_t i = threadIdx.x; i < pairs; i += Threads)
      rope_rotate_pair(head, i, pairs, position, freq_base, linear_scale, freq_factors, neox);
  }
  __syncthreads();  // the whole rotated key, not only this thread's pairs
  store_kv_head<Threads>(key, v, k_cache, v_cache, n_kv_heads, head_dim, cache_row, kv_head);
}

// rope_kv_head's work with its heads side by side (the persistent step's
// item, on the step's critical path: one head after another left most of
// the block idle, a round trip to L2 each). qk-norm: a warp normalises a
// head row, each lane the elements it summed (in double, as
// block_rms_scale, so the scale rounds the same but for the order of the
// sum); then every thread turns pairs of every head. Synchronises the block.
template <int Threads>
__device__ __forceinline__ void rope_kv_head_parallel(float* q, float* k, const float* v, __half* k_cache,
                                                      __half* v_cache, std::uint32_t n_heads,
                                                      std::uint32_t n_kv_heads, std::uint32_t head_dim,
                                                      std::uint32_t pairs, double freq_base, double linear_scale,
                                                      const float* freq_factors, bool neox, const float* q_norm,
                                                      const float* k_norm, float norm_eps, std::int32_t position,
                                                      std::int32_t cache_row, std::uint32_t kv_head) {
  static_assert(Threads % 32 == 0);
  const std::uint32_t per_kv = n_heads / n_kv_heads;
  const std::uint32_t heads = per_kv + 1;  // the query heads, then the key
  float* const key = k + std::size_t{kv_head} * head_dim;
  const auto row_of = [&](std::uint32_t h) {
    return h < per_kv ? q + std::size_t{kv_head * per_kv + h} * head_dim : key;
  };
  if (q_norm != nullptr || k_norm != nullptr) {
    const std::uint32_t lane = threadIdx.x % 32;
    for (std::uint32_t h = threadIdx.x / 32; h < heads; h += Threads / 32) {
      const float* const weight = h < per_kv ? q_norm : k_norm;
      if (weight == nullptr) continue;
      float* const row = row_of(h);
      double sum_squares = 0.0;
      for (std::uint32_t i = lane; i < head_dim; i += 32) {
        const double x = __ldcg(row + i);
        sum_squares = fma(x, x, sum_squares);
      }
      for (int o = 16; o > 0; o /= 2) sum_squares += __shfl_xor_sync(0xffffffffu, sum_squares, o);
      const float scale =
          static_cast<float>(1.0 / sqrt(sum_squares / static_cast<double>(head_dim) + static_cast<double>(norm_eps)));
      for (std::uint32_t i = lane; i < head_dim; i += 32)
        row[i] = __fmul_rn(__fmul_rn(__ldcg(row + i), scale), weight[i]);
    }
    __syncthreads();  // every normed row, whole, before any pair of it turns
  }
  for (std::uint32_t w = threadIdx.x; w < heads * pairs; w += Threads)
    rope_rotate_pair(row_of(w / pairs), w % pairs, pairs, position, freq_base, linear_scale, freq_factors, neox);
  __syncthreads();  // the whole rotated key, not only this thread's pairs
  store_kv_head<Threads>(key, v, k_cache, v_cache, n_kv_heads, head_dim, cache_row, kv_head);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
