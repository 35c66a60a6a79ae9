// kernels::attention_decode: one query token (q: n_heads * head_dim f32)
// attends to rows 0..*position (inclusive) of a layer's f16 KV cache, or only
// to the last shape.window of them on a sliding-window layer
// ((max_context, n_kv_heads * head_dim) each), grouped-query: query head h
// reads KV head h / (n_heads / n_kv_heads); softmax(scale * q.k) weighs v.
// Split-K ("flash decoding"): split blocks each walk a stretch of the sequence
// in shared-memory tiles with a running max and sum, leaving (max, sum,
// unnormalised output) per head in the workspace; a second kernel merges the
// live splits. *position is read on the device and the grid depends on the
// shape only, so one captured launch serves every decode step.
// Bytes moved: 4 * live * kv_dim of cache (K and V once per head group of up
// to 8 query heads: GQA heads share their KV reads) + the workspace, tiny.
// Bound: HBM bandwidth at long contexts, launch latency at short ones.
//
// Host code (g++) includes this header for the launchers; the kernels are
// compiled in cuda/kernels/attention_decode.cu.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/kernels/device_info.hpp>
#include <pagoda/kernels/programmatic_launch.hpp>
#include <pagoda/kernels/tuning/attention_decode.hpp>

#if defined(__CUDACC__)
#include <cfloat>

#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>

#include <pagoda/kernels/mma_sync.cuh>
#include <pagoda/kernels/step_stamps.cuh>
#include <pagoda/kernels/stored.cuh>
#endif

namespace pagoda::kernels {

// Bytes of workspace attention_decode needs for `shape` (scale aside) on
// `device` (its compute capability picks the split), for `batch` queries;
// target_blocks as attention_decode's.
std::size_t attention_decode_workspace_bytes(const AttentionShape& shape, const DeviceInfo& device,
                                             std::uint32_t batch = 1, std::uint32_t target_blocks = 0);

// out: n_heads * head_dim f32. Preconditions (pagoda::Error otherwise):
// n_heads a multiple of n_kv_heads; head_dim a multiple of 8, <= 256; q and
// the caches 16-byte aligned; workspace of attention_decode_workspace_bytes.
// 0 <= *position < max_context is the caller's to ensure (the kernels clamp
// it into range rather than read outside the cache). target_blocks: 0 for the
// chosen policy's grid; else that many blocks aimed at in its place (the
// grid's size is the one launch choice that needs no other instantiation:
// benchmarks sweep it), with a workspace of that target's size.
void attention_decode(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                      const AttentionShape& shape, const std::int32_t* position, void* workspace,
                      const DeviceInfo& device, cudaStream_t stream, std::uint32_t target_blocks = 0);

// The same in one launch: a block per query head walks every visible row
// itself (tile by tile, one DRAM round trip each) and writes out; no
// workspace and no merge launch. For short contexts, where the split
// kernel's blocks are mostly idle and the merge is a launch of pure latency:
// the engine takes it while the visible rows are at most
// tuning::attention_direct_rows(head_dim). Any length is right, only slower as it
// grows. The same preconditions but the workspace's.
void attention_decode_direct(const float* q, const __half* k_cache, const __half* v_cache, float* out,
                             const AttentionShape& shape, const std::int32_t* position, const DeviceInfo& device,
                             cudaStream_t stream);

// The same for a batched decode step: `batch` query tokens, each of its own
// sequence, in one pair of launches (a grid layer per token). Token b's
// query is row b of q ((batch, n_heads * head_dim)), its output row b of
// out, its position positions[b]; it reads the cache of sequence
// sequences[b], whose rows start at row sequences[b] * max_context of
// k_cache and v_cache (the sequences' caches back to back). The workspace:
// attention_decode_workspace_bytes(shape, device, batch). Out: float, or
// __half (each value rounded to nearest, ties to even, as kernels::to_half
// rounds): the batched step's output projection reads it as its input, with
// no f32 copy to convert. Both are instantiated in attention_decode.cu.
template <class Out>
void attention_decode_batch(const float* q, const __half* k_cache, const __half* v_cache, Out* out,
                            const AttentionShape& shape, std::uint32_t batch, const std::int32_t* positions,
                            const std::int32_t* sequences, void* workspace, const DeviceInfo& device,
                            cudaStream_t stream);
extern template void attention_decode_batch<float>(const float*, const __half*, const __half*, float*,
                                                   const AttentionShape&, std::uint32_t, const std::int32_t*,
                                                   const std::int32_t*, void*, const DeviceInfo&, cudaStream_t);
extern template void attention_decode_batch<__half>(const float*, const __half*, const __half*, __half*,
                                                    const AttentionShape&, std::uint32_t, const std::int32_t*,
                                                    const std::int32_t*, void*, const DeviceInfo&, cudaStream_t);

#if defined(__CUDACC__)

namespace attention {

// Where the split kernel leaves its results; (batch, splits, n_heads[, head_dim]) each.
struct Workspace {
  float* output;  // unnormalised sum_p exp(s_p - max) v_p
  float* max;
  float* sum;     // sum_p exp(s_p - max)

