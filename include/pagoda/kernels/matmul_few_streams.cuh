// kernels::matmul_few_streams<F>: the batched decode step's products (at most
// 16 tokens, one per sequence) on the tensor cores, with the weights streamed
// the way the decode GEMV streams them.
//   Y_i[t][r] = dot(W_i row r, X[t]) (+ residual_i[t][r])   for up to three
// matrices W_i of the same format and cols sharing X (q, k and v; gate and up).
// X: (tokens, cols) f16, 16-byte aligned; Y_i, residual_i: (tokens, rows_i) f32.
// kernels::matmul_few_streams_gated<F>: gate and up paired row for row in one
// launch, out[t][r] = act(dot(gate row r, X[t])) * dot(up row r, X[t]) in
// f16, the down projection's input. Each activation is computed once, in the
// epilogue of the block that owns both of its rows (half its warps stream gate
// rows r..r+63, half the same rows of up): no f32 gate and up written out, no
// activation launch, and bit for bit the two products and
// kernels::gated_activation under the same K splits.
//
// Why not matmul_mma_few (the prefill kernel's 16-token tile): it copies every
// weight stage into shared memory with cp.async, waits for it at a barrier,
// and decodes it from there with 2-byte loads; measured on the H100 it moves
// ~1 TB/s, a third of what the GEMV's register-direct loads reach. Here each
// lane loads whole 16-byte units straight into registers with the GEMV's own
// loads (StreamsDot<F>::load), one group of K ahead, and decodes them into B
// fragments where they land (StreamsFragments<F>): K is taken in the order of
// streams_fragment_order.hpp, so no shuffle is needed, and X is staged in
// shared memory once per block in that order (an A fragment is one 16-byte
// load). No barrier in the main loop.
//
// Work: a block of `warps` warps owns a row tile (each warp `fragments` 8-row
// fragments, every row of the tile read once) and a share of K (blockIdx.z):
// with few tiles, K is split so that every SM has blocks; each split leaves
// its partial tile in the workspace and the tile's last block adds them in
// split order (mma_detail::gather_splits), so results do not depend on timing.
// Bytes: the matrices once; X once per block from L2 (32 bytes a column, so
// at most 32 / (rows_tile x bytes a weight) of the weights: 22% at 256 rows
// of Q4_0); 16 KB of partials a split block. FLOPs: 2 x 16 x rows x cols,
// on mma.sync at a few percent of its peak.
//
// Host code compiled by g++ may include this header for the declarations; the
// instantiations are generated per format of quant::field_stream_formats from
// cuda/templates/matmul_few_streams_format.cu.in.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <type_traits>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/matmul_mma_streams.cuh>
#include <pagoda/kernels/matmul_target.hpp>
#include <pagoda/kernels/rope_kv_append.cuh>
#include <pagoda/kernels/tuning/matmul_few_streams.hpp>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/format.hpp>

