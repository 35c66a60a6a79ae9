// kernels::matmul_mma_streams<F>: the prefill projection on tensor cores,
// reading weights in the field-streams layout (quant/field_streams.hpp).
//   Y_i[t][r] = dot(W_i row r, X[t]) (+ residual_i[t][r])   for up to three
// matrices W_i of the same format and cols sharing the input X (q, k and v;
// gate and up), in one launch.
// X: (tokens, cols) f16, 16-byte aligned (kernels::to_half makes it once per
// input); Y_i and residual_i: (tokens, rows_i) f32.
//
// Shape (tuning/matmul_mma.hpp): a block owns a tokens_tile x rows_tile tile
// of one Y_i and walks K in stages of 64 elements through a 3- or 4-deep
// cp.async pipeline in shared memory: X as f16 rows, XOR-swizzled by 16-byte
// chunk so that ldmatrix reads them without bank conflicts; W as the raw bytes
// of each field stream (mma_fragments.cuh: StagePart), padded per row. Warps
// load X fragments with ldmatrix.x4, decode W fragments from the raw bytes in
// registers (mma_fragments.cuh) and multiply with mma.sync m16n8k16 into f32
// accumulators; the epilogue adds the residual and stores float2 pairs.
//
// FLOPs: 2 * tokens * rows * cols. Bytes from L2: W once per token tile
// (ceil(tokens / tokens_tile) * rows * cols * bits / 8), X once per row tile
// (ceil(rows / rows_tile) * tokens * cols * 2). At 512 x 14336 x 4096 that is
// 60 GFLOP against ~0.6 GB of L2 reads and 33 MB of HBM: the tensor cores
// (~600 TFLOP/s for mma.sync f16 on an H100) and the decode of W in
// registers bound it, not memory.
//
// matmul_mma_few (a batched decode step, at most 16 tokens) moves the matrix
// once and tokens * cols * 2 bytes of X per row tile: it is meant to be bound
// by HBM like the decode GEMVs; measured (H100) it decodes ~1.9e12 weights a
// second, ~1 TB/s of Q4_0 (docs/notes/performance.md, "Issue 17"). The engine
// now takes matmul_few_streams.cuh for that step (10-80% faster); this one
// stays as the baseline pagoda-kernel-bench times beside it.
//
// Host code compiled by g++ may include this header for the declarations; the
// instantiations are generated per format of quant::field_stream_formats from
// cuda/templates/matmul_mma_streams_format.cu.in.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/matmul_target.hpp>
#include <pagoda/kernels/tuning/matmul_mma.hpp>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/format.hpp>

namespace pagoda::kernels {

// Asynchronous on `stream`, on `device`. The tile policy is
// select_mma_policy's for the device's SM count unless `forced` names one of
// mma_policies (tests and pagoda-kernel-bench time each).
// Throws pagoda::Error on a violated precondition (naming the format) or a
// failed launch.
template <quant::QuantFormat F>
void matmul_mma_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                        const DeviceInfo& device, cudaStream_t stream, const MmaPolicy* forced = nullptr);