  // Query token b's part, of `slots` = splits * n_heads (split, head) pairs.
  __device__ __forceinline__ Workspace of_token(std::uint32_t b, std::size_t slots, std::uint32_t head_dim) const {
    return {output + b * slots * head_dim, max + b * slots, sum + b * slots};
  }
};

// Which query token of a batch a block serves (blockIdx.z), and where that
// token's inputs and outputs are: a single decode step is the batch of one
// whose sequence is 0.
struct Batch {
  const std::int32_t* sequences;  // per token; null: every token reads the cache at k_cache / v_cache
  std::size_t sequence_stride;    // halves between two sequences' caches: max_context * kv_dim
};

__device__ __forceinline__ std::uint32_t live_length(const std::int32_t* position, std::uint32_t max_context) {
  const std::int32_t p = *position;
  const std::uint32_t live = p < 0 ? 1u : static_cast<std::uint32_t>(p) + 1u;
  return live < max_context ? live : max_context;
}
// The visible rows: [first, first + count). A sliding window drops the rows
// more than `window` behind the query; the splits share what is left.
struct VisibleRows {
  std::uint32_t first, count;
};
__device__ __forceinline__ VisibleRows visible_rows(const std::int32_t* position, std::uint32_t max_context,
                                                    std::uint32_t window) {
  const std::uint32_t live = live_length(position, max_context);
  const std::uint32_t first = window != 0 && live > window ? live - window : 0u;
  return {first, live - first};
}
__device__ __forceinline__ std::uint32_t chunk_length(std::uint32_t live, std::uint32_t splits, int min_split) {
  const std::uint32_t even = (live + splits - 1) / splits;
  return even > static_cast<std::uint32_t>(min_split) ? even : static_cast<std::uint32_t>(min_split);
}

// The rows [begin, end) that split `split` walks; empty past the visible rows.
struct SplitRows {
  std::uint32_t begin, end;
};
__device__ __forceinline__ SplitRows split_rows(const std::int32_t* position, const AttentionShape& shape,
                                                std::uint32_t splits, int min_split, std::uint32_t split) {
  const VisibleRows rows = visible_rows(position, shape.max_context, shape.window);
  const std::uint32_t chunk = chunk_length(rows.count, splits, min_split);
  if (split * chunk >= rows.count) return {0, 0};
  const std::uint32_t begin = rows.first + split * chunk;
  const std::uint32_t last = rows.first + rows.count;
  return {begin, last - begin < chunk ? last : begin + chunk};
}

struct Max {
  __device__ __forceinline__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

__device__ __forceinline__ void load8(const __half* p, float (&v)[8]) {
  const uint4 raw = *reinterpret_cast<const uint4*>(p);
  const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __half22float2(h[i]);
    v[2 * i] = f.x;
    v[2 * i + 1] = f.y;
  }
}

}  // namespace attention

// Block = (split, KV head * groups + group). A row of K (or V) is read by
// Lanes lanes, 8 dims (16 bytes) each: Lanes = 8, 16, 32 for head_dim up to
// 64, 128, 256. The block's K and V rows come through shared memory a tile
// at a time, every row of the tile copied at once (cp.async): one DRAM round
// trip a tile. (Lane groups loading their rows straight from global memory
// waited one round trip per Threads / Lanes rows: ~30 us at depth 4096 on the
// 8B shape, 700 GB/s of KV.)
//
// attention_decode_split_block is one block's work: split `split` of column
// `column` (KV head * head groups + group), for the split kernel (one block
// each) and the persistent decode step (an item each). Every thread of the
// block calls it; a caller that runs it again first synchronises the block
// (the shared memory is reused). The K/V tiles and partial sums take
// attention_staging_bytes of shared memory: a static array of the block's
// own (the split kernel), or, External, the caller's 16-aligned `external`
// (the persistent kernel's dynamic buffer, which its products use otherwise;
// three head sizes' static arrays would not fit one kernel).
template <int Threads, int Lanes, int Tile, int Heads>
inline constexpr int attention_staging_bytes = [] {
  constexpr int tile_rows = Tile < 1024 / Lanes ? Tile : 1024 / Lanes;
  constexpr int tiles = 2 * tile_rows * 8 * Lanes * 2;               // K and V tiles, f16
  constexpr int partials = Threads / Lanes * Heads * 8 * Lanes * 4;  // per lane group and head, f32
  return tiles > partials ? tiles : partials;
}();

// Direct: the block is the only split (splits 1, split 0) and writes its
// heads' normalised output to direct_out itself (out = sum / l: what the
// merge of one split gives), not the workspace (attention_decode_direct).
template <int Threads, int Lanes, int Tile, int Heads, int MinSplit, bool External = false, bool Direct = false>
__device__ __forceinline__ void attention_decode_split_block(
    unsigned char* external,  // External: the caller's staging; else null and the block's own
    const float* q,           // (n_heads, head_dim)
    const __half* k_cache, const __half* v_cache, const AttentionShape& shape, std::uint32_t splits,
    const std::int32_t* position, const attention::Workspace& ws, std::uint32_t split, std::uint32_t column,
    float* direct_out = nullptr) {
  static_assert(Threads % 32 == 0 && 32 % Lanes == 0 && Lanes >= 8, "lane groups tile a warp");
  constexpr int groups = Threads / Lanes;  // K/V rows in flight per block
  constexpr int warps = Threads / 32;
  const auto [begin, end] = attention::split_rows(position, shape, splits, MinSplit, split);
  if (begin == end) return;  // past the visible rows: nothing to do

  const std::uint32_t per_kv = shape.n_heads / shape.n_kv_heads;
  const std::uint32_t head_groups = (per_kv + Heads - 1) / Heads;
  const std::uint32_t kv_head = column / head_groups;
  const std::uint32_t first_head = kv_head * per_kv + (column % head_groups) * Heads;
  const int heads = static_cast<int>(min(per_kv - (column % head_groups) * Heads, std::uint32_t{Heads}));
  const std::uint32_t kv_dim = shape.n_kv_heads * shape.head_dim;

  const int group = static_cast<int>(threadIdx.x) / Lanes;
  const int d0 = 8 * (static_cast<int>(threadIdx.x) % Lanes);
  const bool has_dims = d0 < static_cast<int>(shape.head_dim);

  float qr[Heads][8];   // this lane's 8 dims of each query head
  float acc[Heads][8];  // unnormalised output, this lane's positions and dims
#pragma unroll
  for (int g = 0; g < Heads; ++g)
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const bool use = has_dims && g < heads;
      qr[g][j] = use ? q[(first_head + g) * shape.head_dim + d0 + j] : 0.0f;
      acc[g][j] = 0.0f;
    }

