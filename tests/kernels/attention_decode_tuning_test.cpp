// The launch shape of kernels::attention_decode, chosen on the host (g++
// compiles the tuning header too): how many query heads a block takes, and
// the grid that follows from it.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "pagoda/kernels/tuning/attention_decode.hpp"

using namespace pagoda::kernels;

namespace {

constexpr int h100 = 90;

AttentionShape shape_of(std::uint32_t n_heads, std::uint32_t n_kv_heads, std::uint32_t head_dim = 128,
                        std::uint32_t context = 4096) {
  return {n_heads, n_kv_heads, head_dim, context, 1.0f};
}

bool listed(const AttentionPolicy& policy) {
  return std::ranges::find(tuning::attention_decode_policies, policy) != std::end(tuning::attention_decode_policies);
}

}  // namespace

TEST_CASE("a KV head serving at most 4 query heads gets blocks of 4 heads, more gets blocks of 8") {
  struct Case {
    std::uint32_t n_heads, n_kv_heads;
    int heads_per_block;
  };
  // Llama 3 8B and 3.2 1B, SmolLM2, Gemma 3 270M, no GQA; Qwen2.5 0.5B, 8:1, 12:1.
  for (const Case c : {Case{32, 8, 4}, Case{9, 3, 4}, Case{4, 1, 4}, Case{16, 16, 4}, Case{14, 2, 8},
                       Case{16, 2, 8}, Case{12, 1, 8}}) {
    CAPTURE(c.n_heads);
    CAPTURE(c.n_kv_heads);
    const AttentionPolicy policy = tuning::select(h100, shape_of(c.n_heads, c.n_kv_heads));
    CHECK(policy.heads_per_block == c.heads_per_block);
    CHECK(listed(policy));
  }
}

TEST_CASE("blocks of 4 heads aim at twice the blocks: 5 of them fit an SM") {
  for (const std::uint32_t context : {1u, 64u, 4096u, 131072u})
    for (const auto& [n_heads, n_kv_heads] : {std::pair{32u, 8u}, std::pair{9u, 3u}, std::pair{4u, 1u}}) {
      const AttentionShape shape = shape_of(n_heads, n_kv_heads, 128, context);
      CAPTURE(context);
      CAPTURE(n_heads);
      AttentionPolicy doubled = attention_decode_policy;
      doubled.target_blocks *= 2;
      CHECK(tuning::attention_splits(tuning::select(h100, shape), shape) ==
            tuning::attention_splits(doubled, shape));
    }
}

TEST_CASE("the split count keeps the grid near the target and at least min_split positions a split") {
  const AttentionShape llama8b = shape_of(32, 8);
  const AttentionPolicy policy = tuning::select(h100, llama8b);
  const std::uint32_t splits = tuning::attention_splits(policy, llama8b);
  CHECK(splits * llama8b.n_kv_heads == static_cast<std::uint32_t>(policy.target_blocks));  // 64 x 8 = 512
  CHECK(tuning::attention_splits(policy, shape_of(32, 8, 128, 100)) == 2);                 // ceil(100 / 64)
  CHECK(tuning::attention_splits(policy, shape_of(12, 1, 128, 1)) == 1);
}

TEST_CASE("no more splits than the merge has threads") {
  AttentionPolicy wide = attention_decode_policy_gqa4;
  wide.target_blocks = 4096;
  CHECK(tuning::attention_splits(wide, shape_of(4, 1, 128, 131072)) == tuning::attention_max_splits);  // not 4096
  CHECK(tuning::attention_splits(wide, shape_of(32, 8, 128, 131072)) == tuning::attention_max_splits);  // not 512
  CHECK(tuning::attention_splits(wide, shape_of(32, 4, 128, 131072)) == tuning::attention_max_splits);  // not 1024
  wide.target_blocks = 1024;
  CHECK(tuning::attention_splits(wide, shape_of(32, 8, 128, 131072)) == 128);  // under the cap: as aimed
}

TEST_CASE("a batched step's query tokens share the grid's target, at least one split each") {
  const AttentionShape llama8b = shape_of(32, 8);
  const AttentionPolicy policy = tuning::select(h100, llama8b);
  CHECK(tuning::attention_splits(policy, llama8b, 1) == tuning::attention_splits(policy, llama8b));
  CHECK(tuning::attention_splits(policy, llama8b, 8) == 8);   // 8 x 8 KV heads x 8 tokens = 512
  CHECK(tuning::attention_splits(policy, llama8b, 16) == 4);
  CHECK(tuning::attention_splits(policy, llama8b, 3) == 22);  // ceil(512 / 24)
  CHECK(tuning::attention_splits(policy, llama8b, 64) == 1);
}

TEST_CASE("attention in one launch up to 256 rows, and no more than four of the split block's tiles") {
  static_assert(attention_decode_direct_policy.heads_per_block == 1, "a block per query head");
  CHECK(tuning::attention_direct_rows(64) == 256);   // two 128-row tiles (SmolLM2, Llama 3.2 1B)
  CHECK(tuning::attention_direct_rows(128) == 256);  // four 64-row tiles (Llama 3 8B)
  CHECK(tuning::attention_direct_rows(96) == 256);
  CHECK(tuning::attention_direct_rows(256) == 128);  // four 32-row tiles (Gemma 3)
}
