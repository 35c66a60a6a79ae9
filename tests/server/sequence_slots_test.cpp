// SequenceSlots, the server's backend over one pagoda::Model: N slots are the
// N sequences of one engine (the weights once), and each slot generates
// exactly what a lone model fed the same request generates, whatever the
// other slots run beside it, however its prompt is chunked, and whatever the
// slot ran before (the rebased seed). A tiny synthetic model on the CPU.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "pagoda/core/error.hpp"
#include "scheduler.hpp"
#include "sequence_slots.hpp"
#include "synth/synth_support.hpp"

namespace pagoda::server {

namespace {

constexpr std::uint32_t context = 64;

// A tiny llama with a tokenizer section, written once for the whole suite.
const std::filesystem::path& tiny_model_path() {
  static const test::ScratchDir dir;
  static const std::filesystem::path path = [] {
    auto file = dir.path() / "tiny.gguf";
    (void)model::write_synthetic(test::spec_of(test::tiny_llama_shape(), model::QuantRecipe::uniform(gguf::TensorType::Q8_0)),
                                 file);
    return file;
  }();
  return path;
}

Model load_tiny(std::uint32_t sequences) {
  return load(tiny_model_path(),
              {.cpu = true, .engine = {.context_size = context, .sequences = sequences, .cpu_threads = 2}});
}

runtime::SamplingParams seeded(std::uint64_t seed) {
  return {.temperature = 1.2f, .top_k = 0, .top_p = 0.98f, .min_p = 0.0f, .repeat_penalty = 1.1f, .seed = seed};
}

// What a model of one sequence, fresh, generates for `prompt`: `count` tokens.
std::vector<std::int32_t> alone(std::span<const std::int32_t> prompt, const runtime::SamplingParams& sampling,
                                std::size_t count) {
  auto model = load_tiny(1);
  auto& engine = model.engine();
  engine.set_sampling(sampling);
  std::vector<std::int32_t> tokens{engine.prefill(prompt)};
  while (tokens.size() < count) tokens.push_back(engine.decode(tokens.back()));
  return tokens;
}

// One request on one slot, driven as the scheduler drives it: the prompt in
// chunks, the sampling restarted on the last chunk, then one token a step.
struct SlotRun {
  std::size_t slot = 0;
  std::vector<std::int32_t> prompt;
  runtime::SamplingParams sampling;
  std::size_t joins_at = 0;  // the step it starts on
  std::size_t prefilled = 0;
  std::vector<std::int32_t> generated;
};

// Steps every run together until each has generated `count` tokens.
void run_together(StepBackend& slots, std::vector<SlotRun>& runs, std::size_t count, std::size_t chunk) {
  for (std::size_t step = 0;; ++step) {
    std::vector<StepItem> items;
    std::vector<SlotRun*> owners;
    for (auto& run : runs) {
      if (step < run.joins_at || run.generated.size() == count) continue;
      if (run.prefilled < run.prompt.size()) {
        const std::size_t n = std::min(chunk, run.prompt.size() - run.prefilled);
        const bool last_chunk = run.prefilled + n == run.prompt.size();
        items.push_back({.slot = run.slot,
                         .tokens = std::span(run.prompt).subspan(run.prefilled, n),
                         .restart_sampling = last_chunk ? &run.sampling : nullptr});
      } else {
        items.push_back({.slot = run.slot, .tokens = std::span(&run.generated.back(), 1)});
      }
      owners.push_back(&run);
    }
    if (items.empty() && std::ranges::all_of(runs, [&](const SlotRun& run) { return run.generated.size() == count; }))
      return;
    slots.step(items);
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto& run = *owners[i];
      if (run.prefilled < run.prompt.size()) {
        run.prefilled += items[i].tokens.size();
        if (run.prefilled < run.prompt.size()) continue;  // a chunk's sample is not the request's
      }
      run.generated.push_back(items[i].next);
    }
  }
}

}  // namespace