  // K and V of a tile (16 KB each), reused after the loop for the partial sums.
  constexpr int row_halves = 8 * Lanes;
  constexpr int TileRows = Tile < 1024 / Lanes ? Tile : 1024 / Lanes;
  constexpr int tiles_bytes = 2 * TileRows * row_halves * 2;
  __shared__ __align__(16) unsigned char own[External ? 16 : attention_staging_bytes<Threads, Lanes, Tile, Heads>];
  unsigned char* const staging = External ? external : own;
  auto* const k_tile = reinterpret_cast<__half(*)[row_halves]>(staging);
  auto* const v_tile = reinterpret_cast<__half(*)[row_halves]>(staging + tiles_bytes / 2);
  __shared__ float scores[Heads][TileRows];  // scores, then exp(score - running max)
  __shared__ float run_max[Heads], run_sum[Heads], rescale[Heads];
  using WarpReduce = cub::WarpReduce<float>;
  __shared__ typename WarpReduce::TempStorage reduce_storage[warps];
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  if (threadIdx.x < Heads) run_max[threadIdx.x] = -FLT_MAX, run_sum[threadIdx.x] = 0.0f;

  const int chunks = static_cast<int>(shape.head_dim) / 8;  // 16-byte pieces of a row
  const std::size_t head_start = std::size_t{kv_head} * shape.head_dim;
  for (std::uint32_t tile = begin; tile < end; tile += TileRows) {
    const int n = static_cast<int>(end - tile < TileRows ? end - tile : TileRows);
    // The tile's K rows, then its V rows (two groups: scores need only K).
    for (int i = static_cast<int>(threadIdx.x); i < n * chunks; i += Threads)
      mma::cp_async16(&k_tile[i / chunks][8 * (i % chunks)],
                      k_cache + std::size_t{tile + i / chunks} * kv_dim + head_start + 8 * (i % chunks), true);
    mma::cp_async_commit();
    for (int i = static_cast<int>(threadIdx.x); i < n * chunks; i += Threads)
      mma::cp_async16(&v_tile[i / chunks][8 * (i % chunks)],
                      v_cache + std::size_t{tile + i / chunks} * kv_dim + head_start + 8 * (i % chunks), true);
    mma::cp_async_commit();
    mma::cp_async_wait<1>();
    __syncthreads();  // K landed for every thread
    // Scores: each lane group takes a row of K; the block-uniform loop keeps
    // every lane of a warp in the shuffles.
    for (int base = 0; base < n; base += groups) {
      const int p = base + group;
      float part[Heads];
      float k[8] = {};
      if (p < n && has_dims) attention::load8(&k_tile[p][d0], k);
#pragma unroll
      for (int g = 0; g < Heads; ++g) {
        part[g] = 0.0f;
#pragma unroll
        for (int j = 0; j < 8; ++j) part[g] = fmaf(qr[g][j], k[j], part[g]);
#pragma unroll
        for (int offset = Lanes / 2; offset > 0; offset /= 2)
          part[g] += __shfl_xor_sync(0xffffffffu, part[g], offset);
      }
      if (p < n && d0 == 0)
#pragma unroll
        for (int g = 0; g < Heads; ++g) scores[g][p] = part[g] * shape.scale;
    }
    __syncthreads();
    // Running softmax: a warp per head.
    for (int g = warp; g < heads; g += warps) {
      float tile_max = -FLT_MAX;
      for (int p = lane; p < n; p += 32) tile_max = fmaxf(tile_max, scores[g][p]);
      tile_max = WarpReduce(reduce_storage[warp]).Reduce(tile_max, attention::Max{});
      __syncwarp();
      const float new_max = fmaxf(run_max[g], __shfl_sync(0xffffffffu, tile_max, 0));
      float tile_sum = 0.0f;
      for (int p = lane; p < n; p += 32) {
        const float e = expf(scores[g][p] - new_max);
        scores[g][p] = e;
        tile_sum += e;
      }
      tile_sum = WarpReduce(reduce_storage[warp]).Sum(tile_sum);
      __syncwarp();
      if (lane == 0) {
        const float alpha = expf(run_max[g] - new_max);
        rescale[g] = alpha;
        run_sum[g] = fmaf(run_sum[g], alpha, tile_sum);
        run_max[g] = new_max;
      }
    }
    mma::cp_async_wait<0>();
    __syncthreads();  // V landed, and the softmax's scale factors are written
    // Weighted values: each lane group takes rows of V.
#pragma unroll
    for (int g = 0; g < Heads; ++g)
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[g][j] *= g < heads ? rescale[g] : 0.0f;
    if (has_dims)
      for (int p = group; p < n; p += groups) {
        float v[8];
        attention::load8(&v_tile[p][d0], v);
#pragma unroll
        for (int g = 0; g < Heads; ++g) {
          const float w = g < heads ? scores[g][p] : 0.0f;
#pragma unroll
          for (int j = 0; j < 8; ++j) acc[g][j] = fmaf(w, v[j], acc[g][j]);
        }
      }
    __syncthreads();  // scores and the K and V tiles are rewritten by the next tile
  }

