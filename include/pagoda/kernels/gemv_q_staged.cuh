// The staged kernel of gemv_q (device code; gemv_q.cuh launches it), for the
// integer formats on rows that are whole 16-byte words (or 8-byte ones: the
// 360- and 440-byte rows of SmolLM2 and Gemma 3 270M, staged with 8-byte loads).
//
// Why: the f32 kernel reads each lane's few bytes with 2- or 4-byte loads
// (GGUF blocks are only 2-aligned), and a warp then has too few bytes in
// flight to cover DRAM latency: on an H100 a 4096 x 4096 Q4_0 product took
// ~19 us (~490 GB/s), no faster than one 3.5 times its size. Here every warp
// copies a tile of each of its rows (X16Dot<F>::tile_blocks whole blocks,
// ~1-1.7 KB) with 16-byte loads into its own shared memory and computes on
// the previous tile while the next one is in flight; x is quantized once per
// block to int16 in shared memory (quant/activation_q16.hpp), so the inner
// products are dp2a on the raw quants.
//
// One launch can also cover several matrices that share x (StagedTargets):
// the rows of q, k and v one after another (StoreRows), or gate and up rows
// in pairs whose epilogue is the gated activation (GatedRows): act(g) * u.
//
// Shared memory: 2.125 bytes per column of x plus warps * rows_per_warp *
// tile bytes (<= 27 KB). Blocks stride over the row groups (the grid is at
// most 4 blocks per SM), so x is quantized once per resident block.
// Bytes moved: the tensor once (nothing past its last byte), x once per
// block from L2, 4 * rows written.
#pragma once

#if !defined(__CUDACC__)
#error "gemv_q_staged.cuh is device code; host code includes pagoda/kernels/gemv_q.cuh"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/block_rms_scale.cuh>
#include <pagoda/kernels/programmatic_launch.hpp>
#include <pagoda/kernels/tuning/gemv_q.hpp>
#include <pagoda/kernels/x16_dot_q.cuh>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/activation_q16.hpp>

namespace pagoda::kernels {

template <class Dot, class F>
inline constexpr std::size_t staged_tile_bytes = Dot::tile_blocks * F::block_bytes;
static_assert(X16Dot<quant::Q4_0>::tile_blocks * quant::Q4_0::block_bytes % 16 == 0);

// Where the parts of the staged kernel's shared memory start, in bytes.
struct StagedSharedLayout {
  std::size_t x_scales;  // after the int16 x
  std::size_t tiles;     // 16-aligned
  std::size_t total;

  static constexpr StagedSharedLayout of(std::size_t cols, std::size_t tile_bytes, int warps, int rows_per_warp) {
    const std::size_t scales = 2 * cols;
    const std::size_t tiles = (scales + cols / quant::q16_activation_block * sizeof(float) + 15) / 16 * 16;
    return {scales, tiles, tiles + static_cast<std::size_t>(warps * rows_per_warp) * tile_bytes};
  }
};

// The matrices of one staged launch: same format and columns, up to three.
struct StagedTargets {
  const std::byte* weights[3] = {};
  float* y[3] = {};
  const float* residual[3] = {};  // added to y (a residual stream or a bias); may be null
  std::size_t rows[3] = {};
  // When set, x is RMS-normalised with this weight first (what kernels::rms_norm
  // computes, bit for bit: the same sum order and rounding), so the norm
  // before a decode projection costs no launch of its own.
  const float* norm_weight = nullptr;
  float norm_eps = 0.0f;
};

// targets[m] for a matrix index known only at run time, by selects: an
// index into the kernel's parameter (a StagedTargets passed by value) would
// make the compiler copy all 112 bytes of it to each thread's local memory.
template <class T>
__device__ __forceinline__ T select3(const T (&values)[3], int m) {
  return m == 0 ? values[0] : (m == 1 ? values[1] : values[2]);
}

// Row `row` of a launch as a row of one matrix: its bytes, its index there,
// the matrix's rows (what a layout that groups rows needs to find it).
struct RowRef {
  const std::byte* weights;
  std::size_t row;
  std::size_t rows;
};

// Rows of the targets one after another; y[m][i] = W_m x (+ residual[m][i]).
struct StoreRows {
  using Targets = StagedTargets;  // what the kernel takes
  static constexpr bool paired = false;
  __device__ static std::size_t total(const StagedTargets& t) { return t.rows[0] + t.rows[1] + t.rows[2]; }
  __device__ static int matrix_of(const StagedTargets& t, std::size_t& row) {
    if (row < t.rows[0]) return 0;
    row -= t.rows[0];
    if (row < t.rows[1]) return 1;
    row -= t.rows[1];
    return 2;
  }
  __device__ static const std::byte* row_bytes_at(const StagedTargets& t, std::size_t row, std::size_t row_bytes) {
    const int m = matrix_of(t, row);
    return select3(t.weights, m) + row * row_bytes;
  }
  __device__ static RowRef locate(const StagedTargets& t, std::size_t row) {
    const int m = matrix_of(t, row);
    return {select3(t.weights, m), row, select3(t.rows, m)};
  }
  template <int R>
  __device__ static void finish(const StagedTargets& t, std::size_t first, const float (&acc)[R]) {
    const std::size_t rows = total(t);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (first + r >= rows) break;
      std::size_t row = first + r;
      const int m = matrix_of(t, row);
      const float* residual = select3(t.residual, m);
      select3(t.y, m)[row] = residual != nullptr ? acc[r] + residual[row] : acc[r];
    }
  }
};

