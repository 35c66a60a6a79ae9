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
// Host code compiled by g++ includes this header (or persistent_program.hpp)
// for the types and the launcher; the kernels are compiled one unit per
// format, generated from cuda/templates/persistent_decode_streams_format.cu.in.
#pragma once

#include <cstddef>
#include <cstdint>

#include <pagoda/kernels/persistent_program.hpp>

#if defined(__CUDACC__)
#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/attention_decode.cuh>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/kernels/norm.cuh>
#include <pagoda/kernels/persistent_stages.cuh>
#include <pagoda/kernels/rope_kv_store.cuh>
#endif

namespace pagoda::kernels::persistent {

#if defined(__CUDACC__)

// Units a lane loads a step in the persistent kernel's products: one for the
// K-quants, whose two-unit step (the decode GEMV's) takes ~30 more registers
// than this kernel has left (ptxas: Q4_K's stack spills 16 -> 92 bytes).
template <class F>
inline constexpr int units_per_step = StreamsDot<F>::units_per_block == 8 ? 1 : StreamsDot<F>::units_per_step;

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
  streams_rows<F, PartRows, Threads, rows_per_task, units_per_step<F>>(t, cols, xs, first_task + threadIdx.x / 32, end_task,
                                                    Threads / 32, before);
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
      streams_rows<Main, PartRows, Threads, R, units_per_step<Main>>(t, cols, xs, first_task + threadIdx.x / 32, end_task, Threads / 32,
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
  // The ops into shared memory (the same bytes), read there by every item.
  const Op* ops = p.ops;
  if (p.op_count != 0) {
    auto* const to = reinterpret_cast<int4*>(reinterpret_cast<std::byte*>(shared) + p.ops_offset);
    const auto* const from = reinterpret_cast<const int4*>(p.ops);
    const std::size_t words = std::size_t{p.op_count} * sizeof(Op) / sizeof(int4);
    // Unrolled deep so that a thread's loads are in flight together (~12 words
    // a thread for a 1B's 115 ops), not one L2 trip after another.
#pragma unroll 16
    for (std::size_t i = threadIdx.x; i < words; i += Threads) to[i] = from[i];
    ops = reinterpret_cast<const Op*>(to);
  }
  __syncthreads();
  const std::uint32_t step = step_shared;
  std::uint32_t ticket = ticket_shared, next = next_shared;
  // The item in hand; the next one's descriptor is loaded while it runs.
  Item item = ticket < p.item_count ? p.items[ticket] : Item{};
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
    const Item upcoming = next < p.item_count ? p.items[next] : Item{};
    const Op& op = ops[item.op];
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
        const Op& next_op = ops[upcoming.op];
        if (next_op.kind == Kind::gemv && upcoming.stage_bytes == 0) prefetch_gemv_item(next_op.gemv, upcoming);
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
    item = upcoming;
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
