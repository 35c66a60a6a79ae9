// The parts the two tensor-core prefill GEMMs share (matmul_mma_streams.cuh
// on mma.sync, matmul_wgmma_streams.cuh on Hopper's wgmma): which product and
// row tile a block owns, the shared-memory layout of one pipeline stage, and
// the cp.async loader that fills a stage with 64 elements of K of X (f16 rows,
// XOR-swizzled by 16-byte chunk) and of W (each field stream's raw bytes).
//
// The swizzle is the 128-byte one of the tensor cores' shared-memory layouts:
// chunk c of row r at chunk c ^ (r % 8), rows of 128 bytes, groups of 8 rows
// 1024 bytes apart. ldmatrix reads it without bank conflicts, and a wgmma
// descriptor names it as is (wgmma.cuh), given a stage that starts at a
// multiple of 1024 bytes.
// Device-only: nvcc.
#pragma once

#if defined(__CUDACC__)

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include <cuda_fp16.h>

#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/matmul_target.hpp>
#include <pagoda/kernels/mma_fragments.cuh>
#include <pagoda/kernels/mma_sync.cuh>
#include <pagoda/kernels/tuning/matmul_mma.hpp>
#include <pagoda/quant/field_streams.hpp>

namespace pagoda::kernels::mma_detail {

// The products of one launch (MatmulTarget: matmul_mma_streams.cuh) and where
// each one's row tiles begin in the launch's grid.x.
struct Targets {
  MatmulTarget target[matmul_mma_max_targets];
  int count;
  int tiles_before[matmul_mma_max_targets + 1];  // row tiles of the targets before each
};

// The targets' row tiles at `rows_tile` rows a tile: where each target's begin, and the total.
inline int count_tiles(Targets& targets, int rows_tile) {
  int tiles = 0;
  for (int i = 0; i <= static_cast<int>(matmul_mma_max_targets); ++i) {
    targets.tiles_before[i] = tiles;
    if (i < targets.count)
      tiles += static_cast<int>((targets.target[i].rows + static_cast<std::size_t>(rows_tile) - 1) /
                                static_cast<std::size_t>(rows_tile));
  }
  return tiles;
}

// The launch's products after checking matmul_mma_streams' preconditions
// (naming `operation` in the error); returns the rows of all of them.
template <quant::QuantFormat F>
std::size_t checked_targets(const std::string& operation, std::span<const MatmulTarget> targets, std::size_t cols,
                            const __half* x, std::size_t tokens, Targets& launch_targets, bool outputs = true) {
  constexpr std::size_t int_max = 0x7fffffff;
  require(!targets.empty() && targets.size() <= matmul_mma_max_targets, operation, "one to three targets");
  require(matmul_mma_takes<F>(cols), operation,
          "cols (" + std::to_string(cols) +
              ") is a multiple of 64 and of the block size, each stream's row entries 4-byte aligned");
  require(cols <= int_max && tokens <= 65535u * 32u, operation, "cols below 2^31 and tokens at most 2097120");
  require(reinterpret_cast<std::uintptr_t>(x) % 16 == 0, operation, "x is 16-byte aligned");
  std::size_t rows_total = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const MatmulTarget& target = targets[i];
    require(target.rows > 0 && target.weights != nullptr && (target.y != nullptr || !outputs) && x != nullptr,
            operation, "every target has rows, weights and y; x is not null");
    require(reinterpret_cast<std::uintptr_t>(target.weights) % 16 == 0, operation, "the weights are 16-byte aligned");
    require(target.rows * (cols / F::block_elements) * F::block_bytes < (std::size_t{1} << 32), operation,
            "each matrix below 4 GiB");
    launch_targets.target[i] = target;
    rows_total += target.rows;
  }
  launch_targets.count = static_cast<int>(targets.size());
  return rows_total;
}

// Launches `kernel` (either GEMM's) over total_tiles row tiles x the token
// tiles, with `shared_bytes` of dynamic shared memory (opted in to once per
// device), checked; `extra`: the kernel's parameters after (targets, x, tokens, cols).
template <class Kernel, class... Extra>
void launch_tiles(Kernel kernel, std::size_t shared_bytes, int threads, int tokens_tile, const Targets& targets,
                  int total_tiles, const __half* x, int tokens, int cols, const DeviceInfo& device,
                  cudaStream_t stream, const std::string& operation, Extra... extra) {
  device.opt_in_shared_memory(reinterpret_cast<const void*>(kernel), shared_bytes, operation);
  const dim3 grid(static_cast<unsigned>(total_tiles), static_cast<unsigned>((tokens + tokens_tile - 1) / tokens_tile));
  kernel<<<grid, threads, shared_bytes, stream>>>(targets, x, tokens, cols, extra...);
  check_launch(operation);
}

