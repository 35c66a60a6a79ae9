// The epilogues of kernels::matmul_few_streams (matmul_few_streams.cuh) other
// than the plain store: act(gate) * up of paired gate and up rows, and q, k
// and v's RoPE and KV append. Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>

#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/matmul_target.hpp>
#include <pagoda/kernels/rope_kv_append.cuh>
#include <pagoda/kernels/stored.cuh>
#include <pagoda/kernels/tuning/matmul_few_streams.hpp>
#include <pagoda/model/architecture.hpp>

namespace pagoda::kernels::few_streams {

// What a launch writes: each target's rows in f32 (+ residual); of two
// targets paired row for row (gate, up), act(gate) * up in f16; or q, k and
// v's rows with RoPE and the KV append (store_rope_kv).
enum class Output { products, gated, rope_kv };

struct Gated {
  __half* out = nullptr;  // (tokens, rows) f16
  model::FfnActivation activation = model::FfnActivation::silu;
};

// Shared memory of the gated epilogue: the gate warps' accumulators, a float4 a lane and fragment.
template <FewStreamsShape shape>
inline constexpr std::size_t gated_epilogue_bytes =
    static_cast<std::size_t>(shape.warps / 2) * static_cast<std::size_t>(shape.fragments) * 32 * sizeof(float4);

// The gated epilogue: gate warp w and up warp w + warps / 2 hold the same rows
// and tokens in the same registers, so each gate lane leaves its accumulators
// where its up twin reads them and rounds act(gate) * up to f16 (the
// operations of kernels::gated_activation): lane (g, t), rows 2t and 2t + 1
// of each fragment, tokens g and g + 8.
template <FewStreamsShape shape>
__device__ __forceinline__ void store_gated(uint4* shared, const float (&acc)[shape.fragments][4], const Gated& gated,
                                            int tokens, int rows, int warp_row0) {
  constexpr int pair_warps = shape.warps / 2;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  float4* const gates = reinterpret_cast<float4*>(shared);  // [warp of the pair][fragment][lane]
  __syncthreads();  // every warp is done with the staged X
  if (warp < pair_warps)
#pragma unroll
    for (int n = 0; n < shape.fragments; ++n)
      gates[(warp * shape.fragments + n) * 32 + lane] = make_float4(acc[n][0], acc[n][1], acc[n][2], acc[n][3]);
  __syncthreads();
  if (warp < pair_warps) return;
  const auto act = [&](float gate) {
    return gated.activation == model::FfnActivation::gelu_tanh ? gelu_tanh(gate) : silu(gate);
  };
#pragma unroll
  for (int n = 0; n < shape.fragments; ++n) {
    const float4 gate4 = gates[((warp - pair_warps) * shape.fragments + n) * 32 + lane];
    const float gate[4] = {gate4.x, gate4.y, gate4.z, gate4.w};
    const int row = warp_row0 + 8 * n + 2 * (lane % 4);
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int token = lane / 4 + 8 * h;
      if (token >= tokens || row >= rows) continue;
      __half* const at = gated.out + static_cast<std::size_t>(token) * static_cast<std::size_t>(rows) + row;
      const __half v0 = stored<__half>(__fmul_rn(act(gate[2 * h]), acc[n][2 * h]));
      if (row + 1 >= rows) {
        at[0] = v0;
        continue;
      }
      const __half v1 = stored<__half>(__fmul_rn(act(gate[2 * h + 1]), acc[n][2 * h + 1]));
      if (rows % 2 == 0) {  // (token * rows + row) even: one 4-byte store
        *reinterpret_cast<__half2*>(at) = __halves2half2(v0, v1);
      } else {
        at[0] = v0;
        at[1] = v1;
      }
    }
  }
}

// The RoPE epilogue of the batched step's q, k and v (what rope_kv_store
// does after the product, in the same arithmetic): lane (g, t) holds rows 2t
// and 2t + 1 of each fragment, one interleaved pair, for tokens g and g + 8;
// token r turns at positions[r], its query rows go to the target's y in f32,
// its key (turned) and value rows to cache row cache_rows[r] in f16. `role`:
// the block's target's. Rows are whole heads (even): a pair never straddles.
template <FewStreamsShape shape>
__device__ __forceinline__ void store_rope_kv(const MatmulTarget& target, QkvRole role,
                                              const float (&acc)[shape.fragments][4], const RopeKvAppend& append,
                                              int tokens, int rows, int warp_row0) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const RopeParams& rope = append.rope;
#pragma unroll
  for (int n = 0; n < shape.fragments; ++n) {
    const int row = warp_row0 + 8 * n + 2 * (lane % 4);
    const auto pair = static_cast<std::uint32_t>(row) % rope.head_dim / 2;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int token = lane / 4 + 8 * h;
      if (token >= tokens || row >= rows) continue;
      const std::int32_t position = append.positions[token];
      float x0 = acc[n][2 * h], x1 = acc[n][2 * h + 1];
      if (role != QkvRole::value && pair < rope.rotated_dims / 2) {
        const float2 turned = rope_turned(x0, x1, rope_turn_at(pair, rope.rotated_dims / 2, position, rope.freq_base,
                                                               rope.linear_scale, rope.freq_factors));
        x0 = turned.x;
        x1 = turned.y;
      }
      if (role == QkvRole::query) {
        *reinterpret_cast<float2*>(target.y + static_cast<std::size_t>(token) * static_cast<std::size_t>(rows) + row) =
            make_float2(x0, x1);
        continue;
      }
      const std::int32_t cache_row = append.cache_rows != nullptr ? append.cache_rows[token] : position;
      __half* const cache = role == QkvRole::key ? append.k_cache : append.v_cache;
      *reinterpret_cast<__half2*>(cache + static_cast<std::size_t>(cache_row) * static_cast<std::size_t>(rows) + row) =
          __halves2half2(__float2half_rn(x0), __float2half_rn(x1));
    }
  }
}

}  // namespace pagoda::kernels::few_streams

#endif  // __CUDACC__
