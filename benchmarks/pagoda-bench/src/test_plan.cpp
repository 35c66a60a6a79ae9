#include "pagoda_bench/test_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pagoda::bench {

std::string BenchTest::name() const {
  std::string text;
  if (n_prompt > 0) text = fmt::format("pp{}", n_prompt);
  if (n_gen > 0) text += fmt::format("{}tg{}", text.empty() ? "" : "+", n_gen);
  if (n_depth > 0) text += fmt::format(" @ d{}", n_depth);
  return text;
}

std::vector<BenchTest> plan_tests(const BenchOptions& options) {
  std::vector<BenchTest> tests;
  for (std::uint32_t depth : options.n_depth) {
    for (std::uint32_t p : options.n_prompt)
      if (p > 0) tests.push_back({.n_prompt = p, .n_depth = depth});
    for (std::uint32_t n : options.n_gen)
      if (n > 0) tests.push_back({.n_gen = n, .n_depth = depth});
    for (const PromptGen& pg : options.prompt_gen)
      tests.push_back({.n_prompt = pg.prompt, .n_gen = pg.gen, .n_depth = depth});
  }
  return tests;
}

std::uint32_t context_for(std::span<const BenchTest> tests) {
  std::uint64_t most = 1;
  for (const BenchTest& test : tests) most = std::max(most, test.positions());
  return static_cast<std::uint32_t>(most);
}

}  // namespace pagoda::bench