namespace pagoda::kernels {

// Tokens matmul_few_streams takes in one launch (an m16 tile of the tensor cores).
inline constexpr std::size_t matmul_few_streams_max_tokens = 16;

// Each format's shape in the engine, one of few_streams_shapes, as measured
// (H100, pagoda-kernel-bench --tokens 16, 8B shapes; docs/notes/performance.md):
// Q4_0 and Q4_1 two fragments a warp, four groups deep (Q4_0: 885 GB/s on
// 4096 x 4096, 1,264 on 14336 x 4096, 1,287 on 4096 x 14336, against 632,
// 1,159, 1,126 one group deep with four fragments); the formats whose unit
// loads more registers (Q5_0, Q5_1, Q8_0, the K-quants: 24 to 52 bytes a
// unit) two fragments one group deep, which spill nothing (Q6_K: 978, 1,155,
// 1,229; four deep, it spills and falls to ~460).
template <class F>
constexpr FewStreamsShape few_streams_shape_for() {
  if constexpr (std::is_same_v<F, quant::Q4_0> || std::is_same_v<F, quant::Q4_1>)
    return {8, 2, 4, FewStreamsStaging::rows};
  else
    return {8, 2, 1, FewStreamsStaging::rows};
}

// Whether matmul_few_streams takes a matrix of `cols` columns: whole 32-weight units.
template <quant::QuantFormat F>
constexpr bool matmul_few_streams_takes(std::size_t cols) {
  if constexpr (!quant::HasFieldStreams<F>)
    return false;
  else
    return cols > 0 && cols % 32 == 0 && cols % F::block_elements == 0 && cols < (std::size_t{1} << 31);
}

// The workspace sizes (pointers null) for launches of at most `rows` rows in
// all on `device`, under any of few_streams_shapes; `forced_splits` > 0: room
// for launches forcing that many (tests, the bench).
[[nodiscard]] inline SplitWorkspace matmul_few_streams_workspace_size(std::size_t rows, const DeviceInfo& device,
                                                                      std::size_t forced_splits = 0) {
  SplitWorkspace most{};
  for (const FewStreamsShape& shape : few_streams_shapes) {
    const auto rows_tile = static_cast<std::size_t>(shape.rows_tile());
    // A tile more for each target after the first, at most.
    const std::size_t tiles = (rows + rows_tile - 1) / rows_tile + (matmul_mma_max_targets - 1);
    const std::size_t blocks = few_streams_split_blocks(tiles, device.multiprocessors(), forced_splits);
    most.partial_floats =
        std::max(most.partial_floats, blocks * static_cast<std::size_t>(shape.threads() * shape.values()));
    most.arrival_count = std::max(most.arrival_count, tiles);
  }
  return most;
}

// Asynchronous on `stream`. `splits` > 0 forces a split count of K (tests,
// the bench); 0: few_streams_splits. Launched as a programmatic dependent
// launch where `device` says so (it fetches its first weights before waiting
// for X). Throws pagoda::Error on a violated precondition (naming the format).
template <quant::QuantFormat F>
void matmul_few_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                        const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream,
                        int splits = 0);
// The same under `shape`, one of few_streams_shapes (tests, the bench).
template <quant::QuantFormat F>
void matmul_few_streams_with(FewStreamsShape shape, std::span<const MatmulTarget> targets, std::size_t cols,
                             const __half* x, std::size_t tokens, const SplitWorkspace& workspace,
                             const DeviceInfo& device, cudaStream_t stream, int splits = 0);
// out (tokens, rows) f16 = act(X gate^T) * (X up^T): gate and up (rows, cols)
// of format F, 16-byte aligned; out 4-byte aligned, apart from X. Splits as
// matmul_few_streams (the workspace holds ceil(rows / 64) tiles' partials).
template <quant::QuantFormat F>
void matmul_few_streams_gated(const std::byte* gate, const std::byte* up, std::size_t rows, std::size_t cols,
                              const __half* x, std::size_t tokens, model::FfnActivation activation, __half* out,
                              const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream,
                              int splits = 0);
// The batched step's q, k and v (up to three targets, their roles in
// `append`, no residuals) with RoPE and the KV append in the epilogue: what
// matmul_few_streams then rope_kv_store over the tokens leave in the query
// targets' y and the caches, bit for bit (the key and value targets' y are
// not written). Interleaved RoPE (a lane's two rows are one pair); every
// target's rows whole heads. Splits and workspace as matmul_few_streams.
template <quant::QuantFormat F>
void matmul_few_streams_rope_kv(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x,
                                std::size_t tokens, const RopeKvAppend& append, const SplitWorkspace& workspace,
                                const DeviceInfo& device, cudaStream_t stream, int splits = 0);

}  // namespace pagoda::kernels

#if defined(__CUDACC__)

#include <algorithm>
#include <cstdint>
#include <string>

#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/cuda_check.hpp>
#include <pagoda/kernels/few_streams_epilogues.cuh>
#include <pagoda/kernels/few_streams_stage_x.cuh>
#include <pagoda/kernels/mma_stage.cuh>
#include <pagoda/kernels/mma_sync.cuh>
#include <pagoda/kernels/programmatic_launch.hpp>
#include <pagoda/kernels/streams_dot.cuh>
#include <pagoda/kernels/streams_fragment_order.hpp>
#include <pagoda/kernels/streams_fragments.cuh>

