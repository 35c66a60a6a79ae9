// kernels::persistent_decode: one token's decode step as one launch (issue
// 15). The blocks of the grid take work items from a list built at load
// (runtime::DecodeSchedule) in list order, one ticket (an atomic counter)
// each; a block holds the item it runs and the next, and takes a third while
// the item runs. An item waits, on a counter in global memory, for the op
// whose results it reads, runs, and adds one to its own op's counter. The
// work of an item is the same device code the graph path launches as
// kernels: streams_rows (the field-streams GEMV), attention_decode_split_block
// and the merge's arithmetic, rope_kv_head's, rms_norm_row's.
//
// Why: a small model's decode step is hundreds of short kernels (SmolLM2-135M:
// ~245 at ~3.3 us each for 0.03 ms of weights); a counter round trip through
// L2 costs a fraction of a launch and drain, and a product item's weights
// are copied into shared memory while the block's item before it runs (two
// stages, bulk copies), so the next op's bytes are in flight while the
// previous op finishes.
//
// Deadlock-free by construction: an item waits only on ops whose every item
// comes earlier in the list (runtime::validate checks it), and only a running
// block takes a ticket, in list order. The earliest unfinished item is then
// held by a running block (a block holding a later ticket too is running an
// earlier item, which would be unfinished and earlier still), and it waits on
// nothing unfinished, so that block makes progress, whether or not every
// block of the grid is resident (another kernel may hold SMs). The engine
// still sizes the grid to what the occupancy calculator says fits at once.
//
// Steps: counters only grow. A launch reads its step number from `epoch`;
// an item waits for step * signals[c] + wait_count on counter c (compared as
// a signed difference, so wrapping is harmless); the last block to leave
// resets the tickets and advances the epoch. Launches on one stream never
// overlap (no PDL here).
//
// Memory order: a block's item ends with a block barrier, then one thread
// fences and adds to the counter; a waiting thread spins with acquire loads,
// then the block synchronises. Activations written by other blocks are never
// read through the non-coherent path (the Coherent loads of
// streams_x_to_shared and rms_norm_row; plain loads elsewhere).
//
// The kernel is instantiated per Main format: products in the model's main
// format (the most bytes of its layer matrices) run inline in the item loop;
// the other formats' products, the attention, RoPE, merge and norm items are
// calls, which keep their registers apart (persistent_decode_streams.cuh).
//
// Host code compiled by g++ includes this header for the types and the
// launcher; the kernels are compiled one unit per format, generated from
// cuda/templates/persistent_decode_streams_format.cu.in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/type_list.hpp>
#include <pagoda/kernels/tuning/attention_decode.hpp>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/field_streams.hpp>

#if defined(__CUDACC__)
#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/attention_decode.cuh>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/kernels/norm.cuh>
#include <pagoda/kernels/rope_kv_store.cuh>
#endif

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

// One op of the step; `kind` says which member holds it.
struct Op {
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
  // Profiling (null: off): per item, %globaltimer (ns) when its block took
  // it, when its wait was over, when it was done; and the block (item_count
  // x 4 values). runtime::PersistentStep::profile() summarises them.
  unsigned long long* stamps;
};

// Items' stamps: taken, waited, done, block.
inline constexpr int stamps_per_item = 4;

// Attention lanes per K/V row for `head_dim`: 8, 16 or 32 (8 dims each); 0 above 256.
[[nodiscard]] constexpr int attention_lanes(std::uint32_t head_dim) {
  return head_dim <= 64 ? 8 : (head_dim <= 128 ? 16 : (head_dim <= 256 ? 32 : 0));
}

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

#if defined(__CUDACC__)

// The rows of one GemvPart, or gate and up paired: streams_rows' Rows for
// both, chosen at run time (one loop per format instead of one per format
// and fusion).
struct PartTargets {
  StagedTargets base;  // weights[0] (and up's in weights[1]), y[0], residual[0], rows[0]
  bool gated;
  model::FfnActivation activation;
};

