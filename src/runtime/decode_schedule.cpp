#include "pagoda/runtime/decode_schedule.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::runtime {

namespace {

// The work an op divides among its items: rows, KV heads, (KV head, split) pairs, or one.
std::uint32_t work_of(DecodeOp op, const model::ModelConfig& c, const DecodeSchedulePolicy& policy) {
  switch (op) {
    case DecodeOp::qkv: return c.q_dim() + 2 * c.kv_dim();
    case DecodeOp::rope_kv:
    case DecodeOp::attention_merge: return c.n_kv_heads;
    case DecodeOp::attention_split: return c.n_kv_heads * policy.attention_splits;
    case DecodeOp::output:
    case DecodeOp::down: return c.d_model;
    case DecodeOp::gate_up: return c.d_ffn;
    case DecodeOp::logits: return c.vocab_size;
    case DecodeOp::embed:
    case DecodeOp::post_attention:
    case DecodeOp::post_ffn:
    case DecodeOp::sample: return 1;
  }
  return 0;
}

// Items of at most `share` each over `work`.
std::uint32_t share_of(DecodeOp op, const DecodeSchedulePolicy& policy) {
  switch (op) {
    case DecodeOp::qkv:
    case DecodeOp::output:
    case DecodeOp::gate_up:
    case DecodeOp::down:
    case DecodeOp::logits: return policy.rows_of(op);
    default: return 1;
  }
}

class Builder {
public:
  Builder(const model::ModelConfig& config, const DecodeSchedulePolicy& policy) : config_(config), policy_(policy) {}

  // Appends `op` of `layer`, its items reading what the op before produced.
  void add(DecodeOp op, std::uint32_t layer) {
    const std::uint32_t counter = static_cast<std::uint32_t>(schedule_.signals.size());
    schedule_.signals.push_back(0);
    schedule_.counter_ops.push_back({op, layer});
    const std::uint32_t work = work_of(op, config_, policy_);
    const std::uint32_t share = share_of(op, policy_);
    const std::uint32_t wait = previous_;
    const std::uint32_t wait_count = wait == no_counter ? 0 : schedule_.signals[wait];
    for (std::uint32_t first = 0; first < work; first += share) {
      schedule_.instructions.push_back({op, layer, first, std::min(share, work - first), wait, wait_count, counter});
      ++schedule_.signals[counter];
    }
    previous_ = counter;
  }

  DecodeSchedule take() { return std::move(schedule_); }

private:
  const model::ModelConfig& config_;
  const DecodeSchedulePolicy& policy_;
  DecodeSchedule schedule_;
  std::uint32_t previous_ = no_counter;
};

void check_policy(const DecodeSchedulePolicy& policy) {
  if (policy.gemv_rows == 0 || policy.attention_splits == 0)
    fail("decode schedule: rows per item and attention splits must be positive (got {} and {})", policy.gemv_rows,
         policy.attention_splits);
  for (std::size_t op = 0; op < decode_op_count; ++op)
    if (policy.rows_by_op[op] != 0 && share_of(static_cast<DecodeOp>(op), {}) == 1)
      fail("decode schedule: {} is not a product; it has no rows to cut", name_of(static_cast<DecodeOp>(op)));
}

}  // namespace

const char* name_of(DecodeOp op) {
  switch (op) {
    case DecodeOp::embed: return "embed";
    case DecodeOp::qkv: return "qkv";
    case DecodeOp::rope_kv: return "rope_kv";
    case DecodeOp::attention_split: return "attention_split";
    case DecodeOp::attention_merge: return "attention_merge";
    case DecodeOp::output: return "output";
    case DecodeOp::post_attention: return "post_attention";
    case DecodeOp::gate_up: return "gate_up";
    case DecodeOp::down: return "down";
    case DecodeOp::post_ffn: return "post_ffn";
    case DecodeOp::logits: return "logits";
    case DecodeOp::sample: return "sample";
  }
  return "?";
}

std::uint32_t DecodeSchedule::counter_of(DecodeOp op, std::uint32_t layer) const {
  for (std::uint32_t c = 0; c < counter_ops.size(); ++c)
    if (counter_ops[c].op == op && counter_ops[c].layer == layer) return c;
  return no_counter;
}

std::string DecodeSchedule::describe() const {
  return fmt::format("persistent decode: {} items over {} ops, counters in global memory", instructions.size(),
                     signals.size());
}