// Gate row i and up row i as rows 2i and 2i + 1 (the two rows of one warp);
// y[0][i] = act(gate_i x) * (up_i x), the element-wise kernels' rounding.
template <model::FfnActivation Activation>
struct GatedRows {
  using Targets = StagedTargets;
  static constexpr bool paired = true;
  __device__ static std::size_t total(const StagedTargets& t) { return 2 * t.rows[0]; }
  __device__ static const std::byte* row_bytes_at(const StagedTargets& t, std::size_t row, std::size_t row_bytes) {
    return (row % 2 == 0 ? t.weights[0] : t.weights[1]) + row / 2 * row_bytes;
  }
  __device__ static RowRef locate(const StagedTargets& t, std::size_t row) {
    return {row % 2 == 0 ? t.weights[0] : t.weights[1], row / 2, t.rows[0]};
  }
  template <int R>
  __device__ static void finish(const StagedTargets& t, std::size_t first, const float (&acc)[R]) {
    static_assert(R == 2, "GatedRows: a warp computes one gate row and its up row");
    const float gate = Activation == model::FfnActivation::silu ? silu(acc[0]) : gelu_tanh(acc[0]);
    t.y[0][first / 2] = __fmul_rn(gate, acc[1]);
  }
};

namespace detail {

// x (cols, a multiple of 32) to xq (int16) and xd (one scale per 32) in
// shared memory, by all Threads threads. Lanes 8g..8g+7 of a warp hold one
// block of 32 (four values each) and agree on its scale by shuffles. When
// norm_weight is set, x is normalised first: (x * norm_scale) * weight, each
// product rounded once, as rms_norm_kernel does. ChunkMajor: chunk c (elements
// 8c..8c+7) of block b at int16 index 8 * (c * blocks + b) instead of 32b + 8c,
// so that lanes reading consecutive blocks' chunks hit consecutive 16 bytes
// (gemv_streams.cuh).
// The passes go in batches whose loads are all issued before any is used: the
// shuffles kept the compiler from hoisting a pass's loads above the one
// before, so each pass cost an L2 round trip (step stamps, H100: 4.1 us of
// the 8B's 14,336-wide down projection went to its x before a weight was
// multiplied; docs/notes/performance.md).
template <int Threads, bool ChunkMajor = false, bool Coherent = false>
__device__ __forceinline__ void quantize_x16_to_shared(const float* __restrict__ x, std::size_t cols,
                                                       std::int16_t* xq, float* xd,
                                                       const float* __restrict__ norm_weight, float norm_scale) {
  constexpr int batch = 4;  // passes of 4 * Threads values
  constexpr std::size_t pass = 4 * Threads;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  // Warp w's passes start at 128w, 128w + pass, ...: the bound is uniform per
  // warp, so every lane takes part in the shuffles of a pass it enters.
  const std::size_t first = 128 * (static_cast<std::size_t>(threadIdx.x) / 32) + 4 * static_cast<std::size_t>(lane);
  for (std::size_t from = first; from - 4 * static_cast<std::size_t>(lane) < cols; from += batch * pass) {
    float4 v[batch], w[batch];
#pragma unroll
    for (int k = 0; k < batch; ++k) {
      const std::size_t i = from + k * pass;
      v[k] = float4{0, 0, 0, 0};
      w[k] = float4{1, 1, 1, 1};
      if (i < cols) {
        v[k] = Coherent ? __ldcg(reinterpret_cast<const float4*>(x + i)) : *reinterpret_cast<const float4*>(x + i);
        if (norm_weight != nullptr) w[k] = *reinterpret_cast<const float4*>(norm_weight + i);
      }
    }
#pragma unroll
    for (int k = 0; k < batch; ++k) {
      const std::size_t i = from + k * pass;
      if (i - 4 * static_cast<std::size_t>(lane) >= cols) break;  // warp-uniform: no later pass of this warp either
      const bool inside = i < cols;
      float4 u = v[k];
      if (norm_weight != nullptr && inside)
        u = float4{__fmul_rn(__fmul_rn(u.x, norm_scale), w[k].x), __fmul_rn(__fmul_rn(u.y, norm_scale), w[k].y),
                   __fmul_rn(__fmul_rn(u.z, norm_scale), w[k].z), __fmul_rn(__fmul_rn(u.w, norm_scale), w[k].w)};
      float amax = fmaxf(fmaxf(fabsf(u.x), fabsf(u.y)), fmaxf(fabsf(u.z), fabsf(u.w)));
      amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 1));
      amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 2));
      amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, 4));
      if (!inside) continue;
      const float inverse = quant::q16_activation_inverse(amax);
      const auto pair = [inverse](float a, float b) {
        return static_cast<int>((static_cast<std::uint32_t>(__float2int_rn(a * inverse)) & 0xffffu) |
                                static_cast<std::uint32_t>(__float2int_rn(b * inverse)) << 16);
      };
      const std::size_t at = ChunkMajor ? 8 * ((i % 32 / 8) * (cols / 32) + i / 32) + i % 8 : i;
      *reinterpret_cast<int2*>(xq + at) = int2{pair(u.x, u.y), pair(u.z, u.w)};
      if (lane % 8 == 0) xd[i / 32] = quant::q16_activation_scale(amax);
    }
  }
}

