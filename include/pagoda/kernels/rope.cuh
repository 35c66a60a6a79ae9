// kernels::rope: rotary position embedding, in place, for the heads of a batch
// of tokens: x is (tokens, n_heads * head_dim) f32 and token t sits at
// positions[t] (device int32, so a captured decode step reads the position of
// the moment). Pair i < rotated_dims / 2 of each head turns by
//   angle = position / linear_scale * freq_base^(-2i / rotated_dims) / freq_factors[i]
// over dimensions (2i, 2i+1) (interleaved) or (i, i + rotated_dims/2) (NeoX).
// Bytes moved: 8 * tokens * n_heads * rotated_dims (read and written in place)
// + 4 per token of positions. Bound: launch latency at decode (one token); the
// angle is computed in double, like the CPU oracle, so that positions near
// 131072 keep f32 accuracy (an f32 angle of 1e5 radians is off by ~4e-3).
//
// Host code (g++) includes this header for the launcher; the kernel is
// compiled in cuda/kernels/rope.cu.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <cuda_runtime_api.h>

#include <pagoda/model/architecture.hpp>

namespace pagoda::kernels {

struct RopeParams {
  std::uint32_t head_dim;
  std::uint32_t rotated_dims;   // even, <= head_dim; the rest of a head is left as is
  float freq_base;
  float linear_scale;           // positions are divided by this
  const float* freq_factors;    // device, rotated_dims / 2 values, or nullptr (all 1)
  model::RopeLayout layout;
};

// Throws pagoda::Error naming `operation` unless rotated_dims is even and at
// most head_dim, and freq_base and linear_scale are positive: every launcher
// that rotates checks these.
void require_valid(const RopeParams& params, std::string_view operation);

struct RopePolicy {
  int threads;
  friend constexpr bool operator==(const RopePolicy&, const RopePolicy&) = default;
};
// One thread per rotated pair; 128 threads keep a 32-head decode step on 32+ SMs.
inline constexpr RopePolicy rope_policy{128};

// Rotates x in place, asynchronously on `stream`; throws pagoda::Error on a
// violated precondition (odd or too many rotated dims, non-positive base or
// scale) or a failed launch. positions[t] must be >= 0 (they index the KV
// cache; the engine checks them against the context).
void rope(float* x, std::size_t tokens, std::size_t n_heads, const RopeParams& params,
          const std::int32_t* positions, cudaStream_t stream);

#if defined(__CUDACC__)

// Pair i's turn at `position` (the rule above), the angle in double as the
// oracle computes it. Shared by every kernel that rotates (rope_kernel,
// rope_kv_store's, the decode GEMV's RoPE epilogue), so all round alike.
struct RopeTurn {
  float c, s;
};
__device__ __forceinline__ RopeTurn rope_turn_at(std::uint32_t i, std::uint32_t pairs, std::int32_t position,
                                                 double freq_base, double linear_scale, const float* freq_factors) {
  const double scaled_position = static_cast<double>(position) / linear_scale;
  double angle = scaled_position * pow(freq_base, -2.0 * i / static_cast<double>(2 * pairs));
  if (freq_factors != nullptr) angle /= static_cast<double>(freq_factors[i]);
  double sin_angle, cos_angle;
  sincos(angle, &sin_angle, &cos_angle);
  return {static_cast<float>(cos_angle), static_cast<float>(sin_angle)};
}
// (x0, x1) turned: products rounded before the sum, as on the host (no FMA contraction).
__device__ __forceinline__ float2 rope_turned(float x0, float x1, RopeTurn turn) {
  return {__fsub_rn(__fmul_rn(x0, turn.c), __fmul_rn(x1, turn.s)),
          __fadd_rn(__fmul_rn(x0, turn.s), __fmul_rn(x1, turn.c))};
}

// Turns pair i of one head in place, at `position`. Shared by rope_kernel and
// the fused decode kernel of rope_kv_store.cuh.
__device__ __forceinline__ void rope_rotate_pair(float* head, std::uint32_t i, std::uint32_t pairs,
                                                 std::int32_t position, double freq_base, double linear_scale,
                                                 const float* freq_factors, bool neox) {
  const RopeTurn turn = rope_turn_at(i, pairs, position, freq_base, linear_scale, freq_factors);
  const std::uint32_t a = neox ? i : 2 * i;
  const std::uint32_t b = neox ? i + pairs : 2 * i + 1;
  const float2 turned = rope_turned(head[a], head[b], turn);
  head[a] = turned.x;
  head[b] = turned.y;
}

// Thread = one (token, head, pair).
template <int Threads>
__global__ void __launch_bounds__(Threads)
    rope_kernel(float* x,                          // (tokens, n_heads * head_dim)
                const std::int32_t* positions,     // (tokens)
                std::size_t n_pairs_total,         // tokens * n_heads * pairs
                std::uint32_t n_heads, std::uint32_t head_dim, std::uint32_t pairs, double freq_base,
                double linear_scale, const float* freq_factors, bool neox) {
  const std::size_t id = std::size_t{blockIdx.x} * Threads + threadIdx.x;
  if (id >= n_pairs_total) return;
  const auto i = static_cast<std::uint32_t>(id % pairs);
  const std::size_t head = id / pairs;  // token * n_heads + h
  const std::size_t token = head / n_heads;
  rope_rotate_pair(x + head * head_dim, i, pairs, positions[token], freq_base, linear_scale, freq_factors, neox);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
