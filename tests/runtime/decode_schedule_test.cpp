// runtime::DecodeSchedule, the instruction list of a persistent decode step:
// its items come in dependency order and tile every op's work exactly, and
// blocks that take items in list order, each waiting on the counters the
// list names, finish every step whatever the grid, one block included (the
// argument the header makes for why the GPU kernel cannot deadlock), here
// with CPU threads as the blocks and random delays.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/runtime/decode_schedule.hpp"

using namespace pagoda;
using runtime::DecodeOp;
using runtime::DecodeSchedule;

namespace {

// The shape facts the schedule reads; nothing else of a config.
struct Shape {
  std::uint32_t layers, d_model, heads, kv_heads, head_dim, ffn, vocab;
  bool post_norms = false;
};

model::ModelConfig config_of(const Shape& shape) {
  model::ModelConfig c;
  c.architecture.post_norms = shape.post_norms;
  c.n_layers = shape.layers;
  c.d_model = shape.d_model;
  c.n_heads = shape.heads;
  c.n_kv_heads = shape.kv_heads;
  c.head_dim = shape.head_dim;
  c.d_ffn = shape.ffn;
  c.vocab_size = shape.vocab;
  c.layers.resize(c.n_layers);
  return c;
}

model::ModelConfig llama_3_8b() { return config_of({32, 4096, 32, 8, 128, 14336, 128256}); }

// Post-norms, an odd vocabulary, fewer rows than an item.
model::ModelConfig gemma_like() { return config_of({3, 640, 4, 1, 256, 2048, 262145, true}); }

// Blocks as threads: each takes the next item (one atomic ticket), waits until
// the counter it names has its count for step `step`, "runs" it, then adds
// one to its own op's counter; `steps` tokens in a row, counters never reset.
// Records, per item and step, whether every item of the op it read was done.
struct Simulation {
  const DecodeSchedule& schedule;
  std::vector<std::atomic<std::uint32_t>> counters;
  std::atomic<bool> order_kept{true};

  explicit Simulation(const DecodeSchedule& s) : schedule(s), counters(s.signals.size()) {
    for (auto& c : counters) c = 0;
  }

