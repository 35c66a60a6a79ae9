// The CPU reference sampler, step by step on hand-made logits, and as a whole:
// greedy, seeded reproducibility, each filter alone, the distribution after
// temperature (chi-square), and validate()'s messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/cpu/sampler.hpp"

using namespace pagoda;
using runtime::SamplingParams;

namespace {

// Only the filter under test is on.
SamplingParams plain(float temperature = 1.0f) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

std::vector<float> logits_of(std::initializer_list<double> probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

std::vector<float> random_logits(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::string validation_error(SamplingParams p) {
  try {
    p.validate();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Counts of `draws` samples (no penalties, so recent tokens do not matter).
std::vector<int> histogram(const std::vector<float>& logits, const SamplingParams& p, int draws) {
  cpu::Sampler sampler(logits.size(), p);
  std::vector<int> counts(logits.size());
  for (int i = 0; i < draws; ++i) ++counts[static_cast<std::size_t>(sampler.sample(logits, {}))];
  return counts;
}

}  // namespace

TEST_CASE("sampling_uniform is SplitMix64's n-th output scaled to [0, 1)") {
  // SplitMix64 seeded with 0 first returns 0xE220A8397B1DCDAF (the reference vector).
  CHECK(runtime::splitmix64(0, 0) == 0xE220A8397B1DCDAFull);
  CHECK(runtime::sampling_uniform(0, 0) == static_cast<double>(0xE220A8397B1DCDAFull >> 11) * 0x1.0p-53);
  double sum = 0;
  for (std::uint64_t n = 0; n < 100000; ++n) {
    const double u = runtime::sampling_uniform(7, n);
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
  }
  CHECK(sum / 100000 == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("temperature 0 is the argmax, the lower id on ties, after penalties") {
  SamplingParams p = plain(0.0f);
  const std::vector<float> logits = random_logits(1000, 1);
  cpu::Sampler sampler(logits.size(), p);
  const auto argmax = std::max_element(logits.begin(), logits.end()) - logits.begin();
  for (int i = 0; i < 5; ++i) CHECK(sampler.sample(logits, {}) == argmax);
  CHECK(sampler.step() == 5);

  const std::vector<float> tied{1.0f, 3.0f, 3.0f, 2.0f};
  CHECK(cpu::Sampler(4, p).sample(tied, {}) == 1);

  p.repeat_penalty = 2.0f;  // token 1 was just said: 3 / 2 = 1.5 < 3
  const std::vector<std::int32_t> recent{1};
  CHECK(cpu::Sampler(4, p).sample(tied, recent) == 2);
}

TEST_CASE("the same seed and step choose the same tokens; another seed does not") {
  const SamplingParams p;  // the defaults: every filter on
  const std::vector<float> logits = random_logits(5000, 2);
  cpu::Sampler a(logits.size(), p);
  cpu::Sampler b(logits.size(), p);
  std::vector<std::int32_t> first;
  for (int i = 0; i < 100; ++i) {
    first.push_back(a.sample(logits, {}));
    CHECK(b.sample(logits, {}) == first.back());
  }
  a.set_step(40);  // the draw is a function of (seed, step) alone
  for (int i = 40; i < 60; ++i) CHECK(a.sample(logits, {}) == first[static_cast<std::size_t>(i)]);

  SamplingParams other = p;
  other.seed = p.seed + 1;
  cpu::Sampler c(logits.size(), other);
  int differ = 0;
  for (int i = 0; i < 100; ++i) differ += c.sample(logits, {}) != first[static_cast<std::size_t>(i)];
  CHECK(differ > 10);
}

TEST_CASE("candidates sort by logit descending, ties by lower id") {
  const std::vector<float> logits{0.5f, 2.0f, -1.0f, 2.0f, 1.0f};
  const auto sorted = cpu::sorted_candidates(logits, 10);
  std::vector<std::int32_t> ids;
  for (const auto& c : sorted) ids.push_back(c.id);
  CHECK(ids == std::vector<std::int32_t>{1, 3, 4, 0, 2});
  CHECK(cpu::sorted_candidates(logits, 2).size() == 2);
}

TEST_CASE("top-k keeps exactly k") {
  CHECK(cpu::top_k_count(10, 3) == 3);
  CHECK(cpu::top_k_count(10, 0) == 10);
  CHECK(cpu::top_k_count(10, 50) == 10);

  SamplingParams p = plain(100.0f);  // near-uniform over what is kept
  p.top_k = 3;
  const std::vector<float> logits{0.1f, 0.9f, 0.5f, 0.7f, 0.3f, 0.2f};
  const std::vector<int> counts = histogram(logits, p, 3000);
  const std::set<int> seen = [&] {
    std::set<int> s;
    for (std::size_t i = 0; i < counts.size(); ++i)
      if (counts[i] > 0) s.insert(static_cast<int>(i));
    return s;
  }();
  CHECK(seen == std::set<int>{1, 2, 3});
}

TEST_CASE("top-p keeps the smallest prefix whose mass reaches p") {
  const std::vector<float> logits = logits_of({0.5, 0.3, 0.15, 0.05});
  const auto sorted = cpu::sorted_candidates(logits, 4);
  CHECK(cpu::top_p_count(sorted, 0.0f) == 1);
  CHECK(cpu::top_p_count(sorted, 0.45f) == 1);
  CHECK(cpu::top_p_count(sorted, 0.55f) == 2);
  CHECK(cpu::top_p_count(sorted, 0.79f) == 2);
  CHECK(cpu::top_p_count(sorted, 0.81f) == 3);
  CHECK(cpu::top_p_count(sorted, 0.96f) == 4);
  CHECK(cpu::top_p_count(sorted, 1.0f) == 4);
  // Over the top-k set: the first two renormalise to 0.625 and 0.375.
  CHECK(cpu::top_p_count(std::span(sorted).first(2), 0.6f) == 1);
  CHECK(cpu::top_p_count(std::span(sorted).first(2), 0.65f) == 2);
}

TEST_CASE("min-p keeps the tokens at least min_p times as likely as the top one") {
  const std::vector<float> logits = logits_of({1.0, 0.5, 0.1, 0.01});
  const auto sorted = cpu::sorted_candidates(logits, 4);
  CHECK(cpu::min_p_count(sorted, 0.6f) == 1);
  CHECK(cpu::min_p_count(sorted, 0.4f) == 2);
  CHECK(cpu::min_p_count(sorted, 0.09f) == 3);
  CHECK(cpu::min_p_count(sorted, 0.005f) == 4);
  CHECK(cpu::min_p_count(sorted, 1.0f) == 1);
  std::vector<float> shifted = logits;  // relative to the top: a shift changes nothing
  for (float& x : shifted) x += 5.0f;
  CHECK(cpu::min_p_count(cpu::sorted_candidates(shifted, 4), 0.09f) == 3);
}

TEST_CASE("penalties change exactly the penalised tokens, as llama.cpp and OpenAI define them") {
  SamplingParams p;
  p.repeat_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  const std::vector<float> original{1.0f, -1.0f, 2.0f, 0.5f, 3.0f};
  const std::vector<std::int32_t> recent{0, 1, 1, 4, 7, -3};  // 7 and -3 are outside: ignored

  std::vector<float> logits = original;
  cpu::apply_penalties(logits, recent, p);
  CHECK(logits[0] == 1.0f / 2 - (1 * 0.5f + 0.25f));   // positive: divided
  CHECK(logits[1] == -1.0f * 2 - (2 * 0.5f + 0.25f));  // negative: multiplied; seen twice
  CHECK(logits[2] == original[2]);
  CHECK(logits[3] == original[3]);
  CHECK(logits[4] == 3.0f / 2 - (1 * 0.5f + 0.25f));

  p.penalty_last_n = 2;  // only {4, 7} are recent
  logits = original;
  cpu::apply_penalties(logits, std::span(recent).first(5), p);
  CHECK(logits[0] == original[0]);
  CHECK(logits[1] == original[1]);
  CHECK(logits[4] == 3.0f / 2 - 0.75f);

  p.penalty_last_n = 64;
  p.repeat_penalty = 1.0f;  // frequency and presence alone
  logits = original;
  cpu::apply_penalties(logits, recent, p);
  CHECK(logits[1] == -1.0f - 1.25f);
  CHECK(logits[2] == original[2]);
}

TEST_CASE("after temperature, draws follow softmax(logits / T) (chi-square, fixed seed)") {
  const std::vector<float> logits{2.0f, 1.0f, 0.5f, 0.0f, -1.0f, 1.5f};
  for (const float temperature : {0.7f, 1.0f, 2.5f}) {
    CAPTURE(temperature);
    const SamplingParams p = plain(temperature);
    const int draws = 200000;
    const std::vector<int> counts = histogram(logits, p, draws);
    double z = 0;
    for (float l : logits) z += std::exp(l / temperature);
    double chi_square = 0;
    for (std::size_t i = 0; i < logits.size(); ++i) {
      const double expected = draws * std::exp(logits[i] / temperature) / z;
      chi_square += (counts[i] - expected) * (counts[i] - expected) / expected;
    }
    CHECK(chi_square < 20.5);  // 5 degrees of freedom, p = 0.001
  }
}

TEST_CASE("top-p and min-p cut before temperature: a high temperature cannot bring back the tail") {
  SamplingParams p = plain(50.0f);
  p.top_p = 0.6f;  // of 0.5, 0.3, 0.15, 0.05 keeps the first two
  const std::vector<int> counts = histogram(logits_of({0.5, 0.3, 0.15, 0.05}), p, 4000);
  CHECK(counts[2] == 0);
  CHECK(counts[3] == 0);
  CHECK(counts[0] > 1700);  // near-uniform over the two kept
  CHECK(counts[1] > 1700);
}

TEST_CASE("draw_index walks the cumulative weights") {
  const std::vector<float> logits = logits_of({0.5, 0.25, 0.25});
  const auto sorted = cpu::sorted_candidates(logits, 3);
  CHECK(cpu::draw_index(sorted, 1.0f, 0.0) == 0);
  CHECK(cpu::draw_index(sorted, 1.0f, 0.49) == 0);
  CHECK(cpu::draw_index(sorted, 1.0f, 0.51) == 1);
  CHECK(cpu::draw_index(sorted, 1.0f, 0.76) == 2);
  CHECK(cpu::draw_index(sorted, 1.0f, 1.0) == 2);  // a target at the very end: the last
}

TEST_CASE("NaN logits are never chosen") {
  std::vector<float> logits{1.0f, std::nanf(""), 0.5f};
  CHECK(cpu::Sampler(3, plain(0.0f)).sample(logits, {}) == 0);
  const std::vector<int> counts = histogram(logits, plain(1.0f), 2000);
  CHECK(counts[1] == 0);
}

TEST_CASE("validate names the field and its allowed range") {
  CHECK(validation_error(SamplingParams{}).empty());
  const auto field = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    return validation_error(p);
  };
  const std::map<std::string, std::string> errors{
      {"temperature", field([](SamplingParams& p) { p.temperature = -0.5f; })},
      {"top_k", field([](SamplingParams& p) { p.top_k = -1; })},
      {"top_p", field([](SamplingParams& p) { p.top_p = 1.5f; })},
      {"min_p", field([](SamplingParams& p) { p.min_p = std::nanf(""); })},
      {"repeat_penalty", field([](SamplingParams& p) { p.repeat_penalty = 0.0f; })},
      {"frequency_penalty", field([](SamplingParams& p) { p.frequency_penalty = 2.5f; })},
      {"presence_penalty", field([](SamplingParams& p) { p.presence_penalty = -3.0f; })},
      {"penalty_last_n", field([](SamplingParams& p) { p.penalty_last_n = 5000; })},
  };
  for (const auto& [name, message] : errors) {
    CAPTURE(message);
    CHECK(message.find("sampling parameter " + name + " =") != std::string::npos);
    CHECK(message.find("allowed") != std::string::npos);
  }
  CHECK(field([](SamplingParams& p) { p.top_p = 1.5f; }).find("[0, 1]") != std::string::npos);
  CHECK_THROWS_AS(cpu::Sampler(10, [] {
                    SamplingParams p;
                    p.temperature = -1;
                    return p;
                  }()),
                  Error);
  CHECK_THROWS_AS(cpu::Sampler(0, SamplingParams{}), Error);
}