struct PartRows {
  __device__ static std::size_t total(const PartTargets& t) { return t.gated ? 2 * t.base.rows[0] : t.base.rows[0]; }
  __device__ static RowRef locate(const PartTargets& t, std::size_t row) {
    if (t.gated) return {row % 2 == 0 ? t.base.weights[0] : t.base.weights[1], row / 2, t.base.rows[0]};
    return {t.base.weights[0], row, t.base.rows[0]};
  }
  template <int R>
  __device__ static void finish(const PartTargets& t, std::size_t first, const float (&acc)[R]) {
    static_assert(R == 2, "persistent products: two rows a warp task");
    if (t.gated) {
      const float gate = t.activation == model::FfnActivation::silu ? silu(acc[0]) : gelu_tanh(acc[0]);
      t.base.y[0][first / 2] = __fmul_rn(gate, acc[1]);
      return;
    }
    const float* residual = t.base.residual[0];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const std::size_t row = first + r;
      if (row >= t.base.rows[0]) break;
      t.base.y[0][row] = residual != nullptr ? acc[r] + residual[row] : acc[r];
    }
  }
};

// fn(type_tag<F>{}) for format `index` of quant::field_stream_formats.
template <class... Fs, class Fn>
__device__ __forceinline__ void visit_stream_format(type_list<Fs...>, std::uint32_t index, Fn&& fn) {
  std::uint32_t i = 0;
  ((index == i++ ? (fn(type_tag<Fs>{}), 0) : 0), ...);
}

__device__ __forceinline__ unsigned long long global_timer() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ std::uint32_t load_acquire(const std::uint32_t* p) {
  std::uint32_t v;
  asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
  return v;
}

// Every thread: returns once `counter` holds at least `target` (mod 2^32).
__device__ __forceinline__ void wait_for(const std::uint32_t* counter, std::uint32_t target) {
  if (threadIdx.x == 0)
    while (static_cast<std::int32_t>(load_acquire(counter) - target) < 0) __nanosleep(32);
  __syncthreads();
}

// Tasks [first_task, end_task) of one matrix (or gate and up), a warp each in
// turn, in a format other than the kernel's Main one. Not inlined: the loops
// of eight formats inlined together needed more than 255 registers and
// spilled; a call pays the ABI's register saves (local memory) instead, so
// only the model's minority formats take it (version 1 called it for every
// item and moved ~4 GB of stack a step: docs/notes/performance.md).
template <class F, int Threads, class Before>
__device__ __noinline__ void run_part(const PartTargets& t, std::size_t cols, const streams::XShared& xs,
                                      std::size_t first_task, std::size_t end_task, Before& before) {
  streams_rows<F, PartRows, Threads, rows_per_task>(t, cols, xs, first_task + threadIdx.x / 32, end_task,
                                                    Threads / 32, before);
}

// Bytes [at, at + bytes) into L2, by the calling thread alone (sm_90: one
// bulk prefetch; earlier GPUs: a prefetch per 128-byte line, at most 64).
__device__ __forceinline__ void prefetch_l2(const std::byte* at, std::uint32_t bytes) {
  bytes &= ~15u;
  if (bytes == 0) return;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(at), "r"(bytes) : "memory");
#else
  for (std::uint32_t offset = 0; offset < bytes && offset < 64 * 128; offset += 128)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(at + offset));
#endif
}

// The weights of a product's item [first, first + count) into L2: rows are
// whole groups of 8 one after another in the field-streams layout.
__device__ __forceinline__ void prefetch_gemv_item(const GemvOp& g, const Item& item) {
  for (std::uint32_t p = 0; p < g.part_count; ++p) {
    const RowRange r = part_rows(g, p, item.first, item.count);
    if (r.lo < r.hi)
      prefetch_l2(g.parts[p].weights + std::size_t{r.lo} * g.parts[p].row_bytes, (r.hi - r.lo) * g.parts[p].row_bytes);
  }
}