// The load of one lane: 16 bytes where rows are whole 16-byte words, else 8.
template <int WordBytes>
using StagingWord = std::conditional_t<WordBytes == 16, uint4, uint2>;

// One tile of R rows, words lane, lane + 32, ... of each: read from global
// memory into registers, then written to the warp's shared tiles.
template <int R, int Words, int WordBytes>
struct TileWords {
  using Word = StagingWord<WordBytes>;
  Word word[R][Words];

  __device__ __forceinline__ void load(const std::byte* const (&rows)[R], std::size_t offset, std::size_t bytes,
                                       int lane) {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int w = 0; w < Words; ++w) {
        const std::size_t at = WordBytes * static_cast<std::size_t>(lane + 32 * w);
        if (at < bytes) word[r][w] = __ldg(reinterpret_cast<const Word*>(rows[r] + offset + at));
      }
  }
  __device__ __forceinline__ void store(std::byte* tiles, std::size_t tile_bytes, std::size_t bytes, int lane) const {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int w = 0; w < Words; ++w) {
        const std::size_t at = WordBytes * static_cast<std::size_t>(lane + 32 * w);
        if (at < bytes) *reinterpret_cast<Word*>(tiles + r * tile_bytes + at) = word[r][w];
      }
  }
};

}  // namespace detail

