// The tensor-core kernel behind kernels::attention_prefill for head sizes 64,
// 128 and 256 (the f32 kernel of attention_prefill.cuh keeps the others): the
// prompt's causal grouped-query attention,
//   out[t][h] = sum_{p <= start+t} softmax_p(scale * q[t][h] . K[p][h / g]) V[p][h / g]
// (sliding window: only p > start + t - window).
//
// Flash attention (FA2 shape) on mma.sync m16n8k16: a block of 4 warps owns
// 64 queries of one head, each warp 16 of them. Q is scaled by scale * log2(e)
// and rounded to f16 once into shared memory (its fragments stay in registers
// for head sizes up to 128); K and V tiles of 64 rows (32 for 256-wide heads) stream through two
// shared-memory buffers by cp.async (rows XOR-swizzled by 16-byte chunk, so
// ldmatrix reads them without bank conflicts). Per tile a warp computes S = Q
// K^T (ldmatrix of K rows gives the B fragments as they lie), masks it, runs
// the online softmax in the exp2 domain on the accumulator fragments, packs P
// to f16 as the A fragments of P V (the S accumulator layout is the A layout,
// two n8 tiles to a k16 chunk) and accumulates O with V's B fragments from
// ldmatrix.trans. Products are exact, sums f32: the result differs from an
// exact softmax over the same f16 K/V by the f16 rounding of Q and P
// (relative 2^-11 each) and f32 sums.
//
// FLOPs: ~2 * 2 * n_heads * head_dim * sum_t (visible keys of t). Bytes: K and
// V re-read per query tile and head from L2. Bound: the tensor cores at long
// prefixes; at short ones the softmax's exp2 and shuffles.
//
// Host code compiled by g++ may include this header for attention_prefill_mma_takes;
// the kernels are compiled once, in cuda/kernels/attention_prefill.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

namespace pagoda::kernels {

// The head sizes with a tensor-core kernel (kernels::attention_prefill takes it for these).
inline constexpr std::uint32_t attention_prefill_mma_head_dims[] = {64, 128, 256};
[[nodiscard]] constexpr bool attention_prefill_mma_takes(std::uint32_t head_dim) {
  for (const std::uint32_t d : attention_prefill_mma_head_dims)
    if (d == head_dim) return true;
  return false;
}

}  // namespace pagoda::kernels

#if defined(__CUDACC__)

#include <cmath>

#include <pagoda/kernels/attention_prefill.cuh>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/mma_sync.cuh>

namespace pagoda::kernels {

namespace attention_mma {

inline constexpr int queries = 64;  // per block: 4 warps of 16
// K/V rows per tile: 64, or 32 for 256-wide heads (whose O takes 128 f32
// registers a lane; 64 keys spilled 296 bytes).
template <int D>
inline constexpr int keys_for = D == 256 ? 32 : 64;
inline constexpr int warps = 4;
inline constexpr int threads = 32 * warps;

template <int D>
constexpr std::size_t shared_bytes() {
  return static_cast<std::size_t>(queries + 4 * keys_for<D>) * D * 2;  // Q, then two K and two V tiles
}

// Byte offset of 16-byte chunk `chunk` of row `row` in a tile of D-wide f16 rows.
template <int D>
__device__ __forceinline__ int swizzled(int row, int chunk) {
  return row * D * 2 + ((chunk ^ (row & 7)) << 4);
}

__device__ __forceinline__ std::uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const std::uint32_t*>(&h);
}

}  // namespace attention_mma