namespace pagoda::kernels {

template <quant::QuantFormat F, int shape_index, few_streams::Output output>
__global__ void __launch_bounds__(few_streams_shapes[shape_index].threads(), 2)
    matmul_few_streams_kernel(mma_detail::Targets targets, const __half* __restrict__ x, int tokens, int cols,
                              mma_detail::SplitK split, few_streams::Gated gated, RopeKvAppend rope_kv) {
  constexpr FewStreamsShape shape = few_streams_shapes[shape_index];
  constexpr int NT = shape.fragments;
  constexpr int D = shape.depth;
  constexpr bool paired = output == few_streams::Output::gated;
  constexpr int pair_warps = shape.warps / 2;  // paired: warps [0, pair_warps) stream gate rows, the rest up's
  static_assert(!paired || shape.warps % 2 == 0, "gate and up take half the warps each");
  static_assert(few_streams_staged_groups % D == 0, "a step's groups are staged together");
  using Dot = StreamsDot<F>;
  using Raw = typename Dot::Raw;
  using Fragments = StreamsFragments<F>;
  static_assert(Dot::units_per_block * fragment_unit_elements == F::block_elements,
                "a StreamsDot unit is 32 weights of a row");

  extern __shared__ uint4 staged[];  // [group][chunk][lane]
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int g = lane / 4;
  const int t = lane % 4;

  // This warp's matrix and first row: a tile of one target, or (paired) the
  // same half tile of rows of gate and of up.
  const mma_detail::TileTarget tile =
      paired ? mma_detail::TileTarget{targets.target[0], static_cast<int>(blockIdx.x) * (shape.rows_tile() / 2)}
             : mma_detail::tile_target(targets, static_cast<int>(blockIdx.x), shape.rows_tile());
  const MatmulTarget& target = tile.target;
  const std::byte* const weights = paired && warp >= pair_warps ? targets.target[1].weights : target.weights;
  const int rows = static_cast<int>(target.rows);
  const std::size_t units = static_cast<std::size_t>(cols) / fragment_unit_elements;
  const int all_groups = static_cast<int>((units + fragment_units_per_group - 1) / fragment_units_per_group);
  const int group0 = static_cast<int>(blockIdx.z) * split.steps;
  const int groups = min(all_groups, group0 + split.steps) - group0;
  const std::size_t first_unit = static_cast<std::size_t>(group0) * fragment_units_per_group;
  const int warp_row0 = tile.row0 + (paired ? warp % pair_warps : warp) * NT * 8;

  // This lane's unit of its row in each fragment, for the `D` groups from
  // `group` (a row past the matrix reads the last one again and is never
  // stored); one step's loads cover 64 x D contiguous bytes of each row. The
  // rows' stream addresses are recomputed at each load: kept, they cost NT x
  // streams 64-bit registers.
  const auto load = [&](int group, Raw (&raw)[D][NT]) {
#pragma unroll
    for (int n = 0; n < NT; ++n) {
      const int row = min(warp_row0 + 8 * n + g, rows - 1);
      const quant::FieldStreamRow<F> source = quant::field_stream_row<F>(
          weights, static_cast<std::size_t>(rows), static_cast<std::size_t>(cols), static_cast<std::size_t>(row));
#pragma unroll
      for (int d = 0; d < D; ++d) {
        const std::size_t unit = first_unit + static_cast<std::size_t>(group + d) * fragment_units_per_group +
                                 static_cast<std::size_t>(t);
        raw[d][n] = group + d < groups && unit < units ? Dot::load(source, unit) : Raw{};
      }
    }
  };

  pdl_trigger();  // the next kernel may be scheduled; it waits for this one's results itself
  Raw current[D][NT];
  load(0, current);  // weights in flight while the kernel before ends
  pdl_wait();        // X is its output

  float acc[NT][4];
#pragma unroll
  for (int n = 0; n < NT; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) acc[n][e] = 0.0f;

  for (int group = 0; group < groups; group += D) {
    const int in_stage = group % few_streams_staged_groups;
    if (in_stage == 0) {  // X of the next (up to) 8 groups
      if (group > 0) __syncthreads();  // every warp is done with the X staged before
      const std::size_t stage_unit = first_unit + static_cast<std::size_t>(group) * fragment_units_per_group;
      const int stage_groups = min(few_streams_staged_groups, groups - group);
      if constexpr (shape.staging == FewStreamsStaging::rows)
        few_streams::stage_x_rows<F, shape.threads()>(staged, x, tokens, cols, stage_unit, stage_groups);
      else
        few_streams::stage_x<F, shape.threads()>(staged, x, tokens, cols, units, stage_unit, stage_groups);
      __syncthreads();
    }
    Raw next[D][NT];
    if (group + D < groups) load(group + D, next);
#pragma unroll
    for (int d = 0; d < D; ++d) {
      if (group + d >= groups) break;
      const std::size_t unit = first_unit + static_cast<std::size_t>(group + d) * fragment_units_per_group +
                               static_cast<std::size_t>(t);
      typename Fragments::Scales scales[NT];
#pragma unroll
      for (int n = 0; n < NT; ++n) scales[n] = Fragments::prepare(current[d][n], unit);
#pragma unroll
      for (int c = 0; c < fragment_chunks_per_group; ++c) {
        const uint4 a4 = staged[((in_stage + d) * fragment_chunks_per_group + c) * 32 + lane];
        const std::uint32_t a[4] = {a4.x, a4.y, a4.z, a4.w};
#pragma unroll
        for (int n = 0; n < NT; ++n) {
          std::uint32_t b[2];
          Fragments::chunk(current[d][n], scales[n], unit, c, b);
          mma::mma_f16(acc[n], a, b);
        }
      }
    }
#pragma unroll
    for (int d = 0; d < D; ++d)
#pragma unroll
      for (int n = 0; n < NT; ++n) current[d][n] = next[d][n];
  }

  if (gridDim.z > 1 && !mma_detail::gather_splits<shape.threads(), shape.values()>(split, &acc[0][0])) return;

  if constexpr (paired) {
    few_streams::store_gated<shape>(staged, acc, gated, tokens, rows, warp_row0);
  } else if constexpr (output == few_streams::Output::rope_kv) {
    const QkvRole role = tile.which == 0 ? rope_kv.roles[0] : (tile.which == 1 ? rope_kv.roles[1] : rope_kv.roles[2]);
    few_streams::store_rope_kv<shape>(target, role, acc, rope_kv, tokens, rows, warp_row0);
  } else {
    // Lane (g, t) holds rows 2t, 2t + 1 of each fragment for tokens g and g + 8.
#pragma unroll
    for (int n = 0; n < NT; ++n)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int token = g + 8 * h;
        if (token < tokens)
          mma_detail::store_pair(target, rows, token, warp_row0 + 8 * n + 2 * t, acc[n][2 * h], acc[n][2 * h + 1]);
      }
  }
}