  // Lane groups hold partial sums over different positions: add them up.
  auto* const partial = reinterpret_cast<float(*)[Heads][row_halves]>(staging);
  if (has_dims)
#pragma unroll
    for (int g = 0; g < Heads; ++g)
#pragma unroll
      for (int j = 0; j < 8; ++j) partial[group][g][d0 + j] = acc[g][j];
  __syncthreads();
  const std::size_t slot = std::size_t{split} * shape.n_heads + first_head;  // (split, head)
  for (int i = static_cast<int>(threadIdx.x); i < heads * static_cast<int>(shape.head_dim); i += Threads) {
    const int g = i / static_cast<int>(shape.head_dim);
    const int d = i % static_cast<int>(shape.head_dim);
    float sum = 0.0f;
    for (int r = 0; r < groups; ++r) sum += partial[r][g][d];
    if constexpr (Direct)
      direct_out[std::size_t{first_head + static_cast<std::uint32_t>(g)} * shape.head_dim + d] = sum / run_sum[g];
    else
      ws.output[(slot + g) * shape.head_dim + d] = sum;
  }
  if (!Direct && static_cast<int>(threadIdx.x) < heads) {
    ws.max[slot + threadIdx.x] = run_max[threadIdx.x];
    ws.sum[slot + threadIdx.x] = run_sum[threadIdx.x];
  }
}