template <class F, class Rows, int Threads, int RowsPerBlock, int WordBytes>
__global__ void __launch_bounds__(Threads)
    gemv_q_staged_kernel(StagedTargets targets,  // (rows, row_bytes) each, WordBytes-aligned rows; y may be residual
                         std::size_t row_bytes, std::size_t cols, const float* __restrict__ x) {
  using Dot = X16Dot<F>;
  constexpr GemvPolicy policy{Threads, RowsPerBlock};
  static_assert(policy.valid() && policy.warps_per_row() == 1, "gemv_q_staged: one warp per row group");
  constexpr int R = policy.rows_per_warp();
  constexpr std::size_t tile_bytes = staged_tile_bytes<Dot, F>;
  static_assert(tile_bytes % 16 == 0, "a tile is whole 16-byte words");
  static_assert(WordBytes == 16 || WordBytes == 8, "gemv_q_staged: 8- or 16-byte staging loads");
  constexpr int words = static_cast<int>((tile_bytes / WordBytes + 31) / 32);
  const StagedSharedLayout layout = StagedSharedLayout::of(cols, tile_bytes, policy.warps(), R);

  extern __shared__ int4 shared[];
  auto* shared_bytes = reinterpret_cast<std::byte*>(shared);
  auto* xq = reinterpret_cast<std::int16_t*>(shared_bytes);
  auto* xd = reinterpret_cast<float*>(shared_bytes + layout.x_scales);
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  std::byte* tiles = shared_bytes + layout.tiles + static_cast<std::size_t>(warp) * R * tile_bytes;

  const std::size_t rows = Rows::total(targets);
  const std::size_t tiles_per_row = (row_bytes + tile_bytes - 1) / tile_bytes;
  const std::size_t group_stride = std::size_t{gridDim.x} * RowsPerBlock;
  std::size_t first = std::size_t{blockIdx.x} * RowsPerBlock + static_cast<std::size_t>(warp) * R;

  // Rows past the end (a ragged last group) re-read the last row and are not stored.
  const std::byte* row[R];
  const auto bind_rows = [&](std::size_t group_first) {
#pragma unroll
    for (int r = 0; r < R; ++r)
      row[r] = Rows::row_bytes_at(targets, group_first + r < rows ? group_first + r : rows - 1, row_bytes);
  };
  pdl_trigger();  // the next kernel may be scheduled now; it waits for this one's results itself
  detail::TileWords<R, words, WordBytes> next;
  if (first < rows) {  // the first tile is in flight while the kernel before ends and x is quantized
    bind_rows(first);
    next.load(row, 0, tile_bytes < row_bytes ? tile_bytes : row_bytes, lane);
  }
  pdl_wait();  // x (and the residual) come from the kernel before: only now may they be read
  const float norm_scale =
      targets.norm_weight != nullptr ? block_rms_scale_at_once<Threads, false>(x, cols, targets.norm_eps) : 1.0f;
  detail::quantize_x16_to_shared<Threads>(x, cols, xq, xd, targets.norm_weight, norm_scale);
  __syncthreads();

  for (; first < rows; first += group_stride) {
    float acc[R];
#pragma unroll
    for (int r = 0; r < R; ++r) acc[r] = 0.0f;
    for (std::size_t t = 0; t < tiles_per_row; ++t) {
      const std::size_t offset = t * tile_bytes;
      const std::size_t bytes = row_bytes - offset < tile_bytes ? row_bytes - offset : tile_bytes;
      __syncwarp();  // every lane is done with the previous tile
      next.store(tiles, tile_bytes, bytes, lane);
      __syncwarp();
      if (t + 1 < tiles_per_row) {
        const std::size_t next_offset = offset + tile_bytes;
        next.load(row, next_offset, row_bytes - next_offset < tile_bytes ? row_bytes - next_offset : tile_bytes,
                  lane);
      }
      const std::byte* tile_rows[R];
#pragma unroll
      for (int r = 0; r < R; ++r) tile_rows[r] = tiles + r * tile_bytes;
      const std::size_t units = bytes / F::block_bytes * Dot::units_per_block;
      const std::size_t element = offset / F::block_bytes * F::block_elements;
      for (std::size_t u = static_cast<std::size_t>(lane); u < units; u += 32)
        Dot::accumulate(tile_rows, u, xq + element, xd + element / quant::q16_activation_block, acc);
    }
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int o = 16; o > 0; o /= 2) acc[r] += __shfl_xor_sync(0xffffffffu, acc[r], o);
    if (lane == 0) Rows::finish(targets, first, acc);
    if (first + group_stride < rows) {  // the next group's first tile
      bind_rows(first + group_stride);
      next.load(row, 0, tile_bytes < row_bytes ? tile_bytes : row_bytes, lane);
    }
  }
}

}  // namespace pagoda::kernels