template <int D>
__global__ void __launch_bounds__(attention_mma::threads)
    attention_prefill_mma_kernel(attention_detail::PrefillArgs a) {
  using namespace attention_mma;
  constexpr int keys = keys_for<D>;
  constexpr int chunks = D / 8;          // 16-byte chunks per row
  constexpr int k_chunks = D / 16;       // k16 steps of Q K^T
  constexpr int d_tiles = D / 8;         // n8 tiles of O
  constexpr int key_tiles = keys / 8;    // n8 tiles of S
  constexpr bool q_in_registers = D <= 128;

  // Named apart from the f32 kernel's `shared` (a float array): one extern
  // shared name may have one type per translation unit.
  extern __shared__ __align__(128) unsigned char attention_tiles[];
  unsigned char* const qs = attention_tiles;
  unsigned char* const kvs = attention_tiles + queries * D * 2;  // buffer b: K at b * 2 * keys * D * 2, V after it
  const auto k_tile = [&](int b) { return kvs + b * 2 * keys * D * 2; };
  const auto v_tile = [&](int b) { return kvs + b * 2 * keys * D * 2 + keys * D * 2; };

  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int g = lane / 4;
  const int t = lane % 4;
  const int tile = a.query_tiles - 1 - static_cast<int>(blockIdx.x);  // longest prefixes first
  const int head = static_cast<int>(blockIdx.y);
  const int q0 = tile * queries;
  const std::size_t kv_offset = static_cast<std::size_t>(head / a.group) * D;
  const int kv_end = a.start + min(q0 + queries, a.tokens);
  const int kv_begin = a.window > 0 ? max(0, a.start + q0 - a.window + 1) : 0;

  // K and V rows kv0 .. kv0 + keys - 1 into buffer b (zeros past kv_end).
  const auto load_kv = [&](int b, int kv0) {
    for (int item = tid; item < keys * chunks; item += threads) {
      const int row = item / chunks;
      const int chunk = item % chunks;
      const bool valid = kv0 + row < kv_end;
      const std::size_t at = valid ? static_cast<std::size_t>(kv0 + row) * a.kv_stride + kv_offset + 8 * chunk : 0;
      mma::cp_async16(k_tile(b) + swizzled<D>(row, chunk), a.k + at, valid);
      mma::cp_async16(v_tile(b) + swizzled<D>(row, chunk), a.v + at, valid);
    }
    mma::cp_async_commit();
  };
  load_kv(0, kv_begin);

  // Q * scale * log2(e) -> f16 shared (zeros past the last token).
  for (int item = tid; item < queries * chunks; item += threads) {
    const int row = item / chunks;
    const int chunk = item % chunks;
    uint4 packed = make_uint4(0, 0, 0, 0);
    if (q0 + row < a.tokens) {
      const float* src = a.q + static_cast<std::size_t>(q0 + row) * a.q_stride + static_cast<std::size_t>(head) * D + 8 * chunk;
      const float4 lo = __ldg(reinterpret_cast<const float4*>(src));
      const float4 hi = __ldg(reinterpret_cast<const float4*>(src + 4));
      const float s = a.scale_log2;
      packed = make_uint4(pack_half2(lo.x * s, lo.y * s), pack_half2(lo.z * s, lo.w * s), pack_half2(hi.x * s, hi.y * s),
                          pack_half2(hi.z * s, hi.w * s));
    }
    *reinterpret_cast<uint4*>(qs + swizzled<D>(row, chunk)) = packed;
  }
  __syncthreads();

  // ldmatrix.x4 of the warp's 16 query rows, k16 chunk c: the A fragment.
  const int a_row = warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8;
  const auto load_q = [&](int c, std::uint32_t (&frag)[4]) {
    mma::ldmatrix_x4(frag, qs + swizzled<D>(a_row, 2 * c + (lane >> 4)));
  };
  std::uint32_t q_frag[q_in_registers ? k_chunks : 1][4];
  if constexpr (q_in_registers) {
#pragma unroll
    for (int c = 0; c < k_chunks; ++c) load_q(c, q_frag[c]);
  }

  float o[d_tiles][4];
#pragma unroll
  for (int j = 0; j < d_tiles; ++j) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
  float m[2] = {-INFINITY, -INFINITY};  // running max of rows g and g + 8 (exp2 domain)
  float l[2] = {0.0f, 0.0f};            // this lane's part of their running sums
  const int position0 = a.start + q0 + warp * 16 + g;  // row g's position; row g + 8's is + 8

  int buffer = 0;
  for (int kv0 = kv_begin; kv0 < kv_end; kv0 += keys, buffer ^= 1) {
    mma::cp_async_wait<0>();
    __syncthreads();  // tile kv0 landed; the other buffer's last readers are done
    if (kv0 + keys < kv_end) load_kv(buffer ^ 1, kv0 + keys);
    const unsigned char* ks = k_tile(buffer);
    const unsigned char* vs = v_tile(buffer);

    // S = Q K^T: per pair of n8 key tiles, one ldmatrix.x4 of K rows per k16 chunk.
    float s[key_tiles][4];
#pragma unroll
    for (int j = 0; j < key_tiles; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
#pragma unroll
    for (int c = 0; c < k_chunks; ++c) {
      std::uint32_t qa[4];
      if constexpr (q_in_registers) {
#pragma unroll
        for (int i = 0; i < 4; ++i) qa[i] = q_frag[c][i];
      } else {
        load_q(c, qa);
      }
#pragma unroll
      for (int j = 0; j < key_tiles; j += 2) {
        std::uint32_t kb[4];
        const int key_row = 8 * j + (lane & 7) + ((lane >> 4) & 1) * 8;
        mma::ldmatrix_x4(kb, ks + swizzled<D>(key_row, 2 * c + ((lane >> 3) & 1)));
        const std::uint32_t b0[2] = {kb[0], kb[1]};
        const std::uint32_t b1[2] = {kb[2], kb[3]};
        mma::mma_f16(s[j], qa, b0);
        mma::mma_f16(s[j + 1], qa, b1);
      }
    }

    // Mask (causal, window), online softmax; P packed as the A fragments of P V.
    float tile_max[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int j = 0; j < key_tiles; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int position = position0 + 8 * (e / 2);
        const int key = kv0 + 8 * j + 2 * t + (e & 1);
        const bool visible = key <= position && (a.window == 0 || key > position - a.window);
        s[j][e] = visible ? s[j][e] : -INFINITY;
        tile_max[e / 2] = fmaxf(tile_max[e / 2], s[j][e]);
      }
    float alpha[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 1));
      tile_max[r] = fmaxf(tile_max[r], __shfl_xor_sync(0xffffffffu, tile_max[r], 2));
      const float m_new = fmaxf(m[r], tile_max[r]);
      // Until a row's first visible key m stays -inf: nothing is added or rescaled.
      alpha[r] = m_new == -INFINITY ? 1.0f : exp2f(m[r] - m_new);
      m[r] = m_new;
    }
    std::uint32_t p[keys / 16][4];
    float sum[2] = {0.0f, 0.0f};
#pragma unroll
    for (int j = 0; j < key_tiles; ++j) {
      float e4[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        e4[e] = m[e / 2] == -INFINITY ? 0.0f : exp2f(s[j][e] - m[e / 2]);
        sum[e / 2] += e4[e];
      }
      // Tile j is half of k16 chunk j / 2: a0/a1 for even j, a2/a3 for odd.
      p[j / 2][(j & 1) * 2 + 0] = pack_half2(e4[0], e4[1]);
      p[j / 2][(j & 1) * 2 + 1] = pack_half2(e4[2], e4[3]);
    }
#pragma unroll
    for (int r = 0; r < 2; ++r) l[r] = fmaf(l[r], alpha[r], sum[r]);
#pragma unroll
    for (int j = 0; j < d_tiles; ++j) {
      o[j][0] *= alpha[0];
      o[j][1] *= alpha[0];
      o[j][2] *= alpha[1];
      o[j][3] *= alpha[1];
    }

    // O += P V: V's B fragments by ldmatrix.trans, two n8 d tiles at a time.
#pragma unroll
    for (int kc = 0; kc < keys / 16; ++kc) {
#pragma unroll
      for (int j = 0; j < d_tiles; j += 2) {
        std::uint32_t vb[4];
        const int key_row = 16 * kc + (lane & 7) + ((lane >> 3) & 1) * 8;
        mma::ldmatrix_x4_trans(vb, vs + swizzled<D>(key_row, j + ((lane >> 4) & 1)));
        const std::uint32_t b0[2] = {vb[0], vb[1]};
        const std::uint32_t b1[2] = {vb[2], vb[3]};
        mma::mma_f16(o[j], p[kc], b0);
        mma::mma_f16(o[j + 1], p[kc], b1);
      }
    }
  }
  mma::cp_async_wait<0>();

  // out = O / l for the real tokens.
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int token = q0 + warp * 16 + g + 8 * r;
    if (token >= a.tokens) continue;
    const float inverse = 1.0f / l[r];
    float* dst = a.out + static_cast<std::size_t>(token) * a.q_stride + static_cast<std::size_t>(head) * D + 2 * t;
#pragma unroll
    for (int j = 0; j < d_tiles; ++j)
      *reinterpret_cast<float2*>(dst + 8 * j) = make_float2(o[j][2 * r] * inverse, o[j][2 * r + 1] * inverse);
  }
}

namespace attention_detail {

// Launches the kernel for args.head_dim (attention_prefill_mma_takes), with
// args.query_tiles counted in tiles of attention_mma::queries.
template <int D>
void launch_prefill_mma(const PrefillArgs& args, std::uint32_t n_heads, const DeviceInfo& device,
                        cudaStream_t stream) {
  constexpr std::size_t smem = attention_mma::shared_bytes<D>();
  const auto kernel = attention_prefill_mma_kernel<D>;
  device.opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem, "kernels::attention_prefill (tensor cores)");
  kernel<<<dim3(static_cast<unsigned>(args.query_tiles), n_heads), attention_mma::threads, smem, stream>>>(args);
  check_launch("kernels::attention_prefill (tensor cores)");
}

}  // namespace attention_detail

}  // namespace pagoda::kernels

#endif  // __CUDACC__