namespace few_streams {

// few_streams_shape_for<F>()'s place in few_streams_shapes: the one shape
// the gated and RoPE epilogues are instantiated for.
template <class F>
constexpr int engine_shape_index() {
  int i = 0;
  while (!(few_streams_shapes[i] == few_streams_shape_for<F>())) ++i;
  return i;
}

// Checks shared by every entry: cols, tokens and x.
template <quant::QuantFormat F>
void require_input(const std::string& operation, std::size_t cols, const __half* x, std::size_t tokens) {
  require(matmul_few_streams_takes<F>(cols), operation,
          "cols (" + std::to_string(cols) + ") is a positive multiple of 32 and of the block size, below 2^31");
  require(tokens <= matmul_few_streams_max_tokens, operation,
          "tokens (" + std::to_string(tokens) + ") at most " + std::to_string(matmul_few_streams_max_tokens));
  require(x != nullptr && reinterpret_cast<std::uintptr_t>(x) % 16 == 0, operation, "x is 16-byte aligned");
}

// Launches the kernel of shape `shape_index` writing `output` over `tiles`
// row tiles, K split `splits` ways (0: few_streams_splits), after checking
// the workspace holds the splits' partial tiles.
template <quant::QuantFormat F, int shape_index, Output output>
void launch(const mma_detail::Targets& targets, int tiles, std::size_t cols, const __half* x, std::size_t tokens,
            const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream, int splits, Gated gated,
            const RopeKvAppend& rope_kv, const std::string& operation) {
  constexpr FewStreamsShape shape = few_streams_shapes[shape_index];
  const int groups = static_cast<int>((cols / fragment_unit_elements + fragment_units_per_group - 1) /
                                      fragment_units_per_group);
  if (splits <= 0) splits = few_streams_splits(tiles, groups, device.multiprocessors());
  require(splits <= groups, operation,
          "at most one split per group of " + std::to_string(few_streams_group_columns) + " columns");
  const int each = (groups + splits - 1) / splits;
  splits = (groups + each - 1) / each;
  const auto values = static_cast<std::size_t>(shape.threads() * shape.values());
  if (splits > 1)
    require(workspace.partials != nullptr && workspace.arrivals != nullptr &&
                static_cast<std::size_t>(tiles) * static_cast<std::size_t>(splits) * values <=
                    workspace.partial_floats &&
                static_cast<std::size_t>(tiles) <= workspace.arrival_count,
            operation,
            "the split workspace holds " + std::to_string(splits) + " partial tiles for each of " +
                std::to_string(tiles) + " tiles");
  std::size_t shared_bytes = static_cast<std::size_t>(std::min(each, few_streams_staged_groups)) *
                             fragment_chunks_per_group * 32 * sizeof(uint4);
  if constexpr (output == Output::gated) shared_bytes = std::max(shared_bytes, gated_epilogue_bytes<shape>);
  launch_dependent(matmul_few_streams_kernel<F, shape_index, output>,
                   dim3(static_cast<unsigned>(tiles), 1, static_cast<unsigned>(splits)),
                   static_cast<unsigned>(shape.threads()), shared_bytes, stream, device.programmatic_launch(),
                   operation.c_str(), targets, x, static_cast<int>(tokens), static_cast<int>(cols),
                   mma_detail::SplitK{each, workspace.partials, workspace.arrivals}, gated, rope_kv);
}

}  // namespace few_streams

