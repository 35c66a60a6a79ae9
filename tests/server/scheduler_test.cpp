// The scheduler over a scripted backend: every step it asks for is recorded,
// and each slot "generates" the bytes of a script (the tiny vocabulary's ids
// 0..255 are the bytes), then an end-of-generation token.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

#include "scheduler.hpp"
#include "text/tiny_vocabularies.hpp"

namespace pagoda::server {

namespace {

using namespace std::chrono_literals;

class ScriptedBackend final : public StepBackend {
public:
  ScriptedBackend(std::size_t slots, std::uint32_t context, std::int32_t end_token)
      : cache_(slots), position_(slots, 0), context_(context), end_(end_token) {}

  std::string script = "hello world";  // what every sequence generates, then end_
  bool fail_next_step = false;

  struct Call {
    std::size_t slot;
    std::size_t tokens;
    bool restart;
  };
  std::vector<std::vector<Call>> steps;                      // every step's items
  std::vector<std::pair<std::size_t, std::size_t>> rewinds;  // (slot, keep)

  std::size_t slots() const override { return cache_.size(); }
  std::uint32_t context_size() const override { return context_; }
  std::span<const std::int32_t> cached(std::size_t slot) const override { return cache_[slot]; }
  void rewind(std::size_t slot, std::size_t keep) override {
    rewinds.emplace_back(slot, keep);
    cache_[slot].resize(keep);
  }
  void step(std::span<StepItem> items) override {
    if (fail_next_step) {
      fail_next_step = false;
      throw std::runtime_error("device lost");
    }
    auto& calls = steps.emplace_back();
    for (auto& item : items) {
      REQUIRE(cache_[item.slot].size() + item.tokens.size() <= context_);
      calls.push_back({item.slot, item.tokens.size(), item.restart_sampling != nullptr});
      cache_[item.slot].insert(cache_[item.slot].end(), item.tokens.begin(), item.tokens.end());
      if (item.restart_sampling) position_[item.slot] = 0;
      const auto k = position_[item.slot]++;
      item.next = k < script.size() ? static_cast<unsigned char>(script[k]) : end_;
    }
  }

private:
  std::vector<std::vector<std::int32_t>> cache_;
  std::vector<std::size_t> position_;
  std::uint32_t context_;
  std::int32_t end_;
};

struct Fixture {
  text::Tokenizer tokenizer{text::testing::tiny_bpe({})};
  std::int32_t end = *tokenizer.eos();
  ScriptedBackend backend;
  Scheduler scheduler;

  explicit Fixture(std::size_t slots = 2, std::uint32_t context = 256, SchedulerOptions options = {.max_queue = 4, .prefill_chunk = 4})
      : backend(slots, context, *tokenizer.eos()), scheduler(backend, tokenizer, options) {}

  std::shared_ptr<Job> submit(std::vector<std::int32_t> prompt, std::size_t max_tokens = 100,
                              std::vector<std::string> stop = {}, Clock::time_point deadline = Clock::now() + 1h) {
    auto job = scheduler.submit({.prompt = std::move(prompt), .max_tokens = max_tokens, .stop = std::move(stop)}, deadline);
    REQUIRE(job);
    return job;
  }
  // Steps until `job` ends (at most `limit` steps); its whole text and outcome.
  std::pair<std::string, Outcome> finish(const std::shared_ptr<Job>& job, int limit = 100) {
    std::string text;
    for (int i = 0; i < limit && !job->finished(); ++i) scheduler.step();
    auto update = job->wait(0ms);
    REQUIRE(update.end);
    return {update.text, *update.end};
  }
};

std::vector<std::int32_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }

}  // namespace

TEST_CASE("a request's text, finish reason and usage") {
  Fixture f;
  const auto job = f.submit(bytes("prompt"));
  const auto [text, outcome] = f.finish(job);
  CHECK(text == "hello world");
  CHECK(outcome.reason == FinishReason::stop);
  CHECK(outcome.usage.prompt_tokens == 6);
  CHECK(outcome.usage.completion_tokens == 11);  // the end token is not counted
  CHECK(outcome.usage.cached_tokens == 0);
  CHECK(f.scheduler.metrics().generated_tokens == 11);
  CHECK_FALSE(f.scheduler.step());  // idle again
}