// Where matmul_mma_few's split blocks leave their partial tiles, and a
// counter per tile (zero between launches: the last block of a tile resets
// it). Owned by the caller; one launch at a time may use it.
struct SplitWorkspace {
  float* partials = nullptr;
  std::size_t partial_floats = 0;
  unsigned* arrivals = nullptr;
  std::size_t arrival_count = 0;
};
// Tokens matmul_mma_few takes in one launch: one 16-token tile.
inline constexpr std::size_t matmul_mma_few_max_tokens = 16;
// The sizes (pointers null) of the workspace matmul_mma_few needs for
// launches of at most `rows` rows in all (the targets of one launch
// together) on `device`: tiles x splits never exceeds the split target plus
// the tiles (mma_few_splits rounds the splits up from target / tiles), and
// each target rounds its own rows up to whole tiles (one more tile for each
// target after the first, at most). `forced_splits` > 0: room for launches
// forcing up to that many splits instead (tests, the bench).
[[nodiscard]] inline SplitWorkspace matmul_mma_few_workspace_size(std::size_t rows, const DeviceInfo& device,
                                                                  std::size_t forced_splits = 0) {
  const std::size_t tiles =
      (rows + mma_policy_few.rows_tile - 1) / mma_policy_few.rows_tile + (matmul_mma_max_targets - 1);
  const std::size_t target =
      static_cast<std::size_t>(mma_few_split_policy.blocks_per_sm) * static_cast<std::size_t>(device.multiprocessors());
  const std::size_t values = static_cast<std::size_t>(mma_policy_few.threads()) * mma_policy_few.fragments_tokens() *
                             mma_policy_few.fragments_rows() * 4;
  const std::size_t tile_splits = std::max(target + tiles, tiles * forced_splits);
  return {nullptr, tile_splits * values, nullptr, tiles};
}

// The same products for at most matmul_mma_few_max_tokens tokens (a batched
// decode step: one token per sequence), on mma_policy_few's 16-token tiles
// with K split across blocks (mma_few_splits) so that a 4096-row matrix
// still gives every SM blocks to stream weights with: the weights are read
// once for every token. The split blocks' partial sums are added in split
// order by the last block of each tile, so results do not depend on timing.
// `splits` > 0 forces a split count (tests, the bench); 0: mma_few_splits.
template <quant::QuantFormat F>
void matmul_mma_few(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                    const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream, int splits = 0);

}  // namespace pagoda::kernels

#if defined(__CUDACC__)

#include <string>
#include <type_traits>
#include <utility>

#include <pagoda/kernels/mma_fragments.cuh>
#include <pagoda/kernels/mma_stage.cuh>
#include <pagoda/kernels/mma_sync.cuh>

