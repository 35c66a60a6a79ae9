// The instruction list of a persistent decode step (issue 15): one token's
// forward pass as work items that resident blocks take in list order, each
// waiting on a counter in global memory for the work it reads and adding one
// to its own op's counter when done, instead of one kernel launch per op.
// Built once at load from the model's shape; host-only, so the CPU suite
// proves its order and coverage (tests/runtime/decode_schedule_test.cpp).
//
// Why it cannot deadlock: an instruction waits only on ops whose every item
// comes before it in the list (validate() checks it), and blocks take items
// in list order (one atomic ticket). When every block of the grid is
// resident, the item a block waits on was taken by a block that is either
// running it or waiting on an item earlier still; the earliest taken item
// waits on nothing unfinished, so some block always makes progress.
//
// Counters only grow: the step of token t waits for t x signals(counter) +
// the item's wait count, so no reset is needed between steps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pagoda/model/config.hpp"

namespace pagoda::runtime {

// What an item does; the ops of a layer in order, then the logits and the draw.
enum class DecodeOp : std::uint8_t {
  embed,            // the token's embedding row into the residual stream (one item)
  qkv,              // rows of q, k and v, the attention norm inside the item
  rope_kv,          // per KV head: RoPE of its query heads and its key, K and V into the cache
  attention_split,  // per (KV head, split): a stretch of the visible cache
  attention_merge,  // per KV head: its query heads' splits merged
  output,           // rows of the attention output projection
  post_attention,   // post_norms architectures: the block output normed and added to the stream (one item)
  gate_up,          // rows of gate and up with the activation, the FFN norm inside
  down,             // rows of the down projection
  post_ffn,         // post_norms architectures (one item)
  logits,           // rows of the output matrix, the final norm inside
  sample,           // the sampler's draw (one item)
};
[[nodiscard]] const char* name_of(DecodeOp op);

inline constexpr std::uint32_t no_counter = 0xffffffffu;

struct DecodeInstruction {
  DecodeOp op;
  std::uint32_t layer;  // 0 for embed, logits and sample
  std::uint32_t first;  // the item's share of its op: rows, KV heads, or (KV head x splits + split)
  std::uint32_t count;
  std::uint32_t wait_counter;  // the op whose results this item reads, or no_counter
  std::uint32_t wait_count;    // proceed once that counter holds this many more than at the step's start
  std::uint32_t done_counter;  // this item's op: one added when the item is done
};

inline constexpr std::size_t decode_op_count = static_cast<std::size_t>(DecodeOp::sample) + 1;

// How finely the ops are cut into items: plain values.
struct DecodeSchedulePolicy {
  std::uint32_t gemv_rows = 64;        // rows of a matrix product per item (a block's share)
  std::uint32_t attention_splits = 8;  // stretches of the cache per KV head
  // A product op's rows per item where it differs from gemv_rows (0: the
  // same), indexed by DecodeOp: the persistent step cuts an op whose items'
  // weights would not fit its shared-memory stage finer.
  std::array<std::uint32_t, decode_op_count> rows_by_op{};

  [[nodiscard]] std::uint32_t rows_of(DecodeOp op) const {
    const std::uint32_t rows = rows_by_op[static_cast<std::size_t>(op)];
    return rows != 0 ? rows : gemv_rows;
  }
};

struct DecodeSchedule {
  std::vector<DecodeInstruction> instructions;
  std::vector<std::uint32_t> signals;  // per counter: the items that add to it in one step
  // The counter of (op, layer), or no_counter if the schedule has no such op.
  [[nodiscard]] std::uint32_t counter_of(DecodeOp op, std::uint32_t layer) const;
  [[nodiscard]] std::string describe() const;  // one line for the load report

  struct OpCounter {
    DecodeOp op;
    std::uint32_t layer;
  };
  std::vector<OpCounter> counter_ops;  // per counter: whose it is
};

// How finely the persistent step (runtime::PersistentStep) cuts `config`:
// 16 rows an item up to a model width of 2048 (a warp task is two rows: one
// task per warp of a 256-thread block, so an item is one DRAM round trip), 32
// above; 8 attention splits a KV head. A first choice, to be tuned by
// measurement.
[[nodiscard]] DecodeSchedulePolicy persistent_schedule_policy(const model::ModelConfig& config);

// The step of one token for `config`'s shape, in dependency order.
[[nodiscard]] DecodeSchedule build_decode_schedule(const model::ModelConfig& config,
                                                   const DecodeSchedulePolicy& policy = {});

// Throws pagoda::Error naming the first instruction that breaks a rule: every
// counter it waits on is signalled only by instructions before it, and by at
// least wait_count of them; each op's items cover its work exactly once.
void validate(const DecodeSchedule& schedule, const model::ModelConfig& config,
              const DecodeSchedulePolicy& policy = {});

}  // namespace pagoda::runtime