// The product of row tile `tile` (blockIdx.x) and its first row.
struct TileTarget {
  MatmulTarget target;
  int row0;
  int which = 0;  // the target's index in the launch
};

__device__ __forceinline__ TileTarget tile_target(const Targets& targets, int tile, int rows_tile) {
  const int which = (targets.count > 1 && tile >= targets.tiles_before[1]) +
                    (targets.count > 2 && tile >= targets.tiles_before[2]);
  // Field by field, with constant indices: selecting a whole parameter struct
  // made the compiler load it through a generic pointer to parameter space,
  // which faulted on the H100 (reads at address 0x8: `rows` off a null base).
  const auto pick = [which](auto a, auto b, auto c) { return which == 0 ? a : (which == 1 ? b : c); };
  const auto& all = targets.target;
  const MatmulTarget target{pick(all[0].weights, all[1].weights, all[2].weights),
                            pick(all[0].rows, all[1].rows, all[2].rows), pick(all[0].y, all[1].y, all[2].y),
                            pick(all[0].residual, all[1].residual, all[2].residual)};
  // Constant indices only: a computed index into the parameter would copy it to local memory.
  const int tiles_before = which == 0 ? 0 : (which == 1 ? targets.tiles_before[1] : targets.tiles_before[2]);
  return {target, (tile - tiles_before) * rows_tile, which};
}

// Shared memory of one pipeline stage: X (tokens_tile rows of 128 bytes),
// then each stream part (rows_tile rows of its pitch). Only P's tile sizes
// and thread count matter here.
template <quant::QuantFormat F, MmaPolicy P>
struct StageLayout {
  using Fragments = mma::MmaFragments<F>;
  static constexpr int parts = static_cast<int>(Fragments::parts.size());
  static constexpr int x_row_bytes = mma::stage_k * 2;
  static constexpr int x_bytes = P.tokens_tile * x_row_bytes;
  static constexpr int part_offset(int s) {
    int at = x_bytes;
    for (int i = 0; i < s; ++i) at += P.rows_tile * Fragments::parts[static_cast<std::size_t>(i)].pitch();
    return at;
  }
  static constexpr int bytes = part_offset(parts);
  // mma.sync's pipeline: four stages where two blocks still fit an SM's 228 KB, else three.
  static constexpr int stages = 4 * bytes <= 113 * 1024 ? 4 : 3;
  static constexpr std::size_t shared_bytes = static_cast<std::size_t>(stages) * bytes;
  // Copies per thread per stage of part s (ceil: the last round may be partial).
  static constexpr int part_rounds(int s) {
    const int items = P.rows_tile * Fragments::parts[static_cast<std::size_t>(s)].copies();
    return (items + P.threads() - 1) / P.threads();
  }
  static constexpr int max_part_rounds() {
    int most = 0;
    for (int s = 0; s < parts; ++s) most = part_rounds(s) > most ? part_rounds(s) : most;
    return most;
  }
  static constexpr int x_rounds = P.tokens_tile * 8 / P.threads();
};

// A 16-byte chunk c of X row `row` sits at chunk c ^ (row % 8): the eight rows
// an ldmatrix reads at once then hit eight different bank groups.
__device__ __forceinline__ int swizzled(int row, int chunk) { return row * 128 + ((chunk ^ (row & 7)) << 4); }