template <int Threads, int Lanes, int Tile, int Heads, int MinSplit>
__global__ void __launch_bounds__(Threads)
    attention_decode_split_kernel(const float* __restrict__ q,         // (n_heads, head_dim)
                                  const __half* __restrict__ k_cache,  // (max_context, kv_dim)
                                  const __half* __restrict__ v_cache,  // (max_context, kv_dim)
                                  AttentionShape shape, std::uint32_t splits,
                                  const std::int32_t* __restrict__ position, attention::Workspace ws,
                                  attention::Batch batch) {
  step_stamp(StampTag::attention_split, StampEvent::start, splits);
  pdl_trigger();  // see programmatic_launch.hpp
  pdl_wait();     // q and the query's own K and V row come from the kernel before
  step_stamp(StampTag::attention_split, StampEvent::waited, splits);
  {  // this block's query token
    const std::uint32_t b = blockIdx.z;
    q += std::size_t{b} * shape.n_heads * shape.head_dim;
    position += b;
    ws = ws.of_token(b, std::size_t{splits} * shape.n_heads, shape.head_dim);
    if (batch.sequences != nullptr) {
      const std::size_t at = static_cast<std::size_t>(batch.sequences[b]) * batch.sequence_stride;
      k_cache += at;
      v_cache += at;
    }
  }
  attention_decode_split_block<Threads, Lanes, Tile, Heads, MinSplit>(nullptr, q, k_cache, v_cache, shape, splits,
                                                                      position, ws, blockIdx.x, blockIdx.y);
  step_stamp_done(StampTag::attention_split, splits);
}

// Block = Heads query heads of one KV head (blockIdx.x: KV head * head
// groups + group), walking every visible row itself: one launch, no
// workspace, no merge (attention_decode_direct).
template <int Threads, int Lanes, int Tile, int Heads, int MinSplit>
__global__ void __launch_bounds__(Threads)
    attention_decode_direct_kernel(const float* __restrict__ q,         // (n_heads, head_dim)
                                   const __half* __restrict__ k_cache,  // (max_context, kv_dim)
                                   const __half* __restrict__ v_cache,  // (max_context, kv_dim)
                                   AttentionShape shape, const std::int32_t* __restrict__ position,
                                   float* __restrict__ out) {
  step_stamp(StampTag::attention_split, StampEvent::start, 1);
  pdl_trigger();  // see programmatic_launch.hpp
  pdl_wait();     // q and the query's own K and V row come from the kernel before
  step_stamp(StampTag::attention_split, StampEvent::waited, 1);
  attention_decode_split_block<Threads, Lanes, Tile, Heads, MinSplit, false, true>(
      nullptr, q, k_cache, v_cache, shape, 1, position, attention::Workspace{}, 0, blockIdx.x, out);
  step_stamp_done(StampTag::attention_split, 1);
}

