// Tile shapes of kernels::attention_prefill, as plain values, and the one
// place that picks among them (by head dimension).
//
// A block of 256 threads (a 16 x 16 grid: 16 query-row groups x 16 key/dim
// lanes) owns `queries` consecutive tokens of one head and streams the causal
// prefix of the KV cache through shared memory `keys` rows at a time. Shared
// memory: Q (queries, head_dim_max + 4) f32, K and V (keys, head_dim_max + 4)
// f32, P (queries, keys + 4) f32 — the 4-float pads keep the float4 reads of
// rows that lanes walk in parallel on distinct banks.
#pragma once

#include <cstddef>
#include <ostream>

namespace pagoda::kernels {

struct AttentionPrefillPolicy {
  int head_dim_max;  // heads up to this size (multiple of 64: each lane owns head_dim_max / 64 float4s of O)
  int queries;       // tokens per block (multiple of 16)
  int keys;          // KV rows per streamed tile (multiple of 16)

  static constexpr int threads = 256;
  [[nodiscard]] constexpr int row_floats() const { return head_dim_max + 4; }
  [[nodiscard]] constexpr int p_floats() const { return keys + 4; }
  [[nodiscard]] constexpr std::size_t shared_bytes() const {
    return sizeof(float) * static_cast<std::size_t>((queries + 2 * keys) * row_floats() + queries * p_floats());
  }
  [[nodiscard]] constexpr bool valid() const {
    return head_dim_max % 64 == 0 && queries % 16 == 0 && keys % 16 == 0 && keys % 4 == 0;
  }

  friend constexpr bool operator==(const AttentionPrefillPolicy&, const AttentionPrefillPolicy&) = default;
  friend std::ostream& operator<<(std::ostream& out, const AttentionPrefillPolicy& p) {
    return out << "AttentionPrefillPolicy{head_dim_max " << p.head_dim_max << ", queries " << p.queries
               << ", keys " << p.keys << "}";
  }
};

// Instantiated shapes, smallest head first. Registers per thread stay near 100
// for each (O: queries/16 x head_dim_max/64 float4s; S: queries/16 x keys/16),
// and shared memory (70, 77, 104 KB) leaves room for two blocks per Hopper SM.
inline constexpr AttentionPrefillPolicy attention_prefill_policies[] = {
    {64, 64, 64},
    {128, 64, 32},
    {256, 32, 32},
};
static_assert(attention_prefill_policies[0].valid() && attention_prefill_policies[1].valid() &&
              attention_prefill_policies[2].valid());

// Index into attention_prefill_policies of the smallest shape that holds
// head_dim; -1 when none does (head_dim > 256). Not yet tuned by measurement;
// first H100 figures (the timing now in pagoda-kernel-bench's prefill attention section), 32 query / 8 KV
// heads of 128, 512 tokens: 0.154 ms from position 0 (14 TFLOP/s), 1.16 ms
// from position 3584 (28 TFLOP/s) — f32 FMA, no tensor cores yet.
[[nodiscard]] constexpr int select_attention_prefill_policy(std::size_t head_dim) {
  int index = 0;
  for (const AttentionPrefillPolicy& p : attention_prefill_policies) {
    if (head_dim <= static_cast<std::size_t>(p.head_dim_max)) return index;
    ++index;
  }
  return -1;
}

}  // namespace pagoda::kernels