__device__ __forceinline__ std::uint32_t shared_address(const void* p) {
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// The stages' barriers (mbarriers: one arrival, thread 0's, and the copy's
// bytes complete a phase), by thread 0 before the block's first barrier.
__device__ __forceinline__ void init_stage_barriers(std::uint64_t* full, int count) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  for (int i = 0; i < count; ++i)
    asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(shared_address(full + i)) : "memory");
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
#endif
}

// One thread: an item's weights (its planned copies: each part's rows, in
// part order, as run_gemv reads them) into `stage`, landing on `full`. The
// stage's last reads were the generic proxy's, before the block barrier
// that ended its item; the proxy fence orders them before the copy's writes.
__device__ __forceinline__ void stage_gemv_item(const Item& item, std::byte* stage, std::uint64_t* full) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const std::uint32_t barrier = shared_address(full);
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(barrier), "r"(item.stage_bytes)
               : "memory");
  std::uint32_t to = shared_address(stage);
#pragma unroll
  for (int c = 0; c < 3; ++c) {
    if (item.copy_bytes[c] == 0) continue;
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(to),
                 "l"(item.copy_from[c]), "r"(item.copy_bytes[c]), "r"(barrier)
                 : "memory");
    to += item.copy_bytes[c];
  }
#else
  __trap();  // the host stages nothing below sm_90 (PersistentStep)
#endif
}

// Every thread: returns once the stage's copy of phase `parity` has landed
// (its bytes are then visible to the waiting threads).
__device__ __forceinline__ void wait_stage(std::uint64_t* full, std::uint32_t parity) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const std::uint32_t barrier = shared_address(full);
  std::uint32_t ready = 0;
  do {
    asm volatile(
        "{\n .reg .pred landed;\n mbarrier.try_wait.parity.shared::cta.b64 landed, [%1], %2;\n"
        " selp.u32 %0, 1, 0, landed;\n}"
        : "=r"(ready)
        : "r"(barrier), "r"(parity)
        : "memory");
  } while (ready == 0);
#else
  __trap();
#endif
}