// Block = one query head: merges the live splits, out = sum_s w_s o_s / sum_s w_s l_s
// with w_s = exp(max_s - max over splits).
namespace attention {
// The splits that hold visible rows at the token's position (the merge's inputs).
template <int MinSplit>
__device__ __forceinline__ int splits_used(const std::int32_t* position, const AttentionShape& shape,
                                           std::uint32_t splits) {
  const VisibleRows rows = visible_rows(position, shape.max_context, shape.window);
  const std::uint32_t chunk = chunk_length(rows.count, splits, MinSplit);
  return static_cast<int>((rows.count + chunk - 1) / chunk);
}
}  // namespace attention

// attention_decode_merge_head is one head's merge, for the merge kernel and
// the persistent decode step (as the split block: every thread calls it, a
// caller that runs it again synchronises the block first). splits <= Threads.
// The outputs are read split-parallel: thread t takes 4 dims (column t % C of
// C = head_dim / 4) of splits k, k + K, ... (k = t / C, K = Threads / C), so a
// warp loads whole 512-byte rows of the workspace and a thread has every one
// of its splits' loads in flight at once; a thread per dim walking all the
// splits waited one L2 round trip per split (65 splits at depth 4096 on the 8B
// shape). The K partial sums meet in shared memory.
template <int Threads, int MinSplit, class Out = float>
__device__ __forceinline__ void attention_decode_merge_head(const attention::Workspace& ws,
                                                            const AttentionShape& shape, std::uint32_t splits,
                                                            const std::int32_t* position, Out* out,
                                                            std::uint32_t head) {
  static_assert(Threads >= 64 && Threads % 32 == 0, "a column of every head size (head_dim <= 256) per thread");
  const int used = attention::splits_used<MinSplit>(position, shape, splits);  // <= splits <= Threads
  const int s = static_cast<int>(threadIdx.x);

  using BlockReduce = cub::BlockReduce<float, Threads>;
  __shared__ typename BlockReduce::TempStorage storage;
  __shared__ float weight[Threads];
  __shared__ float4 partial[Threads];
  __shared__ float shared_max, shared_denominator;
  const float m = s < used ? ws.max[std::size_t{static_cast<std::uint32_t>(s)} * shape.n_heads + head] : -FLT_MAX;
  const float block_max = BlockReduce(storage).Reduce(m, attention::Max{});
  if (s == 0) shared_max = block_max;
  __syncthreads();
  const float w = s < used ? expf(m - shared_max) : 0.0f;
  weight[s] = w;
  const float l = s < used ? ws.sum[std::size_t{static_cast<std::uint32_t>(s)} * shape.n_heads + head] : 0.0f;
  const float denominator = BlockReduce(storage).Sum(w * l);
  if (s == 0) shared_denominator = denominator;
  __syncthreads();  // the weights and the denominator are written

  const int columns = static_cast<int>(shape.head_dim) / 4;  // head_dim % 8 == 0, <= 256: 2..64 columns
  const int split_lanes = Threads / columns;
  const int column = s % columns, lane = s / columns;
  float4 sum{0.0f, 0.0f, 0.0f, 0.0f};
  if (lane < split_lanes)
#pragma unroll 4
    for (int i = lane; i < used; i += split_lanes) {
      const float4 o = *reinterpret_cast<const float4*>(
          &ws.output[(std::size_t{static_cast<std::uint32_t>(i)} * shape.n_heads + head) * shape.head_dim + 4 * column]);
      const float wi = weight[i];
      sum = {fmaf(wi, o.x, sum.x), fmaf(wi, o.y, sum.y), fmaf(wi, o.z, sum.z), fmaf(wi, o.w, sum.w)};
    }
  if (used > 1) {  // block-uniform: one split (a short context) needs no partial sums
    partial[s] = sum;
    __syncthreads();
  }
  if (s < columns) {
    // Only lanes below `used` summed anything (few at a short context).
    const int lanes_used = used < split_lanes ? used : split_lanes;
    for (int k = 1; k < lanes_used; ++k) {
      const float4 p = partial[k * columns + s];
      sum = {sum.x + p.x, sum.y + p.y, sum.z + p.z, sum.w + p.w};
    }
    Out* const to = out + std::size_t{head} * shape.head_dim + 4 * s;
    to[0] = stored<Out>(sum.x / shared_denominator);
    to[1] = stored<Out>(sum.y / shared_denominator);
    to[2] = stored<Out>(sum.z / shared_denominator);
    to[3] = stored<Out>(sum.w / shared_denominator);
  }
}

