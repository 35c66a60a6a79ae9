// kernels::attention_prefill: causal grouped-query attention for a prompt of
// `tokens` tokens at positions start .. start+tokens-1, over an f16 KV cache
// that already holds rows 0 .. start+tokens-1.
//   out[t][h] = sum_{p <= start+t} softmax_p(scale * q[t][h] . K[p][h / g]) V[p][h / g]
// with g = n_heads / n_kv_heads; on a sliding-window layer (window > 0) only
// p > start + t - window take part; q and out: (tokens, n_heads * head_dim) f32;
// caches: (max_context, n_kv_heads * head_dim) f16, row-major.
//
// Flash-attention shape (tuning/attention_prefill.hpp): a block holds a tile of
// queries of one head in shared memory (f32), streams K and V tiles of the
// causal prefix through shared memory (f16 -> f32 once), and keeps the running
// row max and sum (online softmax, in the exp2 domain) and the output rows in
// registers; every product and sum is f32, so the result differs from an exact
// softmax over the same f16 K/V by f32 rounding only.
//
// FLOPs: ~2 * 2 * n_heads * head_dim * sum_t (start + t + 1) (QK^T and PV).
// Bytes: q and out once; K and V re-read by each query tile of each head:
// n_heads * ceil(tokens / queries) * (start + tokens) * head_dim * 2 * 2,
// mostly from L2 (the g heads of a group and the tiles of a head share them).
// Bound: f32 FMA throughput (CUDA cores; head sizes 64, 128 and 256 take the
// tensor-core kernel of attention_prefill_mma.cuh instead), with blocks of
// later tiles (longer prefixes) launched first to even out the causal triangle.
//
// Host code compiled by g++ may include this header for the declaration; the
// launcher and its kernels are compiled once, in cuda/kernels/attention_prefill.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/tuning/attention_prefill.hpp>

