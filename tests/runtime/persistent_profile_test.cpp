// runtime::summarize_persistent_profile: the persistent step's stamps become
// block-time sums per op kind and a critical path whose parts add up to the
// step's span (each op from its input done to its own last item done).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/runtime/persistent_profile.hpp"

using namespace pagoda;
using runtime::DecodeOp;
using runtime::ProfiledItem;

namespace {

// Three ops in a chain on two blocks (ns): qkv (two items, waits on nothing
// in the list), rope_kv (one item, waits on qkv), down (two items, waits on rope_kv).
std::vector<ProfiledItem> chain() {
  return {
      {DecodeOp::qkv, 0, runtime::no_counter, 0, 0, 10, 0},
      {DecodeOp::qkv, 0, runtime::no_counter, 0, 2, 14, 1},
      {DecodeOp::rope_kv, 1, 0, 11, 16, 20, 0},  // qkv done at 14: 2 ns before a block starts it
      {DecodeOp::down, 2, 1, 15, 22, 30, 1},     // rope done at 20: 2 ns latency
      {DecodeOp::down, 2, 1, 21, 23, 35, 0},
  };
}

}  // namespace

TEST_CASE("the critical path of a chain of ops adds up to the step's span, split into latency and run") {
  const auto items = chain();
  const runtime::PersistentProfile p = runtime::summarize_persistent_profile(items, 2);
  CHECK(p.span_ns == doctest::Approx(35));
  REQUIRE(p.kinds.size() == 3);
  CHECK(p.kinds[0].op == DecodeOp::qkv);  // in list order
  CHECK(p.kinds[1].op == DecodeOp::rope_kv);
  CHECK(p.kinds[2].op == DecodeOp::down);
  CHECK(p.kinds[0].latency_ns == doctest::Approx(0));
  CHECK(p.kinds[0].run_ns == doctest::Approx(14));
  CHECK(p.kinds[1].latency_ns == doctest::Approx(2));
  CHECK(p.kinds[1].run_ns == doctest::Approx(4));
  CHECK(p.kinds[2].latency_ns == doctest::Approx(2));
  CHECK(p.kinds[2].run_ns == doctest::Approx(13));
  double path = 0;
  for (const auto& k : p.kinds) path += k.latency_ns + k.run_ns;
  CHECK(path == doctest::Approx(p.span_ns));
}

TEST_CASE("block-time sums per op kind and the blocks' busy share") {
  const auto items = chain();
  const runtime::PersistentProfile p = runtime::summarize_persistent_profile(items, 2);
  CHECK(p.kinds[0].items == 2);
  CHECK(p.kinds[0].instances == 1);
  CHECK(p.kinds[0].wait_ns == doctest::Approx(2));
  CHECK(p.kinds[0].work_ns == doctest::Approx(22));
  CHECK(p.kinds[2].wait_ns == doctest::Approx(9));
  CHECK(p.kinds[2].work_ns == doctest::Approx(20));
  // Block 0: 10 + 9 + 14 ns in items, block 1: 14 + 15, of 2 x 35.
  CHECK(p.busy_share == doctest::Approx(62.0 / 70.0));
  const std::string text = p.text();
  CHECK(text.find("persistent step profile: 0.0 us") != std::string::npos);
  for (const char* op : {"\n  qkv:", "\n  rope_kv:", "\n  down:", "\n  critical path"})
    CHECK_MESSAGE(text.find(op) != std::string::npos, op);
}

TEST_CASE("an item waiting on an op no item signals is an error, and no items an empty profile") {
  std::vector<ProfiledItem> items = chain();
  items[2].wait_counter = 7;
  CHECK_THROWS_WITH_AS((void)runtime::summarize_persistent_profile(items, 2), doctest::Contains("no item signals"),
                       Error);
  CHECK(runtime::summarize_persistent_profile({}, 2).kinds.empty());
}