template <quant::QuantFormat F>
void matmul_few_streams_with(FewStreamsShape shape, std::span<const MatmulTarget> targets, std::size_t cols,
                             const __half* x, std::size_t tokens, const SplitWorkspace& workspace,
                             const DeviceInfo& device, cudaStream_t stream, int splits) {
  const std::string operation = std::string("kernels::matmul_few_streams<").append(F::name).append(">");
  require(!targets.empty() && targets.size() <= matmul_mma_max_targets, operation, "one to three targets");
  few_streams::require_input<F>(operation, cols, x, tokens);
  mma_detail::Targets launch_targets{};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const MatmulTarget& target = targets[i];
    require(target.rows > 0 && target.rows < (std::size_t{1} << 31) && target.weights != nullptr &&
                target.y != nullptr,
            operation, "every target has rows (below 2^31), weights and y");
    require(reinterpret_cast<std::uintptr_t>(target.weights) % 16 == 0, operation, "the weights are 16-byte aligned");
    launch_targets.target[i] = target;
  }
  launch_targets.count = static_cast<int>(targets.size());
  if (tokens == 0) return;
  const int tiles = mma_detail::count_tiles(launch_targets, shape.rows_tile());
  visit_listed<few_streams_shapes>(
      shape,
      [&](auto index) {
        few_streams::launch<F, static_cast<int>(decltype(index)::value), few_streams::Output::products>(
            launch_targets, tiles, cols, x, tokens, workspace, device, stream, splits, few_streams::Gated{},
            RopeKvAppend{}, operation);
      },
      [&] { require(false, operation, "the shape is one of few_streams_shapes"); });
}