// Rows [first, first + count) of a product (gate rows when gated). Parts
// in the kernel's Main format run inline; others through run_part (a call).
// staged: the item's weights in shared memory (each part's rows in turn, as
// stage_gemv_item copied them; ready once `wait` returns), or null.
template <class Main, int Threads, class Wait>
__device__ __forceinline__ void run_gemv(const GemvOp& g, const Item& item, Wait& wait, int4* shared,
                                         std::uint32_t& x_op, const std::byte* staged) {
  constexpr int R = rows_per_task;
  const std::size_t cols = g.cols;
  const streams::XShared xs{shared, reinterpret_cast<const float*>(shared + 4 * (cols / 32)), cols / 32};
  bool waited = false;
  const auto before = [&] {  // once per item, by every thread
    if (waited) return;
    waited = true;
    wait();
    if (x_op != item.op) {  // the block's x is another op's: this op's, normalised and quantized
      StagedTargets norm;
      norm.norm_weight = g.norm_weight;
      norm.norm_eps = g.norm_eps;
      streams_x_to_shared<Threads, true>(norm, cols, g.x, shared);
      x_op = item.op;
    }
  };
  // streams_rows loads its first weights before `before`: staged ones may
  // be read only once they have landed.
  if (staged != nullptr) before();
  const auto run = [&](const PartTargets& t, std::uint32_t format, std::size_t first_task, std::size_t end_task) {
    if (format == stream_format_index<Main>) {
      streams_rows<Main, PartRows, Threads, R>(t, cols, xs, first_task + threadIdx.x / 32, end_task, Threads / 32,
                                               before);
      return;
    }
    visit_stream_format(quant::field_stream_formats{}, format, [&](auto tag) {
      run_part<typename decltype(tag)::type, Threads>(t, cols, xs, first_task, end_task, before);
    });
  };
  // Part p's rows r as a matrix: in place (the whole matrix, its own row
  // numbers), or staged (rows r.lo.. at the stage's next bytes: a whole
  // number of field-streams groups, renumbered from 0). Returns the shift.
  std::size_t staged_offset = 0;
  const auto place = [&](const GemvPart& part, RowRange r, const std::byte*& weights, std::size_t& rows) {
    if (staged == nullptr) {
      weights = part.weights;
      rows = part.rows;
      return 0u;
    }
    weights = staged + staged_offset;
    staged_offset += std::size_t{r.hi - r.lo} * part.row_bytes;
    rows = r.hi - r.lo;
    return r.lo;
  };
  if (g.gated) {  // one task: gate row i and up row i (both of parts[0]'s format)
    const RowRange r = part_rows(g, 0, item.first, item.count);
    PartTargets t{};
    t.gated = true;
    t.activation = g.activation;
    std::size_t up_rows = 0;
    const std::uint32_t shift = place(g.parts[0], r, t.base.weights[0], t.base.rows[0]);
    place(g.parts[1], r, t.base.weights[1], up_rows);
    t.base.y[0] = g.parts[0].y + shift;
    run(t, g.parts[0].format, r.lo - shift, r.hi - shift);
  } else {
    for (std::uint32_t p = 0; p < g.part_count; ++p) {  // the item's rows of each matrix
      const GemvPart& part = g.parts[p];
      const RowRange r = part_rows(g, p, item.first, item.count);
      if (r.lo == r.hi) continue;
      PartTargets t{};
      const std::uint32_t shift = place(part, r, t.base.weights[0], t.base.rows[0]);
      t.base.y[0] = part.y + shift;
      t.base.residual[0] = part.residual != nullptr ? part.residual + shift : nullptr;
      run(t, part.format, (r.lo - shift) / R, (r.hi - shift + R - 1) / R);
    }
  }
  before();  // (an item always overlaps a part; this keeps the wait unconditional)
}

template <int Threads, int Lanes>
__device__ __noinline__ void run_attention_split_lanes(const AttentionOp& a, const Item& item,
                                                          const std::int32_t* position) {
  // The kernel's dynamic buffer, named here so that the tiles are addressed
  // as shared memory (a pointer passed into a call is generic).
  extern __shared__ int4 dynamic_shared[];
  auto* const staging = reinterpret_cast<unsigned char*>(dynamic_shared);
  static_assert(attention_staging_bytes<Threads, Lanes, attention_tile, attention_heads> <= attention_shared_bytes,
                "the attention tiles fit the persistent kernel's shared buffer");
  const attention::Workspace ws{a.ws_output, a.ws_max, a.ws_sum};
  const std::uint32_t kv_head = item.first / a.splits, split = item.first % a.splits;
  const std::uint32_t per_kv = a.shape.n_heads / a.shape.n_kv_heads;
  const std::uint32_t groups = (per_kv + attention_heads - 1) / attention_heads;
  for (std::uint32_t g = 0; g < groups; ++g) {
    if (g > 0) __syncthreads();  // the pass before is done with the shared tiles
    attention_decode_split_block<Threads, Lanes, attention_tile, attention_heads, attention_min_split, true>(
        staging, a.q, a.k_cache, a.v_cache, a.shape, a.splits, position, ws, split, kv_head * groups + g);
  }
}

// The attention lanes from head_dim (a call, like every item but the main
// format's products: these are few, and their registers stay apart).
template <int Threads>
__device__ __forceinline__ void run_attention_split(const AttentionOp& a, const Item& item,
                                                    const std::int32_t* position) {
  const int lanes = attention_lanes(a.shape.head_dim);
  if (lanes == 8) run_attention_split_lanes<Threads, 8>(a, item, position);
  else if (lanes == 16) run_attention_split_lanes<Threads, 16>(a, item, position);
  else if (lanes == 32) run_attention_split_lanes<Threads, 32>(a, item, position);
  else __trap();  // head_dim above 256: PersistentStep::unsupported refuses it at load
}