  // lookahead: the tickets a block holds beyond the item it runs. 0: it
  // takes the next after the item; 1: it takes the next as the item starts;
  // 2: it starts holding two and takes a third as each item starts, as
  // kernels::persistent_decode does (the next item's weights are copied
  // into shared memory meanwhile).
  void run(unsigned blocks, unsigned steps, std::uint32_t seed, unsigned lookahead = 0) {
    for (unsigned step = 0; step < steps; ++step) {
      std::atomic<std::size_t> ticket{0};
      std::vector<std::thread> grid;
      for (unsigned b = 0; b < blocks; ++b)
        grid.emplace_back([&, b] {
          std::mt19937 rng(seed + 977 * b + 31 * step);
          std::deque<std::size_t> held{ticket++};
          for (unsigned k = 1; k < lookahead; ++k) held.push_back(ticket++);
          while (held.front() < schedule.instructions.size()) {
            const std::size_t i = held.front();
            held.pop_front();
            if (lookahead > 0) held.push_back(ticket++);
            const auto& in = schedule.instructions[i];
            if (in.wait_counter != runtime::no_counter) {
              const std::uint32_t target = step * schedule.signals[in.wait_counter] + in.wait_count;
              while (counters[in.wait_counter].load(std::memory_order_acquire) < target) std::this_thread::yield();
            }
            // Every item of the op it reads is done: that op's counter is complete for this step.
            if (in.wait_counter != runtime::no_counter && counters[in.wait_counter].load(std::memory_order_acquire) <
                                                              (step + 1) * schedule.signals[in.wait_counter])
              order_kept = false;
            if (rng() % 8 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
            counters[in.done_counter].fetch_add(1, std::memory_order_release);
            if (lookahead == 0) held.push_back(ticket++);
          }
        });
      for (auto& t : grid) t.join();
    }
  }
};

}  // namespace

TEST_CASE("a Llama-3-8B step: embed, then per layer q/k/v, RoPE and the cache, attention splits and merges, the "
          "output, gate and up, down; then the logits and the draw, each op cut into items") {
  const auto config = llama_3_8b();
  const runtime::DecodeSchedulePolicy policy{.gemv_rows = 64, .attention_splits = 8};
  const DecodeSchedule s = runtime::build_decode_schedule(config, policy);
  CHECK_NOTHROW(runtime::validate(s, config, policy));
  CHECK(s.signals.size() == 1 + 32 * 7 + 2);
  CHECK(s.signals[s.counter_of(DecodeOp::qkv, 5)] == (4096 + 2 * 1024) / 64);
  CHECK(s.signals[s.counter_of(DecodeOp::gate_up, 0)] == 14336 / 64);
  CHECK(s.signals[s.counter_of(DecodeOp::attention_split, 31)] == 8 * 8);
  CHECK(s.signals[s.counter_of(DecodeOp::logits, 0)] == 128256 / 64);
  CHECK(s.counter_of(DecodeOp::post_attention, 0) == runtime::no_counter);
  // Layer 1's q/k/v read layer 0's down projection, all of it.
  CHECK(s.instructions.front().op == DecodeOp::embed);
  CHECK(s.instructions.back().op == DecodeOp::sample);
  for (const auto& in : s.instructions)
    if (in.op == DecodeOp::qkv && in.layer == 1) {
      CHECK(in.wait_counter == s.counter_of(DecodeOp::down, 0));
      CHECK(in.wait_count == s.signals[s.counter_of(DecodeOp::down, 0)]);
    }
  MESSAGE(s.describe());
}

TEST_CASE("post-norm architectures get the norm-and-add ops; a ragged last item covers what is left") {
  const auto config = gemma_like();
  const runtime::DecodeSchedulePolicy policy{.gemv_rows = 96, .attention_splits = 3};
  const DecodeSchedule s = runtime::build_decode_schedule(config, policy);
  CHECK_NOTHROW(runtime::validate(s, config, policy));
  CHECK(s.counter_of(DecodeOp::post_attention, 2) != runtime::no_counter);
  CHECK(s.counter_of(DecodeOp::post_ffn, 2) != runtime::no_counter);
  CHECK(s.signals[s.counter_of(DecodeOp::output, 0)] == 7);  // 640 rows: 6 x 96 + 64
  std::uint32_t last_rows = 0;
  for (const auto& in : s.instructions)
    if (in.op == DecodeOp::logits) last_rows = in.count;
  CHECK(last_rows == 262145 % 96);
}

TEST_CASE("validate refuses an item that waits on work after it, a gap, an overlap and a bad policy") {
  const auto config = gemma_like();
  const DecodeSchedule good = runtime::build_decode_schedule(config);
  {
    DecodeSchedule bad = good;  // the first q/k/v item reads the draw, which comes last
    bad.instructions[1].wait_counter = bad.counter_of(DecodeOp::sample, 0);
    bad.instructions[1].wait_count = 1;
    CHECK_THROWS_WITH_AS(runtime::validate(bad, config), doctest::Contains("not all before it"), Error);
  }
  {
    DecodeSchedule bad = good;
    for (auto& in : bad.instructions)
      if (in.op == DecodeOp::down && in.first == 0) in.count -= 1;  // a gap after each layer's first rows
    CHECK_THROWS_WITH_AS(runtime::validate(bad, config), doctest::Contains("gap or an overlap"), Error);
  }
  {
    DecodeSchedule bad = good;
    bad.instructions.push_back(bad.instructions.back());  // the draw twice
    CHECK_THROWS_AS(runtime::validate(bad, config), Error);
  }
  CHECK_THROWS_AS((void)runtime::build_decode_schedule(config, {.gemv_rows = 0}), Error);
  runtime::DecodeSchedulePolicy rows_for_a_norm;
  rows_for_a_norm.rows_by_op[static_cast<std::size_t>(DecodeOp::rope_kv)] = 8;
  CHECK_THROWS_WITH_AS((void)runtime::build_decode_schedule(config, rows_for_a_norm),
                       doctest::Contains("rope_kv is not a product"), Error);
}

TEST_CASE("a product cut finer than the others (the persistent step fitting its items to a shared-memory stage) "
          "covers its work with items of its own size") {
  const auto config = llama_3_8b();
  runtime::DecodeSchedulePolicy policy{.gemv_rows = 32, .attention_splits = 8};
  policy.rows_by_op[static_cast<std::size_t>(DecodeOp::down)] = 8;
  policy.rows_by_op[static_cast<std::size_t>(DecodeOp::gate_up)] = 16;
  const DecodeSchedule s = runtime::build_decode_schedule(config, policy);
  CHECK_NOTHROW(runtime::validate(s, config, policy));
  CHECK(s.signals[s.counter_of(DecodeOp::down, 3)] == 4096 / 8);
  CHECK(s.signals[s.counter_of(DecodeOp::gate_up, 3)] == 14336 / 16);
  CHECK(s.signals[s.counter_of(DecodeOp::output, 3)] == 4096 / 32);
  CHECK(s.signals[s.counter_of(DecodeOp::qkv, 3)] == (4096 + 2 * 1024) / 32);
  // Layer 4's q/k/v wait for all 512 of layer 3's down items.
  for (const auto& in : s.instructions)
    if (in.op == DecodeOp::qkv && in.layer == 4) CHECK(in.wait_count == 512);
}

TEST_CASE("blocks taking items in list order finish every step, whatever their number, one block alone included") {
  const auto config = gemma_like();
  const DecodeSchedule s = runtime::build_decode_schedule(config, {.gemv_rows = 128, .attention_splits = 2});
  for (const unsigned blocks : {1u, 3u, 16u}) {
    CAPTURE(blocks);
    Simulation simulation(s);
    simulation.run(blocks, 3, 7 * blocks);
    CHECK(simulation.order_kept);
    for (std::size_t c = 0; c < s.signals.size(); ++c) CHECK(simulation.counters[c] == 3 * s.signals[c]);
  }
}

TEST_CASE("blocks that hold one or two tickets beyond the item they run (the kernel's lookahead) finish every step "
          "too") {
  const DecodeSchedule s = runtime::build_decode_schedule(gemma_like(), {.gemv_rows = 128, .attention_splits = 2});
  for (const unsigned lookahead : {1u, 2u})
  for (const unsigned blocks : {1u, 2u, 16u}) {
    CAPTURE(lookahead);
    CAPTURE(blocks);
    Simulation simulation(s);
    simulation.run(blocks, 3, 11 * blocks + lookahead, lookahead);
    CHECK(simulation.order_kept);
    for (std::size_t c = 0; c < s.signals.size(); ++c) CHECK(simulation.counters[c] == 3 * s.signals[c]);
  }
}

TEST_CASE("the persistent step's policy cuts every named shape into whole warp tasks and a valid list") {
  for (const model::SyntheticShape& shape : model::named_shapes()) {
    CAPTURE(shape.name);
    const model::ModelConfig c = config_of({shape.n_layers, shape.d_model, shape.n_heads, shape.n_kv_heads,
                                            shape.head_dim != 0 ? shape.head_dim : shape.d_model / shape.n_heads,
                                            shape.d_ffn, shape.vocab, shape.is_gemma3()});
    const runtime::DecodeSchedulePolicy policy = runtime::persistent_schedule_policy(c);
    CHECK(policy.gemv_rows % 8 == 0);  // whole groups of field streams: one contiguous prefetch, whole warp tasks
    CHECK(policy.attention_splits <= 256);
    const DecodeSchedule s = runtime::build_decode_schedule(c, policy);
    CHECK_NOTHROW(runtime::validate(s, c, policy));
  }
}