namespace pagoda::kernels {

// Asynchronous on `stream`, on `device` (which remembers the kernels'
// shared-memory opt-in). Requires n_kv_heads dividing n_heads, head_dim a
// multiple of 8 and at most 256, start + tokens <= max_context, q, out and the
// caches 16-byte aligned; out must not overlap q. Throws pagoda::Error on a
// violated precondition or a failed launch.
void attention_prefill(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                       std::uint32_t n_heads, std::uint32_t n_kv_heads, std::uint32_t head_dim,
                       std::uint32_t max_context, float scale, std::uint32_t start, std::size_t tokens,
                       const DeviceInfo& device, cudaStream_t stream, std::uint32_t window = 0);

#if defined(__CUDACC__)

namespace attention_detail {

struct PrefillArgs {
  const float* q;        // (tokens, q_stride)
  const __half* k;       // (max_context, kv_stride)
  const __half* v;       // (max_context, kv_stride)
  float* out;            // (tokens, q_stride)
  int head_dim;
  int group;             // query heads per KV head
  int q_stride;          // n_heads * head_dim
  int kv_stride;         // n_kv_heads * head_dim
  float scale_log2;      // scale * log2(e): softmax in the exp2 domain
  int start;
  int tokens;
  int query_tiles;
  int window;            // > 0: keys more than window - 1 behind a query are masked
};

__device__ __forceinline__ float4 fma4(float a, float4 b, float4 c) {
  return make_float4(fmaf(a, b.x, c.x), fmaf(a, b.y, c.y), fmaf(a, b.z, c.z), fmaf(a, b.w, c.w));
}

// Max / sum over the 16 lanes of a half-warp (one query row's lanes).
__device__ __forceinline__ float row_max(float v) {
#pragma unroll
  for (int offset = 8; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}
__device__ __forceinline__ float row_sum(float v) {
#pragma unroll
  for (int offset = 8; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

}  // namespace attention_detail

// Thread (row, lane) = (tid / 16, tid % 16) owns query rows row + 16 i, the
// scores of keys lane + 16 j in each KV tile, and the output dims 4 lane + 64 c.
template <int policy_index>
__global__ void __launch_bounds__(AttentionPrefillPolicy::threads)
    attention_prefill_kernel(attention_detail::PrefillArgs a) {
  using namespace attention_detail;
  constexpr AttentionPrefillPolicy P = attention_prefill_policies[policy_index];
  static_assert(P.valid(), "attention_prefill: inconsistent tile policy");
  constexpr int D = P.head_dim_max;
  constexpr int QPT = P.queries / 16;  // query rows per thread
  constexpr int KPT = P.keys / 16;     // scores per row per thread
  constexpr int OPT = D / 64;          // float4s of an output row per thread
  constexpr int LD = P.row_floats();
  constexpr int LP = P.p_floats();

  extern __shared__ __align__(16) float shared[];
  float* const qs = shared;                  // (queries, LD)
  float* const ks = qs + P.queries * LD;     // (keys, LD)
  float* const vs = ks + P.keys * LD;        // (keys, LD)
  float* const ps = vs + P.keys * LD;        // (queries, LP)

  const int tid = static_cast<int>(threadIdx.x);
  const int row = tid / 16;
  const int lane = tid % 16;
  const int tile = a.query_tiles - 1 - static_cast<int>(blockIdx.x);  // longest prefixes first
  const int head = static_cast<int>(blockIdx.y);
  const int q0 = tile * P.queries;
  const std::size_t kv_offset = static_cast<std::size_t>(head / a.group) * static_cast<std::size_t>(a.head_dim);
  // Keys this block needs: the prefix of its last token, from the window's
  // start for its first token on a sliding-window layer.
  const int kv_end = a.start + min(q0 + P.queries, a.tokens);
  const int kv_begin = a.window > 0 ? max(0, a.start + q0 - a.window + 1) : 0;

  // Q tile -> shared (zeros past the last token and past head_dim).
  for (int idx = tid; idx < P.queries * (D / 4); idx += P.threads) {
    const int r = idx / (D / 4);
    const int d = 4 * (idx % (D / 4));
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (q0 + r < a.tokens && d < a.head_dim)
      v = __ldg(reinterpret_cast<const float4*>(a.q + static_cast<std::size_t>(q0 + r) * a.q_stride +
                                                static_cast<std::size_t>(head) * a.head_dim + d));
    *reinterpret_cast<float4*>(qs + r * LD + d) = v;
  }

  float4 o[QPT][OPT];
  float m[QPT];  // running max of the row (exp2 domain), equal on its 16 lanes
  float l[QPT];  // this lane's part of the running sum
#pragma unroll
  for (int i = 0; i < QPT; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.0f;
#pragma unroll
    for (int c = 0; c < OPT; ++c) o[i][c] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  }

  for (int kv0 = kv_begin; kv0 < kv_end; kv0 += P.keys) {
    __syncthreads();  // the previous tile's K, V and P are no longer read
    for (int idx = tid; idx < P.keys * (D / 8); idx += P.threads) {
      const int r = idx / (D / 8);
      const int d = 8 * (idx % (D / 8));
      float kf[8] = {}, vf[8] = {};
      if (kv0 + r < kv_end && d < a.head_dim) {
        const std::size_t at = static_cast<std::size_t>(kv0 + r) * a.kv_stride + kv_offset + d;
        const uint4 kraw = __ldg(reinterpret_cast<const uint4*>(a.k + at));
        const uint4 vraw = __ldg(reinterpret_cast<const uint4*>(a.v + at));
        const __half2* kh = reinterpret_cast<const __half2*>(&kraw);
        const __half2* vh = reinterpret_cast<const __half2*>(&vraw);
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float2 kp = __half22float2(kh[e]);
          const float2 vp = __half22float2(vh[e]);
          kf[2 * e] = kp.x, kf[2 * e + 1] = kp.y, vf[2 * e] = vp.x, vf[2 * e + 1] = vp.y;
        }
      }
      *reinterpret_cast<float4*>(ks + r * LD + d) = make_float4(kf[0], kf[1], kf[2], kf[3]);
      *reinterpret_cast<float4*>(ks + r * LD + d + 4) = make_float4(kf[4], kf[5], kf[6], kf[7]);
      *reinterpret_cast<float4*>(vs + r * LD + d) = make_float4(vf[0], vf[1], vf[2], vf[3]);
      *reinterpret_cast<float4*>(vs + r * LD + d + 4) = make_float4(vf[4], vf[5], vf[6], vf[7]);
    }
    __syncthreads();

    // S = Q K^T for this thread's rows and keys.
    float s[QPT][KPT] = {};
#pragma unroll 4
    for (int d = 0; d < D; d += 4) {
      float4 qv[QPT], kv[KPT];
#pragma unroll
      for (int i = 0; i < QPT; ++i) qv[i] = *reinterpret_cast<const float4*>(qs + (row + 16 * i) * LD + d);
#pragma unroll
      for (int j = 0; j < KPT; ++j) kv[j] = *reinterpret_cast<const float4*>(ks + (lane + 16 * j) * LD + d);
#pragma unroll
      for (int i = 0; i < QPT; ++i)
#pragma unroll
        for (int j = 0; j < KPT; ++j)
          s[i][j] = fmaf(qv[i].x, kv[j].x, fmaf(qv[i].y, kv[j].y, fmaf(qv[i].z, kv[j].z, fmaf(qv[i].w, kv[j].w, s[i][j]))));
    }

    // Causal (and window) mask, online softmax, P -> shared, O rescaled.
#pragma unroll
    for (int i = 0; i < QPT; ++i) {
      const int position = a.start + q0 + row + 16 * i;
      const int first_visible = a.window > 0 ? position - a.window + 1 : 0;
      float tile_max = -INFINITY;
#pragma unroll
      for (int j = 0; j < KPT; ++j) {
        const int key = kv0 + lane + 16 * j;
        s[i][j] = key <= position && key >= first_visible ? s[i][j] * a.scale_log2 : -INFINITY;
        tile_max = fmaxf(tile_max, s[i][j]);
      }
      // A row's first visible key may lie in a later tile (sliding windows):
      // until then m stays -inf, and nothing is added or rescaled.
      const float m_new = fmaxf(m[i], row_max(tile_max));
      const bool none_yet = m_new == -INFINITY;
      const float alpha = none_yet ? 1.0f : exp2f(m[i] - m_new);  // 0 on a row's first visible tile (m = -inf)
      m[i] = m_new;
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < KPT; ++j) {
        const float p = none_yet ? 0.0f : exp2f(s[i][j] - m_new);  // masked: exp2(-inf) = 0
        sum += p;
        ps[(row + 16 * i) * LP + lane + 16 * j] = p;
      }
      l[i] = fmaf(l[i], alpha, sum);
#pragma unroll
      for (int c = 0; c < OPT; ++c)
        o[i][c] = make_float4(o[i][c].x * alpha, o[i][c].y * alpha, o[i][c].z * alpha, o[i][c].w * alpha);
    }
    __syncthreads();

    // O += P V.
#pragma unroll 2
    for (int key = 0; key < P.keys; key += 4) {
      float4 pv[QPT];
#pragma unroll
      for (int i = 0; i < QPT; ++i) pv[i] = *reinterpret_cast<const float4*>(ps + (row + 16 * i) * LP + key);
#pragma unroll
      for (int u = 0; u < 4; ++u) {
#pragma unroll
        for (int c = 0; c < OPT; ++c) {
          const float4 vv = *reinterpret_cast<const float4*>(vs + (key + u) * LD + 4 * lane + 64 * c);
#pragma unroll
          for (int i = 0; i < QPT; ++i) {
            const float p = u == 0 ? pv[i].x : u == 1 ? pv[i].y : u == 2 ? pv[i].z : pv[i].w;
            o[i][c] = fma4(p, vv, o[i][c]);
          }
        }
      }
    }
  }

  // out = O / l, for real tokens and dims < head_dim.
#pragma unroll
  for (int i = 0; i < QPT; ++i) {
    const int token = q0 + row + 16 * i;
    const float inverse = 1.0f / row_sum(l[i]);
    if (token >= a.tokens) continue;
    float* dst = a.out + static_cast<std::size_t>(token) * a.q_stride + static_cast<std::size_t>(head) * a.head_dim;
#pragma unroll
    for (int c = 0; c < OPT; ++c) {
      const int d = 4 * lane + 64 * c;
      if (d < a.head_dim)
        *reinterpret_cast<float4*>(dst + d) =
            make_float4(o[i][c].x * inverse, o[i][c].y * inverse, o[i][c].z * inverse, o[i][c].w * inverse);
    }
  }
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
