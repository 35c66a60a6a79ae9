// Which tests a command line asks for, in which order, under which names.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda_bench/test_plan.hpp"

using namespace pagoda::bench;

namespace {

std::vector<std::string> names(const std::vector<BenchTest>& tests) {
  std::vector<std::string> out;
  for (const auto& t : tests) out.push_back(t.name());
  return out;
}

}  // namespace

TEST_CASE("tests are named as llama-bench names them") {
  CHECK(BenchTest{.n_prompt = 512}.name() == "pp512");
  CHECK(BenchTest{.n_gen = 128}.name() == "tg128");
  CHECK(BenchTest{.n_prompt = 512, .n_gen = 128}.name() == "pp512+tg128");
  CHECK(BenchTest{.n_gen = 128, .n_depth = 4096}.name() == "tg128 @ d4096");
  CHECK(BenchTest{.n_prompt = 512, .n_gen = 128, .n_depth = 4096}.name() == "pp512+tg128 @ d4096");
}

TEST_CASE("for each depth: the prompts, then the generations, then the pairs; zeros skipped") {
  BenchOptions o;
  o.n_prompt = {0, 512};
  o.n_gen = {128, 0};
  o.prompt_gen = {{512, 128}};
  o.n_depth = {0, 4096};
  CHECK(names(plan_tests(o)) == std::vector<std::string>{"pp512", "tg128", "pp512+tg128", "pp512 @ d4096",
                                                         "tg128 @ d4096", "pp512+tg128 @ d4096"});
}

TEST_CASE("the default plan is pp512 then tg128") {
  CHECK(names(plan_tests(BenchOptions{})) == std::vector<std::string>{"pp512", "tg128"});
}

TEST_CASE("t/s counts the timed tokens; depth is untimed") {
  const BenchTest t{.n_prompt = 512, .n_gen = 128, .n_depth = 4096};
  CHECK(t.timed_tokens() == 640);
  CHECK(t.positions() == 4736);
  CHECK_FALSE(t.is_generation());
  CHECK(BenchTest{.n_gen = 128, .n_depth = 4096}.is_generation());
  CHECK_FALSE(BenchTest{.n_prompt = 512}.is_generation());
}

TEST_CASE("the engines' context holds the largest test") {
  BenchOptions o;
  o.n_depth = {0, 4096};
  const auto tests = plan_tests(o);
  CHECK(context_for(tests) == 4096 + 512);
  CHECK(context_for(std::vector<BenchTest>{}) == 1);
}