DecodeSchedulePolicy persistent_schedule_policy(const model::ModelConfig& config) {
  return {.gemv_rows = config.d_model <= 2048 ? 16u : 32u, .attention_splits = 8};
}

DecodeSchedule build_decode_schedule(const model::ModelConfig& config, const DecodeSchedulePolicy& policy) {
  check_policy(policy);
  if (config.n_layers == 0 || config.n_kv_heads == 0) fail("decode schedule: the model has no layers or no KV heads");
  Builder builder(config, policy);
  builder.add(DecodeOp::embed, 0);
  const bool post_norms = config.architecture.post_norms;
  for (std::uint32_t l = 0; l < config.n_layers; ++l) {
    for (const DecodeOp op : {DecodeOp::qkv, DecodeOp::rope_kv, DecodeOp::attention_split, DecodeOp::attention_merge,
                              DecodeOp::output})
      builder.add(op, l);
    if (post_norms) builder.add(DecodeOp::post_attention, l);
    builder.add(DecodeOp::gate_up, l);
    builder.add(DecodeOp::down, l);
    if (post_norms) builder.add(DecodeOp::post_ffn, l);
  }
  builder.add(DecodeOp::logits, 0);
  builder.add(DecodeOp::sample, 0);
  return builder.take();
}

void validate(const DecodeSchedule& schedule, const model::ModelConfig& config, const DecodeSchedulePolicy& policy) {
  check_policy(policy);
  const auto& list = schedule.instructions;
  const std::size_t counters = schedule.signals.size();
  if (schedule.counter_ops.size() != counters) fail("decode schedule: {} counters but {} owners", counters,
                                                    schedule.counter_ops.size());
  std::vector<std::uint32_t> signalled(counters, 0);  // by the instructions so far
  // Per counter: the items' ranges, to check that they tile the op's work.
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> ranges(counters);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const DecodeInstruction& in = list[i];
    const auto where = [&] {
      return fmt::format("decode schedule item {} ({} of layer {})", i, name_of(in.op), in.layer);
    };
    if (in.done_counter >= counters) fail("{}: its counter {} does not exist", where(), in.done_counter);
    if (schedule.counter_ops[in.done_counter].op != in.op || schedule.counter_ops[in.done_counter].layer != in.layer)
      fail("{}: it signals another op's counter", where());
    if (in.wait_counter != no_counter) {
      if (in.wait_counter >= counters)
        fail("{}: it waits on counter {}, which does not exist", where(), in.wait_counter);
      if (in.wait_counter == in.done_counter) fail("{}: it waits on its own op", where());
      // Every signal it waits for must come from an earlier item, or a
      // block holding this item could wait on one no block has taken yet.
      if (signalled[in.wait_counter] != schedule.signals[in.wait_counter])
        fail("{}: it waits on {} of layer {}, whose items are not all before it", where(),
             name_of(schedule.counter_ops[in.wait_counter].op), schedule.counter_ops[in.wait_counter].layer);
      if (in.wait_count > schedule.signals[in.wait_counter])
        fail("{}: it waits for {} signals of a counter that gets {}", where(), in.wait_count,
             schedule.signals[in.wait_counter]);
    } else if (i != 0) {
      fail("{}: only the first item may wait on nothing", where());
    }
    if (in.count == 0) fail("{}: it has no work", where());
    ++signalled[in.done_counter];
    ranges[in.done_counter].emplace_back(in.first, in.count);
  }
  for (std::size_t c = 0; c < counters; ++c) {
    if (signalled[c] != schedule.signals[c])
      fail("decode schedule: counter {} is signalled {} times, not the {} it says", c, signalled[c],
           schedule.signals[c]);
    auto& r = ranges[c];
    std::sort(r.begin(), r.end());
    std::uint32_t next = 0;
    for (const auto& [first, count] : r) {
      if (first != next)
        fail("decode schedule: {} of layer {} covers its work with a gap or an overlap at {}",
             name_of(schedule.counter_ops[c].op), schedule.counter_ops[c].layer, next);
      next = first + count;
    }
    const std::uint32_t work = work_of(schedule.counter_ops[c].op, config, policy);
    if (next != work)
      fail("decode schedule: {} of layer {} covers {} of its {}", name_of(schedule.counter_ops[c].op),
           schedule.counter_ops[c].layer, next, work);
  }
}

}  // namespace pagoda::runtime