TEST_CASE("N slots are the N sequences of one model: the weights once, a KV cache per slot") {
  SequenceSlots slots(load_tiny(3));
  CHECK(slots.slots() == 3);
  CHECK(slots.model().engine().sequences() == 3);
  CHECK(slots.context_size() == context);
  CHECK(slots.model().placement().find("3 sequences") != std::string::npos);
  for (std::size_t slot = 0; slot < 3; ++slot) CHECK(slots.cached(slot).empty());

  const std::vector<std::int32_t> prompt{5, 6, 7};
  std::vector<StepItem> items{{.slot = 2, .tokens = prompt}};
  slots.step(items);
  CHECK(slots.cached(2).size() == 3);
  CHECK(slots.model().engine().sequence_position(2) == 3);
  CHECK(slots.cached(0).empty());
  CHECK(slots.model().engine().sequence_position(0) == 0);
  slots.rewind(2, 1);
  CHECK(std::ranges::equal(slots.cached(2), std::vector<std::int32_t>{5}));
  CHECK(slots.model().engine().sequence_position(2) == 1);
  CHECK_THROWS_AS(slots.rewind(2, 2), Error);
}

TEST_CASE("each slot generates what a lone model generates, beside whatever the other slots run") {
  SequenceSlots slots(load_tiny(3));
  std::vector<SlotRun> runs{
      {.slot = 0, .prompt = {1, 2, 3, 4, 5, 6, 7}, .sampling = seeded(11)},
      {.slot = 1, .prompt = {9, 8, 7}, .sampling = seeded(12), .joins_at = 3},  // joins while the others decode
      {.slot = 2, .prompt = {40, 41, 42, 43, 44}, .sampling = {.temperature = 0.0f}},
  };
  run_together(slots, runs, 10, /*chunk=*/3);  // prompts in chunks of 3: samples drawn and thrown away
  for (const auto& run : runs) {
    CAPTURE(run.slot);
    CHECK(run.generated == alone(run.prompt, run.sampling, 10));
    CHECK(slots.cached(run.slot).size() == run.prompt.size() + 9);  // the last token sampled is not run yet
  }
}

TEST_CASE("a seed gives a fresh sequence's draws on a slot that ran a request before") {
  SequenceSlots slots(load_tiny(2));
  std::vector<SlotRun> first{{.slot = 1, .prompt = {3, 1, 4, 1, 5}, .sampling = seeded(7)}};
  run_together(slots, first, 6, 2);

  slots.rewind(1, 0);
  std::vector<SlotRun> second{{.slot = 1, .prompt = {2, 7, 1, 8}, .sampling = seeded(99)}};
  run_together(slots, second, 8, 3);
  CHECK(second.front().generated == alone(second.front().prompt, seeded(99), 8));
}

TEST_CASE("a step the engine refuses leaves every slot's cache as cached() says") {
  SequenceSlots slots(load_tiny(2));
  const std::vector<std::int32_t> prompt{5, 6, 7}, too_long(context + 1, 1);
  std::vector<StepItem> first{{.slot = 0, .tokens = prompt}};
  slots.step(first);
  std::vector<StepItem> refused{{.slot = 0, .tokens = prompt}, {.slot = 1, .tokens = too_long}};
  CHECK_THROWS_WITH_AS(slots.step(refused), doctest::Contains("the context is full"), Error);
  CHECK(slots.cached(0).size() == 3);
  CHECK(slots.model().engine().sequence_position(0) == 3);
  CHECK(slots.cached(1).empty());
  CHECK(slots.model().engine().sequence_position(1) == 0);
}

TEST_CASE("the scheduler over SequenceSlots: two slots answer a request as one slot does") {
  const std::vector<std::int32_t> prompt{10, 20, 30, 40, 50, 60};
  const auto text_on = [&](std::uint32_t slot_count, std::size_t requests) {
    SequenceSlots slots(load_tiny(slot_count));
    Scheduler scheduler(slots, slots.model().tokenizer(), {.max_queue = 4, .prefill_chunk = 4});
    std::vector<std::shared_ptr<Job>> jobs;
    for (std::size_t i = 0; i < requests; ++i)
      jobs.push_back(scheduler.submit({.prompt = prompt, .max_tokens = 12, .stop = {}, .sampling = seeded(5)},
                                      Clock::now() + std::chrono::hours(1)));
    for (int step = 0; step < 100 && scheduler.step();) ++step;
    std::vector<std::string> texts;
    for (const auto& job : jobs) {
      auto update = job->wait(std::chrono::milliseconds(0));
      REQUIRE(update.end);
      CHECK(update.end->reason != FinishReason::error);
      texts.push_back(update.text);
    }
    return texts;
  };
  const auto one = text_on(1, 1);
  REQUIRE_FALSE(one[0].empty());
  const auto two = text_on(2, 2);  // both requests decode side by side, one per slot
  CHECK(two[0] == one[0]);
  CHECK(two[1] == one[0]);
}

}  // namespace pagoda::server
