// The tests a pagoda-bench run times, as llama-bench names them: "pp512"
// (prefill 512 tokens), "tg128" (decode 128 tokens one at a time),
// "pp512+tg128" (both, timed together), and " @ d4096" when the KV cache is
// first filled with 4096 tokens, untimed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pagoda_bench/options.hpp"

namespace pagoda::bench {

struct BenchTest {
  std::uint32_t n_prompt = 0;
  std::uint32_t n_gen = 0;
  std::uint32_t n_depth = 0;

  [[nodiscard]] std::string name() const;
  // Tokens a timed repetition processes: what t/s counts.
  [[nodiscard]] std::uint64_t timed_tokens() const { return std::uint64_t{n_prompt} + n_gen; }
  // Pure decode: the test a decode roofline applies to.
  [[nodiscard]] bool is_generation() const { return n_prompt == 0 && n_gen > 0; }
  // Cache positions the test fills.
  [[nodiscard]] std::uint64_t positions() const { return std::uint64_t{n_depth} + n_prompt + n_gen; }
  friend bool operator==(const BenchTest&, const BenchTest&) = default;
};

// For each depth: every -p (non-zero), then every -n (non-zero), then every -pg.
[[nodiscard]] std::vector<BenchTest> plan_tests(const BenchOptions& options);

// The engine context every test fits in: the most positions any test fills.
[[nodiscard]] std::uint32_t context_for(std::span<const BenchTest> tests);

}  // namespace pagoda::bench
