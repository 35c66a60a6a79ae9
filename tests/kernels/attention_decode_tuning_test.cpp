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

TEST_CASE("blocks of 4 heads change no grid where a KV head serves at most 4 query heads") {
  for (const std::uint32_t context : {1u, 64u, 4096u, 131072u})
    for (const auto& [n_heads, n_kv_heads] : {std::pair{32u, 8u}, std::pair{9u, 3u}, std::pair{4u, 1u}}) {
      const AttentionShape shape = shape_of(n_heads, n_kv_heads, 128, context);
      CAPTURE(context);
      CAPTURE(n_heads);
      CHECK(tuning::attention_splits(tuning::select(h100, shape), shape) ==
            tuning::attention_splits(attention_decode_policy, shape));
    }
}

TEST_CASE("the split count keeps the grid near the target and at least min_split positions a split") {
  const AttentionShape llama8b = shape_of(32, 8);
  const AttentionPolicy policy = tuning::select(h100, llama8b);
  const std::uint32_t splits = tuning::attention_splits(policy, llama8b);
  CHECK(splits * llama8b.n_kv_heads == static_cast<std::uint32_t>(policy.target_blocks));  // 32 x 8 = 256
  CHECK(tuning::attention_splits(policy, shape_of(32, 8, 128, 100)) == 2);                 // ceil(100 / 64)
  CHECK(tuning::attention_splits(policy, shape_of(12, 1, 128, 1)) == 1);
}

TEST_CASE("a batched step's query tokens share the grid's target, at least one split each") {
  const AttentionShape llama8b = shape_of(32, 8);
  const AttentionPolicy policy = tuning::select(h100, llama8b);
  CHECK(tuning::attention_splits(policy, llama8b, 1) == tuning::attention_splits(policy, llama8b));
  CHECK(tuning::attention_splits(policy, llama8b, 8) == 4);   // 4 x 8 KV heads x 8 tokens = 256
  CHECK(tuning::attention_splits(policy, llama8b, 16) == 2);
  CHECK(tuning::attention_splits(policy, llama8b, 3) == 11);  // ceil(256 / 24)
  CHECK(tuning::attention_splits(policy, llama8b, 64) == 1);
}