namespace pagoda::kernels {


// The policy arrives as an index into mma_policies (nvcc's host stubs cannot
// name a kernel with a class-type template argument).
template <quant::QuantFormat F, int policy_index>
__global__ void __launch_bounds__(mma_policies[policy_index].threads(), mma_policies[policy_index].min_blocks_per_sm)
    matmul_mma_kernel(mma_detail::Targets targets, const __half* __restrict__ x, int tokens, int cols,
                      mma_detail::SplitK split) {
  constexpr MmaPolicy P = mma_policies[policy_index];
  static_assert(P.valid(), "matmul_mma_streams: inconsistent tile policy");
  using Layout = mma_detail::StageLayout<F, P>;
  using Fragments = mma::MmaFragments<F>;
  constexpr int MT = P.fragments_tokens();
  constexpr int NT = P.fragments_rows();
  constexpr int stages = Layout::stages;
  constexpr int parts = Layout::parts;

  extern __shared__ __align__(128) unsigned char shared[];
  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % 32;
  const int warp = tid / 32;
  const int warp_t = warp / P.warps_rows;
  const int warp_r = warp % P.warps_rows;

  // The block's target and tile, and what this thread copies into every stage.
  const mma_detail::TileTarget tile = mma_detail::tile_target(targets, static_cast<int>(blockIdx.x), P.rows_tile);
  const MatmulTarget& target = tile.target;
  const int rows = static_cast<int>(target.rows);
  const int tok0 = static_cast<int>(blockIdx.y) * P.tokens_tile;
  const mma_detail::StageLoader<F, P> loader(target, tile.row0, tok0, x, tokens, cols, tid);

  float acc[MT][NT][4];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[m][n][e] = 0.0f;

  // ldmatrix: lane l addresses row l % 8 (+8 for lanes 8-15 and 24-31) of the
  // warp's m16 tile, 16-byte chunk 2 kc (+1 for lanes 16-31).
  const int a_row = warp_t * P.warp_tokens() + (lane & 7) + ((lane >> 3) & 1) * 8;
  const int a_half = lane >> 4;
  const int g = lane / 4;
  const int t = lane % 4;

  // This block's stages of K: all of them, or on the few-token tile its
  // split's (blockIdx.z); the other tiles are never split and keep the
  // registers the split would cost them.
  constexpr bool splits = P == mma_policy_few;
  const int all_steps = cols / mma::stage_k;
  const int first_step = splits ? static_cast<int>(blockIdx.z) * split.steps : 0;
  const int k_steps = splits ? min(all_steps, first_step + split.steps) - first_step : all_steps;
  const int k_first = first_step * mma::stage_k;
#pragma unroll
  for (int s = 0; s < stages - 1; ++s) {
    if (s < k_steps) loader.load(shared + s * Layout::bytes, k_first + s * mma::stage_k);
    mma::cp_async_commit();
  }
  for (int step = 0; step < k_steps; ++step) {
    mma::cp_async_wait<stages - 2>();
    __syncthreads();  // stage `step` landed for every thread; slot (step - 1) % stages is free
    const int next = step + stages - 1;
    if (next < k_steps) loader.load(shared + (next % stages) * Layout::bytes, k_first + next * mma::stage_k);
    mma::cp_async_commit();

    const int k0 = k_first + step * mma::stage_k;
    const unsigned char* base = shared + (step % stages) * Layout::bytes;
    const int warp_row0 = warp_r * P.warp_rows() + g;  // + 8 n: the row of fragment n this lane decodes
    typename Fragments::Scales scales[NT];
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const std::uint8_t* f[parts];
      mma_detail::StageLoader<F, P>::fields_of(base, warp_row0 + 8 * n, f);
      scales[n] = Fragments::prepare(f, k0);
    }
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      std::uint32_t b[NT][2][2];
#pragma unroll
      for (int n = 0; n < NT; ++n) {
        const std::uint8_t* f[parts];
        mma_detail::StageLoader<F, P>::fields_of(base, warp_row0 + 8 * n, f);
        Fragments::pair(f, scales[n], p, t, b[n]);
      }
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        const int kc = Fragments::chunk(p, j);
        std::uint32_t a[MT][4];
#pragma unroll
        for (int m = 0; m < MT; ++m)
          mma::ldmatrix_x4(a[m], base + mma_detail::swizzled(a_row + m * 16, 2 * kc + a_half));
#pragma unroll
        for (int m = 0; m < MT; ++m)
#pragma unroll
          for (int n = 0; n < NT; ++n) mma::mma_f16(acc[m][n], a[m], b[n][j]);
      }
    }
  }
  mma::cp_async_wait<0>();
  // Split K: only the tile's last block to finish goes on, with the sum of all splits.
  if constexpr (splits)
    if (gridDim.z > 1 && !mma_detail::gather_splits<P.threads(), MT * NT * 4>(split, &acc[0][0][0])) return;

  // Epilogue: lane (g, t) holds rows 2t, 2t + 1 of tokens g and g + 8 of each fragment.
#pragma unroll
  for (int m = 0; m < MT; ++m) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int token = tok0 + warp_t * P.warp_tokens() + m * 16 + g + 8 * h;
      if (token >= tokens) continue;
#pragma unroll
      for (int n = 0; n < NT; ++n)
        mma_detail::store_pair(target, rows, token, tile.row0 + warp_r * P.warp_rows() + n * 8 + 2 * t,
                               acc[m][n][2 * h], acc[m][n][2 * h + 1]);
    }
  }
}

namespace mma_detail {

template <quant::QuantFormat F, int policy_index>
void launch(const Targets& targets, int total_tiles, const __half* x, int tokens, int cols, const DeviceInfo& device,
            cudaStream_t stream, const std::string& operation) {
  constexpr MmaPolicy P = mma_policies[policy_index];
  launch_tiles(matmul_mma_kernel<F, policy_index>, StageLayout<F, P>::shared_bytes, P.threads(), P.tokens_tile,
               targets, total_tiles, x, tokens, cols, device, stream, operation, SplitK{cols / mma::stage_k});
}

}  // namespace mma_detail

