// The CPU oracle's forward pass on a tiny random llama: internal consistency
// (a prompt at once equals the same prompt token by token; the KV cache
// rewinds exactly) and its refusals (a full context, a bad token id).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <deque>

#include "pagoda/cpu/reference_model.hpp"
#include "support/tiny_llama.hpp"

using namespace pagoda;

namespace {

double max_abs_difference(std::span<const float> a, std::span<const float> b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

}  // namespace

TEST_CASE("a prompt run at once gives the same logits as the same prompt token by token") {
  for (bool tied : {false, true}) {
    const auto bytes = test::tiny_llama_writer({.tied_output = tied}).to_bytes();
    const auto file = gguf::File::parse(bytes, "tiny");
    const std::vector<std::int32_t> prompt{5, 17, 99, 3, 3, 127, 0, 64};

    cpu::ReferenceModel batched(file, 32, 2);
    const auto all = batched.forward(prompt, /*all_logits=*/true);
    const std::size_t vocab = batched.config().vocab_size;
    REQUIRE(all.size() == prompt.size() * vocab);
    REQUIRE(std::all_of(all.begin(), all.end(), [](float v) { return std::isfinite(v); }));
    CHECK(std::any_of(all.begin(), all.end(), [](float v) { return v != 0.0f; }));

    cpu::ReferenceModel stepwise(file, 32, 3);
    for (std::size_t t = 0; t < prompt.size(); ++t) {
      const auto logits = stepwise.forward(std::span(prompt).subspan(t, 1));
      CHECK(max_abs_difference(logits, std::span(all).subspan(t * vocab, vocab)) < 1e-4);
    }
    CHECK(stepwise.position() == prompt.size());
    CHECK(batched.config().tied_output == tied);
  }
}

TEST_CASE("rewinding the KV cache and replaying gives identical logits") {
  const auto bytes = test::tiny_llama_writer({}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny");
  cpu::ReferenceModel model(file, 32, 2);
  const std::vector<std::int32_t> prompt{1, 2, 3, 4};
  (void)model.forward(prompt);
  const std::int32_t next = 9;
  const auto first = model.forward(std::span(&next, 1));
  model.rewind(4);
  const auto again = model.forward(std::span(&next, 1));
  CHECK(first == again);
  model.rewind();
  CHECK(model.position() == 0);
  CHECK_THROWS_AS(model.rewind(3), Error);
}

TEST_CASE("a full context is a clear error and leaves the cache as it was") {
  const auto bytes = test::tiny_llama_writer({}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny");
  cpu::ReferenceModel model(file, 4, 1);
  const std::vector<std::int32_t> three{1, 2, 3};
  (void)model.forward(three);
  CHECK_THROWS_WITH_AS(model.forward(three), doctest::Contains("context is full"), Error);
  CHECK(model.position() == 3);
  const std::int32_t last = 4;
  CHECK_NOTHROW((void)model.forward(std::span(&last, 1)));
}

TEST_CASE("a token id outside the vocabulary is refused") {
  const auto bytes = test::tiny_llama_writer({}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny");
  cpu::ReferenceModel model(file, 8, 1);
  const std::vector<std::int32_t> bad{1, 128};
  CHECK_THROWS_WITH_AS(model.forward(bad), doctest::Contains("outside the vocabulary"), Error);
  const std::vector<std::int32_t> negative{-1};
  CHECK_THROWS_AS(model.forward(negative), Error);
  CHECK(model.position() == 0);
}

TEST_CASE("each sequence has its own KV cache: interleaved forwards give each sequence a lone model's logits") {
  const auto bytes = test::tiny_llama_writer({}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny");
  cpu::ReferenceModel shared(file, 32, 2, /*sequences=*/3);
  REQUIRE(shared.sequences() == 3);
  std::deque<cpu::ReferenceModel> alone;  // a deque: the models do not move
  for (int s = 0; s < 3; ++s) alone.emplace_back(file, 32, 2);

  const std::vector<std::vector<std::int32_t>> prompts{{1, 2, 3}, {50, 60}, {7, 7, 7, 7, 8}};
  for (std::uint32_t s : {2u, 0u, 1u}) CHECK(shared.forward(s, prompts[s]) == alone[s].forward(prompts[s]));
  for (std::int32_t token = 10; token < 14; ++token)
    for (std::uint32_t s : {1u, 2u, 0u}) {
      const std::int32_t next = token + static_cast<std::int32_t>(s);
      CHECK(shared.forward(s, std::span(&next, 1)) == alone[s].forward(std::span(&next, 1)));
    }
  for (std::uint32_t s = 0; s < 3; ++s) CHECK(shared.position(s) == alone[s].position());

  // Rewinding one sequence leaves the others' caches as they were.
  shared.rewind(1, 1);
  alone[1].rewind(1);
  const std::int32_t again = 33;
  for (std::uint32_t s = 0; s < 3; ++s)
    CHECK(shared.forward(s, std::span(&again, 1)) == alone[s].forward(std::span(&again, 1)));
  CHECK(shared.position(0) == 8);
  CHECK(shared.position(1) == 2);
  CHECK(shared.position() == shared.position(0));
}

TEST_CASE("a sequence the model does not hold, or none at all, is refused") {
  const auto bytes = test::tiny_llama_writer({}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny");
  CHECK_THROWS_WITH_AS(cpu::ReferenceModel(file, 8, 1, 0), doctest::Contains("at least one sequence"), Error);
  cpu::ReferenceModel model(file, 8, 1, 2);
  const std::vector<std::int32_t> one{1};
  CHECK_THROWS_WITH_AS(model.forward(2, one), doctest::Contains("sequence 2 does not exist: the engine holds 2"), Error);
  CHECK_THROWS_AS(model.rewind(2, 0), Error);
  CHECK_THROWS_AS((void)model.position(2), Error);
}