// attention_decode_merge_head by one warp (splits <= 32: a lane a split),
// so that a block merges several heads side by side (the persistent step).
// The same arithmetic but for the order of the denominator's sum.
template <int MinSplit>
__device__ __forceinline__ void attention_decode_merge_head_warp(const attention::Workspace& ws,
                                                                 const AttentionShape& shape, std::uint32_t splits,
                                                                 const std::int32_t* position, float* out,
                                                                 std::uint32_t head) {
  const int used = attention::splits_used<MinSplit>(position, shape, splits);  // <= splits <= 32
  const int s = static_cast<int>(threadIdx.x % 32);
  const float m = s < used ? ws.max[std::size_t{static_cast<std::uint32_t>(s)} * shape.n_heads + head] : -FLT_MAX;
  float max = m;
  for (int o = 16; o > 0; o /= 2) max = fmaxf(max, __shfl_xor_sync(0xffffffffu, max, o));
  const float w = s < used ? expf(m - max) : 0.0f;
  const float l = s < used ? ws.sum[std::size_t{static_cast<std::uint32_t>(s)} * shape.n_heads + head] : 0.0f;
  float denominator = w * l;
  for (int o = 16; o > 0; o /= 2) denominator += __shfl_xor_sync(0xffffffffu, denominator, o);
  for (std::uint32_t d0 = 0; d0 < shape.head_dim; d0 += 32) {
    const std::uint32_t d = d0 + static_cast<std::uint32_t>(s);
    float sum = 0.0f;
    for (int i = 0; i < used; ++i) {
      const float weight = __shfl_sync(0xffffffffu, w, i);
      if (d < shape.head_dim)
        sum = fmaf(weight, ws.output[(std::size_t{static_cast<std::uint32_t>(i)} * shape.n_heads + head) * shape.head_dim + d], sum);
    }
    if (d < shape.head_dim) out[std::size_t{head} * shape.head_dim + d] = sum / denominator;
  }
}

// Block = (head, query token). Out: f32, or f16 (rounded to nearest, as
// to_half rounds) for a product that takes f16 input.
template <int Threads, int MinSplit, class Out = float>
__global__ void __launch_bounds__(Threads)
    attention_decode_merge_kernel(attention::Workspace ws, AttentionShape shape, std::uint32_t splits,
                                  const std::int32_t* __restrict__ position, Out* __restrict__ out) {
  step_stamp(StampTag::attention_merge, StampEvent::start, splits);
  pdl_trigger();  // see programmatic_launch.hpp
  pdl_wait();     // the splits' results come from the kernel before
  step_stamp(StampTag::attention_merge, StampEvent::waited, splits);
  {  // this block's query token (blockIdx.y), as in the split kernel
    const std::uint32_t b = blockIdx.y;
    position += b;
    out += std::size_t{b} * shape.n_heads * shape.head_dim;
    ws = ws.of_token(b, std::size_t{splits} * shape.n_heads, shape.head_dim);
  }
  attention_decode_merge_head<Threads, MinSplit, Out>(ws, shape, splits, position, out, blockIdx.x);
  step_stamp_done(StampTag::attention_merge, splits);
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels
