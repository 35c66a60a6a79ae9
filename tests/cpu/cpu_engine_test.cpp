// The CPU engine's sequences (runtime/sequence_step.hpp): N KV caches and
// samplers over one copy of the weights, each sequence sampling exactly what
// a single-sequence engine fed the same tokens samples; step()'s refusals
// run nothing; the single-sequence calls are sequence 0's.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/cpu/cpu_engine.hpp"
#include "support/tiny_llama.hpp"

using namespace pagoda;
using runtime::SequenceStep;

namespace {

constexpr std::uint32_t context = 32;

// Seeded, with every filter and a penalty on: the token drawn depends on the
// logits, the seed, the sampler's step and the history alike.
runtime::SamplingParams sampling_with_seed(std::uint64_t seed) {
  return {.temperature = 1.3f, .top_k = 0, .top_p = 0.98f, .min_p = 0.01f, .repeat_penalty = 1.2f,
          .penalty_last_n = 16, .seed = seed};
}

runtime::EngineOptions options_with(std::uint32_t sequences, std::uint64_t seed = 1) {
  return {.context_size = context, .sequences = sequences, .sampling = sampling_with_seed(seed), .cpu_threads = 2};
}

struct TinyModel {
  std::vector<std::byte> bytes = test::tiny_llama_writer({}).to_bytes();
  gguf::File file = gguf::File::parse(bytes, "tiny");
};

std::vector<std::uint32_t> positions_of(const cpu::CpuEngine& engine) {
  std::vector<std::uint32_t> positions;
  for (std::uint32_t s = 0; s < engine.sequences(); ++s) positions.push_back(engine.sequence_position(s));
  return positions;
}

}  // namespace

TEST_CASE("a step over three sequences samples what three single-sequence engines fed the same tokens sample") {
  const TinyModel tiny;
  cpu::CpuEngine several(tiny.file, options_with(3, 100));
  REQUIRE(several.sequences() == 3);
  std::deque<cpu::CpuEngine> alone;  // a deque: the engines do not move
  for (std::uint32_t s = 0; s < 3; ++s) {
    alone.emplace_back(tiny.file, options_with(1, 100 + s));
    if (s > 0) several.set_sequence_sampling(s, sampling_with_seed(100 + s));
  }

  // First: prompts on sequences 2 and 1 (items in any order), sequence 0 idle.
  const std::vector<std::int32_t> prompt1{5, 17, 99}, prompt2{3, 3}, prompt0{1, 2, 3, 4, 5};
  std::array<SequenceStep, 2> first{{{.sequence = 2, .tokens = prompt2}, {.sequence = 1, .tokens = prompt1}}};
  several.step(first);
  std::array<std::int32_t, 3> next{};
  next[1] = alone[1].prefill(prompt1);
  next[2] = alone[2].prefill(prompt2);
  CHECK(first[0].next == next[2]);
  CHECK(first[1].next == next[1]);
  CHECK(positions_of(several) == std::vector<std::uint32_t>{0, 3, 2});

  // Then a prompt on sequence 0 beside single tokens on the others, and
  // decode steps over all three, each feeding back what it sampled.
  std::array<SequenceStep, 3> mixed{{{.sequence = 1, .tokens = std::span(&next[1], 1)},
                                     {.sequence = 0, .tokens = prompt0},
                                     {.sequence = 2, .tokens = std::span(&next[2], 1)}}};
  several.step(mixed);
  const std::array<std::int32_t, 3> expected{alone[0].prefill(prompt0), alone[1].decode(next[1]),
                                             alone[2].decode(next[2])};
  for (const auto& item : mixed) CHECK(item.next == expected[item.sequence]);
  CHECK(several.logits() == alone[0].logits());

  next = expected;
  for (int round = 0; round < 8; ++round) {
    std::array<SequenceStep, 3> decode;
    for (std::uint32_t s = 0; s < 3; ++s) decode[s] = {.sequence = s, .tokens = std::span(&next[s], 1)};
    several.step(decode);
    for (std::uint32_t s = 0; s < 3; ++s) {
      next[s] = alone[s].decode(next[s]);
      CHECK(decode[s].next == next[s]);
    }
    CHECK(several.logits() == alone[0].logits());
  }
  for (std::uint32_t s = 0; s < 3; ++s) CHECK(several.sequence_position(s) == alone[s].position());
}

TEST_CASE("the single-sequence calls are sequence 0's") {
  const TinyModel tiny;
  cpu::CpuEngine several(tiny.file, options_with(2));
  cpu::CpuEngine alone(tiny.file, options_with(1));
  const std::vector<std::int32_t> prompt{7, 8, 9};
  CHECK(several.prefill(prompt) == alone.prefill(prompt));
  CHECK(several.position() == 3);
  CHECK(several.sequence_position(0) == 3);
  CHECK(several.sequence_position(1) == 0);
  CHECK(several.decode(11) == alone.decode(11));
  several.rewind(1);
  alone.rewind(1);
  CHECK(several.sequence_position(0) == 1);
  CHECK(several.forward_all_logits(prompt) == alone.forward_all_logits(prompt));
  CHECK(several.logits() == alone.logits());
  CHECK(several.sequence_position(1) == 0);
}

TEST_CASE("rewind_sequence and set_sequence_sampling change their own sequence only") {
  const TinyModel tiny;
  cpu::CpuEngine several(tiny.file, options_with(2, 7));
  several.set_sequence_sampling(1, sampling_with_seed(8));
  cpu::CpuEngine alone0(tiny.file, options_with(1, 7)), alone1(tiny.file, options_with(1, 8));

  const std::vector<std::int32_t> prompt0{4, 40, 44, 4}, prompt1{9, 90, 99};
  std::array<SequenceStep, 2> prompts{{{.sequence = 0, .tokens = prompt0}, {.sequence = 1, .tokens = prompt1}}};
  several.step(prompts);
  std::array<std::int32_t, 2> next{alone0.prefill(prompt0), alone1.prefill(prompt1)};
  CHECK(prompts[0].next == next[0]);
  CHECK(prompts[1].next == next[1]);

  // Sequence 1 forgets its last prompt token and becomes greedy; sequence 0 goes on as before.
  several.rewind_sequence(1, 2);
  alone1.rewind(2);
  CHECK(several.sequence_position(0) == 4);
  CHECK(several.sequence_position(1) == 2);
  several.set_sequence_sampling(1, {.temperature = 0.0f});
  alone1.set_sampling({.temperature = 0.0f});

  for (int round = 0; round < 6; ++round) {
    std::array<SequenceStep, 2> decode{{{.sequence = 0, .tokens = std::span(&next[0], 1)},
                                        {.sequence = 1, .tokens = std::span(&next[1], 1)}}};
    several.step(decode);
    next = {alone0.decode(next[0]), alone1.decode(next[1])};
    CHECK(decode[0].next == next[0]);
    CHECK(decode[1].next == next[1]);
  }
  CHECK(several.logits() == alone0.logits());
  CHECK(positions_of(several) == std::vector<std::uint32_t>{10, 8});
}

TEST_CASE("set_sequence_sampling keeps the sequence's sampler step, as set_sampling does") {
  const TinyModel tiny;
  cpu::CpuEngine several(tiny.file, options_with(2, 3));
  const std::vector<std::int32_t> prompt{12, 21, 33};
  std::array<SequenceStep, 1> item{{{.sequence = 1, .tokens = prompt}}};
  several.step(item);
  // The same seed again, the same prompt replayed: the draw is the sampler's
  // second (step 1), not a fresh stream's first.
  several.set_sequence_sampling(1, sampling_with_seed(3));
  several.rewind_sequence(1, 0);
  several.step(item);

  cpu::ReferenceModel model(tiny.file, context, 2);
  const auto logits = model.forward(prompt);
  cpu::Sampler sampler(model.config().vocab_size, sampling_with_seed(3));
  const std::int32_t first_draw = sampler.sample(logits, prompt);
  const std::int32_t second_draw = sampler.sample(logits, prompt);
  REQUIRE(first_draw != second_draw);  // so that the check below can tell them apart
  CHECK(item[0].next == second_draw);
}

TEST_CASE("a step refuses what it cannot run before running anything") {
  const TinyModel tiny;
  cpu::CpuEngine engine(tiny.file, options_with(3));
  const std::vector<std::int32_t> two{1, 2}, none{};
  std::array<SequenceStep, 1> warm{{{.sequence = 2, .tokens = two}}};
  engine.step(warm);
  const std::vector<std::uint32_t> before{0, 0, 2};

  const auto refused = [&](std::vector<SequenceStep> items, const char* because) {
    CHECK_THROWS_WITH_AS(engine.step(items), doctest::Contains(because), Error);
    CHECK(positions_of(engine) == before);
    for (const auto& item : items) CHECK(item.next == -1);
  };
  SUBCASE("a sequence named twice") {
    refused({{.sequence = 0, .tokens = two}, {.sequence = 1, .tokens = two}, {.sequence = 0, .tokens = two}},
            "sequence 0 appears twice in one step");
  }
  SUBCASE("a sequence the engine does not hold") {
    refused({{.sequence = 0, .tokens = two}, {.sequence = 3, .tokens = two}},
            "sequence 3 does not exist: the engine holds 3 sequences");
  }
  SUBCASE("an item without tokens") {
    refused({{.sequence = 1, .tokens = two}, {.sequence = 0, .tokens = none}}, "sequence 0: forward needs at least one token");
  }
  SUBCASE("a token outside the vocabulary") {
    const std::vector<std::int32_t> bad{3, 128};
    refused({{.sequence = 0, .tokens = two}, {.sequence = 1, .tokens = bad}}, "sequence 1: token id 128 is outside");
  }
  SUBCASE("a full context for any item") {
    const std::vector<std::int32_t> long_prompt(context - 1, 5);
    refused({{.sequence = 0, .tokens = long_prompt}, {.sequence = 2, .tokens = long_prompt}},
            "sequence 2: the context is full: 2 cached tokens + 31 new exceed the context size of 32");
  }
  // An empty step runs nothing and is no error.
  CHECK_NOTHROW(engine.step({}));
}

TEST_CASE("the per-sequence calls refuse a sequence the engine does not hold") {
  const TinyModel tiny;
  cpu::CpuEngine engine(tiny.file, options_with(2));
  CHECK_THROWS_WITH_AS((void)engine.sequence_position(2), doctest::Contains("sequence 2 does not exist"), Error);
  CHECK_THROWS_AS(engine.rewind_sequence(2, 0), Error);
  CHECK_THROWS_AS(engine.set_sequence_sampling(5, {}), Error);
  CHECK_THROWS_WITH_AS(engine.rewind_sequence(1, 1), doctest::Contains("sequence 1: cannot rewind to position 1"),
                       Error);
}

TEST_CASE("an engine of no sequences is refused at construction") {
  const TinyModel tiny;
  CHECK_THROWS_WITH_AS(cpu::CpuEngine(tiny.file, options_with(0)),
                       doctest::Contains("at least one sequence (EngineOptions::sequences is 0)"), Error);
}
