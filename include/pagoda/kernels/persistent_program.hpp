// The persistent decode step's program (kernels::persistent_decode,
// persistent_decode.cuh): the ops, the items and the Program a launch reads,
// plain structs the host (runtime::PersistentStep) fills at load, and the
// host's launcher and sizing functions. Host and device code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/kernels/tuning/attention_decode.hpp>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/field_streams.hpp>

namespace pagoda::kernels::persistent {

// Threads of a block; rows per warp task of a product (two: gate and up pair).
inline constexpr int block_threads = 256;
inline constexpr int rows_per_task = 2;
// The attention items' tile and query heads per pass (the standalone split
// kernel's tile; four heads a pass keeps its shared memory at 32 KB with 256
// threads, so a KV head serving more query heads takes several passes).
inline constexpr int attention_tile = 256;
inline constexpr int attention_heads = 4;
inline constexpr int attention_min_split = 64;

enum class Kind : std::uint32_t { gemv, rope_kv, attention_split, attention_merge, post_norm };

// A format of quant::field_stream_formats by its index there (what a GemvPart carries).
template <class F, class... Fs>
constexpr std::uint32_t index_in(type_list<Fs...>) {
  std::uint32_t index = 0, found = sizeof...(Fs);
  ((std::is_same_v<F, Fs> ? (found = index, ++index) : ++index), ...);
  return found;
}
template <class F>
inline constexpr std::uint32_t stream_format_index = index_in<F>(quant::field_stream_formats{});

// One matrix of a product: its rows are rows [first, first + rows) of the op.
struct GemvPart {
  const std::byte* weights;  // field streams, 16-aligned
  float* y;
  const float* residual;     // added to y, or null
  std::uint32_t rows;
  std::uint32_t first;
  std::uint32_t format;      // stream_format_index
  std::uint32_t row_bytes;   // a row's bytes (a group of 8 rows is 8 x row_bytes, contiguous)
};

// An op's product: up to three matrices sharing x one after another (q, k,
// v), or, gated, gate (parts[0], whose y receives act(gate) * up) and up
// (parts[1]) with the op's rows being gate rows.
struct GemvOp {
  GemvPart parts[3];
  std::uint32_t part_count;
  std::uint32_t cols;
  const float* x;
  const float* norm_weight;  // RMS-normalise x first, or null
  float norm_eps;
  bool gated;
  model::FfnActivation activation;
};

struct RopeOp {
  float* q;
  float* k;
  const float* v;
  __half* k_cache;
  __half* v_cache;
  std::uint32_t n_heads, n_kv_heads, head_dim, pairs;
  double freq_base, linear_scale;
  const float* freq_factors;
  bool neox;
  const float* q_norm;  // qk-norm architectures, else null
  const float* k_norm;
  float norm_eps;
};

struct AttentionOp {
  const float* q;
  const __half* k_cache;
  const __half* v_cache;
  AttentionShape shape;
  std::uint32_t splits;
  float* ws_output;  // (splits, n_heads, head_dim)
  float* ws_max;     // (splits, n_heads)
  float* ws_sum;
  float* out;        // (n_heads, head_dim)
};

// out = stream + rms_norm(block_output) * weight (post-norm architectures).
struct PostNormOp {
  const float* block_output;
  const float* weight;
  float eps;
  const float* stream;
  float* out;
  std::uint32_t dim;
};

// One op of the step; `kind` says which member holds it. 16-aligned: the
// kernel copies the list into shared memory in 16-byte words.
struct alignas(16) Op {
  Kind kind;
  GemvOp gemv;
  RopeOp rope;
  AttentionOp attention;
  PostNormOp post;
};

inline constexpr std::uint32_t no_counter = 0xffffffffu;

// An item: op `op`'s work [first, first + count) (rows, KV heads, or KV
// head * splits + split), after `wait_count` signals of counter `wait_counter`
// this step; it signals counter `op`.
struct Item {
  std::uint32_t op;
  std::uint32_t first;
  std::uint32_t count;
  std::uint32_t wait_counter;
  std::uint32_t wait_count;
  // A product's weights for this item copied into the block's shared memory
  // ahead of it (bytes; 0: read from global memory as it runs): the copies,
  // each part's rows in part order (planned at load, so that issuing them
  // takes one load of the item, not a walk through its op).
  std::uint32_t stage_bytes;
  std::uint32_t copy_bytes[3];
  const std::byte* copy_from[3];
};

// Rows [lo, hi) of part p (its own row numbers) that an item of a product
// covers; lo == hi: none. Gated: gate and up both take the item's rows.
struct RowRange {
  std::uint32_t lo, hi;
};
PAGODA_HD inline RowRange part_rows(const GemvOp& g, std::uint32_t p, std::uint32_t first, std::uint32_t count) {
  const GemvPart& part = g.parts[p];
  std::uint32_t lo = first, hi = first + count;
  if (!g.gated) {
    lo = lo > part.first ? lo - part.first : 0;
    hi = hi > part.first ? hi - part.first : 0;
  }
  if (hi > part.rows) hi = part.rows;
  if (lo > hi) lo = hi;
  return {lo, hi};
}

struct Program {
  const Item* items;
  std::uint32_t item_count;
  const Op* ops;
  const std::uint32_t* signals;  // per op: its items, the signals one step adds
  std::uint32_t* counters;       // per op
  std::uint32_t* epoch;          // the step the next launch runs
  std::uint32_t* exited;         // blocks of the current launch that have left
  std::uint32_t* tickets;        // items of the current launch handed out
  const std::int32_t* position;  // the token's position (its KV cache row)
  // Where the next ticket is a product's item, its rows are prefetched into
  // L2 once this item's wait is over (EngineOptions::persistent_prefetch),
  // unless they are staged in shared memory (Item::stage_bytes).
  bool prefetch_next;
  // Two stages of stage_bytes each, from byte stage_offset of the dynamic
  // shared memory (after the x buffer): a block copies its next item's
  // weights into one while it runs the item in the other (0: no stages).
  std::uint32_t stage_offset;
  std::uint32_t stage_bytes;
  // The ops copied into the dynamic shared memory from byte ops_offset at
  // the launch's start (op_count of them), so that an item reads its op's
  // fields from there rather than from L2 (0 ops: read in place, where they
  // do not fit beside the stages).
  std::uint32_t ops_offset;
  std::uint32_t op_count;
  // Profiling (null: off): per item, %globaltimer (ns) when its block took
  // it, when its wait was over, when it was done; and the block (item_count
  // x 4 values). runtime::PersistentStep::profile() summarises them.
  unsigned long long* stamps;
};

// Items' stamps: taken, waited, done, block.
inline constexpr int stamps_per_item = 4;

// The attention items' K/V tiles and partial sums share the products' x
// buffer (dynamic shared memory): at most this many bytes for every head
// size (checked against attention_staging_bytes where the kernel is built).
inline constexpr std::size_t attention_shared_bytes = 32768;

// Dynamic shared memory a block needs for products of up to `max_cols`
// columns (x as int16 and its scales) and for the attention items.
[[nodiscard]] constexpr std::size_t shared_bytes(std::size_t max_cols) {
  const std::size_t x = 2 * max_cols + max_cols / 32 * 4;
  return x > attention_shared_bytes ? x : attention_shared_bytes;
}

// The x buffer rounded so that the weight stages after it start 128-aligned.
[[nodiscard]] constexpr std::size_t stage_offset(std::size_t max_cols) { return (shared_bytes(max_cols) + 127) / 128 * 128; }

// The most dynamic shared memory a block of the kernel for `main_format`
// may take on the current device (its opt-in limit less the kernel's static
// shared memory); the kernel is opted in to it. Throws pagoda::Error for a
// format without the field-streams layout.
[[nodiscard]] std::size_t max_dynamic_shared(gguf::TensorType main_format);

// Blocks of that kernel one SM holds at once with `shared` bytes of dynamic
// shared memory each (0: none fits).
[[nodiscard]] int resident_blocks_per_sm(gguf::TensorType main_format, std::size_t shared);

// One step on `stream`: `grid` blocks (runtime::PersistentStep keeps it to
// what fits at once) of `shared` bytes of dynamic shared memory. Throws
// pagoda::Error on a null list or a failed launch.
void launch(const Program& program, gguf::TensorType main_format, std::size_t shared, unsigned grid,
            cudaStream_t stream);

}  // namespace pagoda::kernels::persistent