template <int Threads>
__device__ __forceinline__ void run_attention_merge(const AttentionOp& a, const Item& item,
                                                    const std::int32_t* position) {
  const attention::Workspace ws{a.ws_output, a.ws_max, a.ws_sum};
  const std::uint32_t per_kv = a.shape.n_heads / a.shape.n_kv_heads;
  if (a.splits <= 32) {  // a warp a query head, side by side
    for (std::uint32_t h = threadIdx.x / 32; h < per_kv; h += Threads / 32)
      attention_decode_merge_head_warp<attention_min_split>(ws, a.shape, a.splits, position, a.out,
                                                            item.first * per_kv + h);
    return;
  }
  for (std::uint32_t h = 0; h < per_kv; ++h) {
    if (h > 0) __syncthreads();
    attention_decode_merge_head<Threads, attention_min_split>(ws, a.shape, a.splits, position, a.out,
                                                              item.first * per_kv + h);
  }
}

template <int Threads>
__device__ __forceinline__ void run_rope_kv(const RopeOp& r, const Item& item, const std::int32_t* position) {
  const std::int32_t at = *position;
  for (std::uint32_t h = item.first; h < item.first + item.count; ++h) {
    if (h > item.first) __syncthreads();
    rope_kv_head_parallel<Threads>(r.q, r.k, r.v, r.k_cache, r.v_cache, r.n_heads, r.n_kv_heads, r.head_dim,
                                   r.pairs, r.freq_base, r.linear_scale, r.freq_factors, r.neox, r.q_norm, r.k_norm,
                                   r.norm_eps, at, at, h);
  }
}

template <int Threads>
__device__ __forceinline__ void run_post_norm(const PostNormOp& n) {
  const float s = block_rms_scale<Threads, true>(n.block_output, n.dim, n.eps);
  for (std::size_t i = threadIdx.x; i < n.dim; i += Threads)
    n.out[i] = __fadd_rn(n.stream[i], __fmul_rn(__fmul_rn(n.block_output[i], s), n.weight[i]));
}

// One block an SM (up to 255 registers a thread). The inline products need
// 124 (ptxas, the kernel without its calls); with the calls in, a cap of
// 128 (two blocks an SM) leaves ptxas spilling 364 bytes in the kernel, at
// the call sites or not, while 255 leaves 212, only around the calls. Two
// blocks would hide one block's waits behind the other's work: to be
// measured against this.
inline constexpr int min_blocks_per_sm = 1;

// One thread: item `ticket`'s weights into `stage` if the host staged it.
__device__ __forceinline__ void stage_item(const Program& p, std::uint32_t ticket, std::byte* stage,
                                           std::uint64_t* full) {
  if (ticket >= p.item_count) return;
  const Item item = p.items[ticket];
  if (item.stage_bytes != 0) stage_gemv_item(item, stage, full);
}