// fn(integral_constant<int, 0>) ... fn(integral_constant<int, N - 1>): the
// stream parts differ in type-level facts (copy size), so they unroll at compile time.
template <int N, class Fn>
__device__ __forceinline__ void static_for(Fn&& fn) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (fn(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

// What thread `tid` copies into every stage of a block's tile: X rows tid / 8
// (+ threads / 8 per round), chunk tid % 8; of each stream part, items tid
// (+ threads per round), an item being one copy of a row's part. Rows and
// tokens outside the matrix are zero-filled. Pair: the tile's upper half of
// rows comes from a second matrix (`upper`) at the same row offsets (the
// gate and up projections side by side, matmul_wgmma_gated).
template <quant::QuantFormat F, MmaPolicy P, bool Pair = false>
class StageLoader {
 public:
  using Layout = StageLayout<F, P>;
  using Fragments = mma::MmaFragments<F>;
  static constexpr int parts = Layout::parts;

  __device__ __forceinline__ StageLoader(const MatmulTarget& target, int row0, int tok0, const __half* x, int tokens,
                                         int cols, int tid, const MatmulTarget* upper = nullptr)
      : x_(x),
        weights_(reinterpret_cast<const std::uint8_t*>(target.weights)),
        upper_weights_(Pair ? reinterpret_cast<const std::uint8_t*>(upper->weights) : nullptr),
        x_src_(x + static_cast<std::size_t>(tok0 + tid / 8) * static_cast<std::size_t>(cols) + 8 * (tid % 8)),
        x_dst_(swizzled(tid / 8, tid % 8)),
        x_rows_left_(tokens - tok0 - tid / 8),
        cols_(cols),
        tid_(tid) {
    const int rows = static_cast<int>(target.rows);
    static_for<parts>([&](auto part_index) {
      constexpr int s = decltype(part_index)::value;
      constexpr mma::StagePart part = Fragments::parts[s];
      constexpr int rounds = Layout::part_rounds(s);
#pragma unroll
      for (int i = 0; i < max_rounds; ++i) {
        const int item = tid + i * P.threads();
        const bool in_upper = Pair && item / part.copies() >= half_rows;
        const MatmulTarget& source = in_upper ? *upper : target;
        const std::uint8_t* const base = in_upper ? upper_weights_ : weights_;
        const int row = row0 + item / part.copies() - (in_upper ? half_rows : 0);
        if constexpr (Pair) upper_[s][i] = in_upper;
        if (i < rounds && item < P.rows_tile * part.copies() && row < rows) {
          const quant::FieldStreamRow<F> streams = quant::field_stream_row<F>(
              source.weights, static_cast<std::size_t>(rows), static_cast<std::size_t>(cols),
              static_cast<std::size_t>(row));
          w_src_[s][i] = static_cast<std::uint32_t>(streams.stream[part.stream] - base) +
                         static_cast<std::uint32_t>(item % part.copies() * part.copy_bytes());
        } else {
          w_src_[s][i] = ~0u;
        }
      }
    });
  }

  // Issues the cp.async copies of the stage at element k0 into `base` (uncommitted).
  __device__ __forceinline__ void load(unsigned char* base, int k0) const {
    constexpr int x_token_step = P.threads() / 8;  // a multiple of 8: the swizzle repeats
#pragma unroll
    for (int i = 0; i < Layout::x_rounds; ++i) {
      const bool valid = i * x_token_step < x_rows_left_;
      const __half* src = valid ? x_src_ + static_cast<std::size_t>(i * x_token_step) * cols_ + k0 : x_;
      mma::cp_async16(base + x_dst_ + i * x_token_step * 128, src, valid);
    }
    static_for<parts>([&](auto part_index) {
      // Every fact of the part as a compile-time constant (see StagePart::offset).
      constexpr int s = decltype(part_index)::value;
      constexpr mma::StagePart part = Fragments::parts[s];
      constexpr int rounds = Layout::part_rounds(s);
      constexpr int part_offset = Layout::part_offset(s);
      constexpr int copy_bytes = part.copy_bytes();
      constexpr std::size_t field_bytes = quant::FieldStreams<F>::streams[part.stream].bytes;
      const auto offset = static_cast<std::uint32_t>(part.offset(k0, static_cast<int>(F::block_elements), field_bytes));
#pragma unroll
      for (int i = 0; i < rounds; ++i) {
        const int item = tid_ + i * P.threads();
        if (item >= P.rows_tile * part.copies()) continue;  // a partial last round
        const bool valid = w_src_[s][i] != ~0u;
        const std::uint8_t* matrix = weights_;
        if constexpr (Pair) matrix = upper_[s][i] ? upper_weights_ : weights_;
        const std::uint8_t* src = valid ? matrix + w_src_[s][i] + offset : matrix;
        unsigned char* dst = base + part_offset + item / part.copies() * part.pitch() + item % part.copies() * copy_bytes;
        if constexpr (copy_bytes == 16)
          mma::cp_async16(dst, src, valid);
        else
          mma::cp_async_small<copy_bytes>(dst, src, valid);
      }
    });
  }

  // The shared-memory start of each stream part of row `row` (of the tile) in the stage at `base`.
  __device__ __forceinline__ static void fields_of(const unsigned char* base, int row, const std::uint8_t* (&f)[parts]) {
    static_for<parts>([&](auto part_index) {
      constexpr int s = decltype(part_index)::value;
      f[s] = base + Layout::part_offset(s) + row * Fragments::parts[s].pitch();
    });
  }

 private:
  static constexpr int max_rounds = Layout::max_part_rounds();
  static constexpr int half_rows = P.rows_tile / 2;  // Pair: where the upper matrix's rows begin
  const __half* x_;
  const std::uint8_t* weights_;
  const std::uint8_t* upper_weights_;
  const __half* x_src_;
  int x_dst_;
  int x_rows_left_;  // tokens at or after this thread's first X row
  int cols_;
  int tid_;
  std::uint32_t w_src_[parts][max_rounds];  // byte offset of the item's copy in its matrix, or ~0 outside
  bool upper_[Pair ? parts : 1][Pair ? max_rounds : 1];  // Pair: the item's matrix is `upper`
};

// How a launch shares K among blocks (blockIdx.z = split): `steps` 64-element
// stages each; with more than one split, each block leaves its partial tile
// in `partials` ((tile, split, thread, value)) and counts itself in
// `arrivals` (one per tile, zero between launches).
struct SplitK {
  int steps;
  float* partials = nullptr;
  unsigned* arrivals = nullptr;
};

// After a split block's main loop: stores its `Values` accumulators a thread,
// and returns true in the tile's last block to arrive only, with `acc` then
// holding the sum of every split's, added in split order (so the result does
// not depend on which block came last), and the tile's counter reset.
template <int Threads, int Values>
__device__ __forceinline__ bool gather_splits(const SplitK& split, float* acc) {
  static_assert(Values % 4 == 0, "whole float4s of accumulators");
  const unsigned tile = blockIdx.x + gridDim.x * blockIdx.y;
  const std::size_t per_split = static_cast<std::size_t>(Threads) * Values;
  float* const tile_partials = split.partials + static_cast<std::size_t>(tile) * gridDim.z * per_split;
  const std::size_t mine = static_cast<std::size_t>(threadIdx.x) * Values;
  float4* const out = reinterpret_cast<float4*>(tile_partials + blockIdx.z * per_split + mine);
#pragma unroll
  for (int i = 0; i < Values / 4; ++i) out[i] = make_float4(acc[4 * i], acc[4 * i + 1], acc[4 * i + 2], acc[4 * i + 3]);
  __threadfence();  // the partial is visible GPU-wide before the block counts itself
  __syncthreads();
  __shared__ bool last;
  if (threadIdx.x == 0) last = atomicAdd(split.arrivals + tile, 1u) == gridDim.z - 1;
  __syncthreads();
  if (!last) return false;
  __threadfence();  // the other splits' partials, counted before ours, are read after
#pragma unroll
  for (int i = 0; i < Values; ++i) acc[i] = 0.0f;
  // Four splits' loads in flight before the first add (a loop of one
  // split at a time waited one L2 round trip per split: ~10 us for 16).
  constexpr unsigned in_flight = 4;
  for (unsigned z0 = 0; z0 < gridDim.z; z0 += in_flight) {
    float4 v[in_flight][Values / 4];
#pragma unroll
    for (unsigned j = 0; j < in_flight; ++j) {
      const bool present = z0 + j < gridDim.z;
      // A split past the last is never addressed (its pointer would lie past the workspace).
      const float4* in = reinterpret_cast<const float4*>(tile_partials + (present ? z0 + j : 0) * per_split + mine);
#pragma unroll
      for (int i = 0; i < Values / 4; ++i)
        v[j][i] = present ? __ldcg(in + i) : make_float4(0.0f, 0.0f, 0.0f, 0.0f);  // L2: other SMs wrote them
    }
#pragma unroll
    for (unsigned j = 0; j < in_flight; ++j)  // in split order, whatever arrived first
#pragma unroll
      for (int i = 0; i < Values / 4; ++i) {
        acc[4 * i] += v[j][i].x;
        acc[4 * i + 1] += v[j][i].y;
        acc[4 * i + 2] += v[j][i].z;
        acc[4 * i + 3] += v[j][i].w;
      }
  }
  if (threadIdx.x == 0) split.arrivals[tile] = 0;  // ready for the next launch
  return true;
}

// The epilogue of both GEMMs: y[token][row] (and row + 1) = v (+ residual),
// float2 stores where rows are even (then (token * rows + row) is even).
__device__ __forceinline__ void store_pair(const MatmulTarget& target, int rows, int token, int row, float v0,
                                           float v1) {
  const std::size_t at = static_cast<std::size_t>(token) * static_cast<std::size_t>(rows) + static_cast<std::size_t>(row);
  if (rows % 2 == 0 && row < rows) {
    if (target.residual != nullptr) {
      const float2 r = *reinterpret_cast<const float2*>(target.residual + at);
      v0 += r.x;
      v1 += r.y;
    }
    *reinterpret_cast<float2*>(target.y + at) = make_float2(v0, v1);
  } else {
    if (row < rows) target.y[at] = v0 + (target.residual != nullptr ? target.residual[at] : 0.0f);
    if (row + 1 < rows) target.y[at + 1] = v1 + (target.residual != nullptr ? target.residual[at + 1] : 0.0f);
  }
}

}  // namespace pagoda::kernels::mma_detail

#endif  // __CUDACC__