TEST_CASE("max_tokens ends a request with length after exactly that many tokens") {
  Fixture f;
  const auto [text, outcome] = f.finish(f.submit(bytes("p"), 5));
  CHECK(text == "hello");
  CHECK(outcome.reason == FinishReason::length);
  CHECK(outcome.usage.completion_tokens == 5);
}

TEST_CASE("a stop string ends a request with stop, the text before it sent, the rest not") {
  Fixture f;
  const auto [text, outcome] = f.finish(f.submit(bytes("p"), 100, {"o w"}));
  CHECK(text == "hell");
  CHECK(outcome.reason == FinishReason::stop);
  CHECK(outcome.usage.completion_tokens == 7);  // up to the token that completed the stop string
}

TEST_CASE("a full context ends a request with length") {
  Fixture f(1, 10);
  const auto [text, outcome] = f.finish(f.submit(bytes("1234567")));
  CHECK(text == "hel");  // 7 + 3 = 10: the third token could not be run
  CHECK(outcome.reason == FinishReason::length);
}

TEST_CASE("a prompt runs in chunks, and sampling restarts on the chunk that completes it") {
  Fixture f(1);
  const auto job = f.submit(bytes("0123456789"), 2);
  f.finish(job);
  REQUIRE(f.backend.steps.size() == 4);  // 4 + 4 + 2 prompt tokens, then one decode step
  CHECK(f.backend.steps[0][0].tokens == 4);
  CHECK_FALSE(f.backend.steps[0][0].restart);
  CHECK(f.backend.steps[1][0].tokens == 4);
  CHECK(f.backend.steps[2][0].tokens == 2);
  CHECK(f.backend.steps[2][0].restart);
  CHECK(f.backend.steps[3][0].tokens == 1);
  CHECK_FALSE(f.backend.steps[3][0].restart);
}

TEST_CASE("a long prompt does not stall a stream: every step decodes the stream and runs one chunk of the prompt") {
  Fixture f(2);
  const auto stream = f.submit(bytes("s"), 100);
  f.scheduler.step();  // the stream's prompt; it decodes from the next step on
  const auto long_one = f.submit(std::vector<std::int32_t>(20, 'x'), 1);
  for (int i = 0; i < 5; ++i) {
    f.scheduler.step();
    const auto& items = f.backend.steps.back();
    REQUIRE(items.size() == 2);  // it joined at the next step
    for (const auto& item : items) CHECK(item.tokens == (item.slot == 0 ? 1u : 4u));
  }
  f.finish(long_one);
  CHECK_FALSE(stream->finished());
  const auto [text, outcome] = f.finish(stream);
  CHECK(text == "hello world");
}

TEST_CASE("a request reuses the longest cached prefix among the free slots, and runs only the rest") {
  Fixture f(2);
  const auto a = f.submit(bytes("system: be brief. user: one"), 3);
  const auto b = f.submit(bytes("something else entirely"), 3);
  f.finish(a);
  f.finish(b);
  // a's slot holds its prompt and 2 of its 3 answer tokens.
  const auto c = f.submit(bytes("system: be brief. user: two"), 3);
  const auto [text, outcome] = f.finish(c);
  CHECK(outcome.usage.cached_tokens == 24);  // "system: be brief. user: "
  CHECK(f.backend.rewinds.back() == std::pair<std::size_t, std::size_t>{0, 24});
  // The identical prompt again: all but its last token come from the cache.
  const auto d = f.finish(f.submit(bytes("system: be brief. user: two"), 3)).second;
  CHECK(d.usage.cached_tokens == 26);
  CHECK(f.scheduler.metrics().cached_prompt_tokens == 50);
}

TEST_CASE("a cancelled request frees its slot at the next step, and a queued one takes it") {
  Fixture f(1);
  const auto first = f.submit(bytes("a"));
  const auto second = f.submit(bytes("b"), 2);
  f.scheduler.step();
  f.scheduler.step();
  first->cancel();
  f.scheduler.step();
  const auto update = first->wait(0ms);
  REQUIRE(update.end);
  CHECK(update.end->reason == FinishReason::cancelled);
  CHECK(f.backend.steps.back().size() == 1);  // second's prompt ran in the same step
  CHECK(f.finish(second).first == "he");
  CHECK(f.scheduler.metrics().requests_cancelled == 1);
}