template <quant::QuantFormat F>
void matmul_mma_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                        const DeviceInfo& device, cudaStream_t stream, const MmaPolicy* forced) {
  const std::string operation = std::string("kernels::matmul_mma_streams<").append(F::name).append(">");
  mma_detail::Targets launch_targets{};
  const std::size_t rows_total = mma_detail::checked_targets<F>(operation, targets, cols, x, tokens, launch_targets);
  if (tokens == 0) return;
  const MmaPolicy policy =
      forced != nullptr ? *forced : select_mma_policy(tokens, rows_total, device.multiprocessors());
  visit_listed<mma_policies>(
      policy,
      [&](auto index) {
        constexpr int i = static_cast<int>(decltype(index)::value);
        const int tiles = mma_detail::count_tiles(launch_targets, mma_policies[i].rows_tile);
        mma_detail::launch<F, i>(launch_targets, tiles, x, static_cast<int>(tokens), static_cast<int>(cols), device,
                                 stream, operation);
      },
      [&] { require(false, operation, "the tile policy is one of mma_policies"); });
}

template <quant::QuantFormat F>
void matmul_mma_few(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                    const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream, int splits) {
  const std::string operation = std::string("kernels::matmul_mma_few<").append(F::name).append(">");
  mma_detail::Targets launch_targets{};
  (void)mma_detail::checked_targets<F>(operation, targets, cols, x, tokens, launch_targets);
  require(tokens <= matmul_mma_few_max_tokens, operation,
          "tokens (" + std::to_string(tokens) + ") at most " + std::to_string(matmul_mma_few_max_tokens));
  if (tokens == 0) return;
  constexpr int index = [] {
    int i = 0;
    while (!(mma_policies[i] == mma_policy_few)) ++i;
    return i;
  }();  // mma_policy_few's place in mma_policies
  constexpr MmaPolicy P = mma_policies[index];
  const int tiles = mma_detail::count_tiles(launch_targets, P.rows_tile);
  const int k_stages = static_cast<int>(cols) / mma::stage_k;
  if (splits <= 0) splits = mma_few_splits(tiles, k_stages, device.multiprocessors());
  require(splits <= k_stages, operation, "at most one split per stage of K");
  const int steps = (k_stages + splits - 1) / splits;
  splits = (k_stages + steps - 1) / steps;
  constexpr std::size_t values = P.threads() * P.fragments_tokens() * P.fragments_rows() * 4;
  if (splits > 1)
    require(
        workspace.partials != nullptr && workspace.arrivals != nullptr &&
            static_cast<std::size_t>(tiles) * static_cast<std::size_t>(splits) * values <= workspace.partial_floats &&
            static_cast<std::size_t>(tiles) <= workspace.arrival_count,
        operation,
        "the split workspace holds " + std::to_string(splits) + " partial tiles for each of " + std::to_string(tiles) +
            " tiles");
  const auto kernel = matmul_mma_kernel<F, index>;
  constexpr std::size_t shared_bytes = mma_detail::StageLayout<F, P>::shared_bytes;
  device.opt_in_shared_memory(reinterpret_cast<const void*>(kernel), shared_bytes, operation);
  const dim3 grid(static_cast<unsigned>(tiles), 1, static_cast<unsigned>(splits));
  kernel<<<grid, P.threads(), shared_bytes, stream>>>(
      launch_targets, x, static_cast<int>(tokens), static_cast<int>(cols),
      mma_detail::SplitK{steps, workspace.partials, workspace.arrivals});
  check_launch(operation);
}

}  // namespace pagoda::kernels

#endif  // __CUDACC__

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/matmul_mma_streams_format.cu.in.
#include <pagoda/kernels/generated/matmul_mma_streams_externs.hpp>