template <quant::QuantFormat F>
void matmul_few_streams_gated(const std::byte* gate, const std::byte* up, std::size_t rows, std::size_t cols,
                              const __half* x, std::size_t tokens, model::FfnActivation activation, __half* out,
                              const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream,
                              int splits) {
  const std::string operation = std::string("kernels::matmul_few_streams_gated<").append(F::name).append(">");
  few_streams::require_input<F>(operation, cols, x, tokens);
  require(rows > 0 && rows < (std::size_t{1} << 31) && gate != nullptr && up != nullptr && out != nullptr, operation,
          "rows (below 2^31), gate, up and out");
  require(reinterpret_cast<std::uintptr_t>(gate) % 16 == 0 && reinterpret_cast<std::uintptr_t>(up) % 16 == 0,
          operation, "the weights are 16-byte aligned");
  require(reinterpret_cast<std::uintptr_t>(out) % 4 == 0, operation, "out is 4-byte aligned");
  require(activation == model::FfnActivation::silu || activation == model::FfnActivation::gelu_tanh, operation,
          "the activation is SiLU or tanh-GELU");
  if (tokens == 0) return;
  mma_detail::Targets pair{};
  pair.target[0] = MatmulTarget{gate, rows, nullptr, nullptr};
  pair.target[1] = MatmulTarget{up, rows, nullptr, nullptr};
  pair.count = 2;
  constexpr int index = few_streams::engine_shape_index<F>();
  constexpr int half_tile = few_streams_shapes[index].rows_tile() / 2;
  const int tiles = static_cast<int>((rows + half_tile - 1) / half_tile);
  few_streams::launch<F, index, few_streams::Output::gated>(pair, tiles, cols, x, tokens, workspace, device, stream,
                                                           splits, few_streams::Gated{out, activation}, RopeKvAppend{},
                                                           operation);
}

template <quant::QuantFormat F>
void matmul_few_streams_rope_kv(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x,
                                std::size_t tokens, const RopeKvAppend& append, const SplitWorkspace& workspace,
                                const DeviceInfo& device, cudaStream_t stream, int splits) {
  const std::string operation = std::string("kernels::matmul_few_streams_rope_kv<").append(F::name).append(">");
  require(!targets.empty() && targets.size() <= matmul_mma_max_targets, operation, "one to three targets");
  few_streams::require_input<F>(operation, cols, x, tokens);
  require_valid(append.rope, operation);
  require(append.rope.layout == model::RopeLayout::interleaved, operation,
          "the RoPE is interleaved (a lane's two rows are one pair)");
  require(append.rope.head_dim % 2 == 0 && append.k_cache != nullptr && append.v_cache != nullptr &&
              append.positions != nullptr,
          operation, "head_dim is even; the caches and the positions are not null");
  mma_detail::Targets launch_targets{};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const MatmulTarget& target = targets[i];
    require(target.rows > 0 && target.rows < (std::size_t{1} << 31) && target.weights != nullptr &&
                target.rows % append.rope.head_dim == 0 && target.residual == nullptr,
            operation, "every target has rows (below 2^31, whole heads) and weights, and no residual");
    require(append.roles[i] != QkvRole::query || target.y != nullptr, operation, "a query target has y");
    require(reinterpret_cast<std::uintptr_t>(target.weights) % 16 == 0, operation, "the weights are 16-byte aligned");
    launch_targets.target[i] = target;
  }
  launch_targets.count = static_cast<int>(targets.size());
  if (tokens == 0) return;
  constexpr int index = few_streams::engine_shape_index<F>();
  const int tiles = mma_detail::count_tiles(launch_targets, few_streams_shapes[index].rows_tile());
  few_streams::launch<F, index, few_streams::Output::rope_kv>(launch_targets, tiles, cols, x, tokens, workspace,
                                                             device, stream, splits, few_streams::Gated{}, append,
                                                             operation);
}

template <quant::QuantFormat F>
void matmul_few_streams(std::span<const MatmulTarget> targets, std::size_t cols, const __half* x, std::size_t tokens,
                        const SplitWorkspace& workspace, const DeviceInfo& device, cudaStream_t stream, int splits) {
  matmul_few_streams_with<F>(few_streams_shape_for<F>(), targets, cols, x, tokens, workspace, device, stream, splits);
}


}  // namespace pagoda::kernels

#endif  // __CUDACC__

// Instantiated once each in pagoda_cuda, one unit per format of
// quant::field_stream_formats: cuda/GenerateFormatUnits.cmake generates the units and
// these extern template declarations from cuda/templates/matmul_few_streams_format.cu.in.
#include <pagoda/kernels/generated/matmul_few_streams_externs.hpp>