TEST_CASE("the queue holds max_queue requests; beyond, submit refuses") {
  Fixture f(1, 256, {.max_queue = 2, .prefill_chunk = 4});
  CHECK(f.scheduler.submit({.prompt = bytes("a"), .max_tokens = 1}, Clock::now() + 1h));
  CHECK(f.scheduler.submit({.prompt = bytes("b"), .max_tokens = 1}, Clock::now() + 1h));
  CHECK_FALSE(f.scheduler.submit({.prompt = bytes("c"), .max_tokens = 1}, Clock::now() + 1h));
  CHECK(f.scheduler.metrics().queue_depth == 2);
  CHECK(f.scheduler.metrics().requests_rejected == 1);
  f.scheduler.step();  // one admitted: room again
  CHECK(f.scheduler.submit({.prompt = bytes("c"), .max_tokens = 1}, Clock::now() + 1h));
}

TEST_CASE("a request past its deadline ends with timeout, running or queued") {
  Fixture f(1);
  const auto running = f.submit(bytes("a"), 100, {}, Clock::now() + 50ms);
  const auto queued = f.submit(bytes("b"), 100, {}, Clock::now() + 50ms);
  f.scheduler.step();
  std::this_thread::sleep_for(60ms);
  f.scheduler.step();
  CHECK(running->wait(0ms).end->reason == FinishReason::timeout);
  CHECK(queued->wait(0ms).end->reason == FinishReason::timeout);
  CHECK(f.scheduler.metrics().requests_timed_out == 2);
}

TEST_CASE("an engine failure ends the requests of that step with error and empties their slots") {
  Fixture f(2);
  const auto a = f.submit(bytes("a"));
  const auto b = f.submit(bytes("b"));
  f.backend.fail_next_step = true;
  f.scheduler.step();
  CHECK(a->wait(0ms).end->error == "the engine failed: device lost");
  CHECK(b->wait(0ms).end->reason == FinishReason::error);
  CHECK(f.backend.cached(0).empty());
  CHECK(f.backend.cached(1).empty());
  CHECK(f.finish(f.submit(bytes("c"), 2)).first == "he");  // the server goes on
}

TEST_CASE("shutdown ends every request, and later ones are refused") {
  Fixture f(1);
  const auto running = f.submit(bytes("a"));
  const auto queued = f.submit(bytes("b"));
  f.scheduler.step();
  f.scheduler.shutdown();
  CHECK(running->wait(0ms).end->error == "the server is shutting down");
  CHECK(queued->wait(0ms).end->error == "the server is shutting down");
  CHECK_FALSE(f.scheduler.submit({.prompt = bytes("c"), .max_tokens = 1}, Clock::now() + 1h));
}

TEST_CASE("the scheduler thread serves requests submitted from other threads") {
  Fixture f(2);
  std::jthread thread([&](std::stop_token stop) { f.scheduler.run(stop); });
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < 4; ++i) jobs.push_back(f.submit(bytes(std::to_string(i)), 5));
  for (const auto& job : jobs) {
    std::string text;
    for (;;) {
      auto update = job->wait(1s);
      text += update.text;
      if (update.end) break;
    }
    CHECK(text == "hello");
  }
}

TEST_CASE("a rebased seed replays the seed's draws from the sampler's current step") {
  for (const std::uint64_t seed : {0ull, 42ull, ~0ull})
    for (const std::uint64_t draws : {0ull, 1ull, 17ull, 100000ull})
      for (std::uint64_t j = 0; j < 8; ++j)
        CHECK(runtime::sampling_uniform(rebased_seed(seed, draws), draws + j) == runtime::sampling_uniform(seed, j));
}

TEST_CASE("common_prefix counts the tokens two sequences share from the start") {
  const std::vector<std::int32_t> a{1, 2, 3, 4}, b{1, 2, 9}, c{};
  CHECK(common_prefix(a, b) == 2);
  CHECK(common_prefix(a, a) == 4);
  CHECK(common_prefix(a, c) == 0);
}

}  // namespace pagoda::server