// Tickets: a block holds the item it runs and the next, whose weights are
// on their way into the other stage meanwhile (issued by warp 1 as the item
// starts, beside thread 0's wait, so an op's drain overlaps the next op's
// weight traffic and thread 0's path to its wait is as short as without
// stages), and takes a third while the item runs. Items are run in ticket
// order, so the deadlock argument at the top holds as with one ticket.
template <int Threads, class Main>
__global__ void __launch_bounds__(Threads, min_blocks_per_sm) persistent_decode_kernel(Program p) {
  extern __shared__ int4 shared[];
  __shared__ std::uint32_t step_shared, ticket_shared, next_shared;
  __shared__ std::uint64_t stage_full[2];  // a stage's copy has landed
  std::byte* const stages = reinterpret_cast<std::byte*>(shared) + p.stage_offset;
  if (threadIdx.x == 0) {
    step_shared = load_acquire(p.epoch);  // written by the launch before, which has ended
    ticket_shared = atomicAdd(p.tickets, 1u);
    next_shared = atomicAdd(p.tickets, 1u);
    if (p.stage_bytes != 0) {
      init_stage_barriers(stage_full, 2);
      stage_item(p, ticket_shared, stages, &stage_full[0]);
    }
  }
  __syncthreads();
  const std::uint32_t step = step_shared;
  std::uint32_t ticket = ticket_shared, next = next_shared;
  std::uint32_t stage = 0;   // the current item's stage; the next item's is the other
  std::uint32_t parity = 0;  // bit s: the phase of stage s's next copy
  std::uint32_t x_op = no_counter;  // the op whose x the block's shared memory holds
  static_assert(Threads >= 64, "warp 1 issues the stage copies");
  while (ticket < p.item_count) {
    unsigned long long* const stamp = p.stamps != nullptr && threadIdx.x == 0 ? p.stamps + stamps_per_item * ticket
                                                                               : nullptr;
    if (stamp != nullptr) stamp[0] = global_timer(), stamp[3] = blockIdx.x;
    std::uint32_t after = 0;
    if (threadIdx.x == 0) after = atomicAdd(p.tickets, 1u);  // in flight while this item runs
    // The other stage was read by the item before this one, which has ended.
    if (threadIdx.x == 32 && p.stage_bytes != 0)
      stage_item(p, next, stages + (stage ^ 1u) * p.stage_bytes, &stage_full[stage ^ 1u]);
    const Item item = p.items[ticket];
    const Op& op = p.ops[item.op];
    // (Both sizes: an item's copy is issued only where the program has stages.)
    const std::byte* const staged =
        p.stage_bytes != 0 && item.stage_bytes != 0 ? stages + stage * p.stage_bytes : nullptr;
    const auto wait = [&] {
      if (item.wait_counter != no_counter)
        wait_for(p.counters + item.wait_counter, step * p.signals[item.wait_counter] + item.wait_count);
      if (staged != nullptr) {
        wait_stage(&stage_full[stage], (parity >> stage) & 1u);
        parity ^= 1u << stage;
      }
      if (stamp != nullptr) stamp[1] = global_timer();
      // A next product item that is not staged: its weights start for L2 now.
      if (p.prefetch_next && threadIdx.x == 0 && next < p.item_count) {
        const Item n = p.items[next];
        const Op& next_op = p.ops[n.op];
        if (next_op.kind == Kind::gemv && n.stage_bytes == 0) prefetch_gemv_item(next_op.gemv, n);
      }
    };
    switch (op.kind) {
      case Kind::gemv: run_gemv<Main, Threads>(op.gemv, item, wait, shared, x_op, staged); break;
      case Kind::rope_kv: wait(); run_rope_kv<Threads>(op.rope, item, p.position); break;
      case Kind::attention_split:  // its tiles overwrite the block's x
        wait();
        run_attention_split<Threads>(op.attention, item, p.position);
        x_op = no_counter;
        break;
      case Kind::attention_merge: wait(); run_attention_merge<Threads>(op.attention, item, p.position); break;
      case Kind::post_norm: wait(); run_post_norm<Threads>(op.post); break;
    }
    __syncthreads();  // every thread's share of the item is written (and the shared memory free)
    if (threadIdx.x == 0) {
      if (stamp != nullptr) stamp[2] = global_timer();
      __threadfence();
      atomicAdd(p.counters + item.op, 1u);
      ticket_shared = next;
      next_shared = after;
    }
    __syncthreads();
    ticket = ticket_shared;
    next = next_shared;
    stage ^= 1u;
  }
  if (threadIdx.x == 0) {
    __threadfence();  // this block's last tickets are taken before it counts itself out
    if (atomicAdd(p.exited, 1u) == gridDim.x - 1) {  // the last block out: every ticket is taken
      *p.exited = 0;
      *p.tickets = 0;
      __threadfence();
      *p.epoch = step + 1;
    }
  }
}

#endif  // __CUDACC__

}  // namespace pagoda::kernels::persistent
