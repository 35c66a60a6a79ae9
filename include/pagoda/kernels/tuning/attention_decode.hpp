// Launch shape of kernels::attention_decode (split-K "flash decoding" of one
// query token over the f16 KV cache), as plain values, and the one place that
// derives the split count from the shape.
//
// The grid is fixed at launch from the shape alone, so a captured decode step
// replays at every position: (splits, n_kv_heads * head groups) blocks. Each
// block reads the live length from the device and takes split s of it:
//   chunk = max(ceil(live / splits), min_split), positions [s*chunk, (s+1)*chunk)
// so the whole grid shares the work at any live length, and splits past the
// live length (short contexts) exit at once. Compiled by g++ as well (the
// engine sizes the workspace from it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>

namespace pagoda::kernels {

struct AttentionShape {
  std::uint32_t n_heads, n_kv_heads, head_dim, max_context;
  float scale;              // applied to q.k, usually 1 / sqrt(head_dim)
  std::uint32_t window = 0;  // > 0: only the last `window` positions are visible (sliding-window layers)
};

struct AttentionPolicy {
  int threads;          // per split block
  int tile;             // positions staged per pass through shared memory
  int heads_per_block;  // query heads sharing one KV head, done by one block (GQA)
  int target_blocks;    // splits * KV-head groups aimed at (>= 2 per SM keeps HBM busy)
  int min_split;        // fewest positions per split: below it, merging costs more than it saves

  friend constexpr bool operator==(const AttentionPolicy&, const AttentionPolicy&) = default;
  friend std::ostream& operator<<(std::ostream& out, const AttentionPolicy& p) {
    return out << "AttentionPolicy{threads " << p.threads << ", tile " << p.tile << ", heads_per_block "
               << p.heads_per_block << ", target_blocks " << p.target_blocks << ", min_split " << p.min_split
               << "}";
  }
};

// A first guess: 256 blocks is ~2 per SM of an H100 (132 SMs). Measured
// (tests/gpu/kernel_timing_test.cpp, H100, Llama-3-8B shape 32/8 heads x 128,
// with 8 heads per block): live 1: 10.7 us (two launches), 512: 15.8 us,
// 4096: 24 us (700 GB/s of KV), 32768: 188 us (715 GB/s); the speed issue
// takes it towards HBM's 3 TB/s. The kernel's shared memory is sized for
// these values (static_asserts in cuda/kernels/attention_decode.cu).
inline constexpr AttentionPolicy attention_decode_policy{128, 256, 8, 256, 64};

// The same with 4 query heads per block, for models whose KV heads serve at
// most 4 query heads (Llama 3 8B and 3.2 1B, Gemma 3 270M: 4; SmolLM2: 3).
// A block computes every one of its heads_per_block heads whether the model
// has them or not, so 8 there is half idle work, and its 2 x 8 x 8 per-thread
// accumulators cost registers: ptxas gives the head_dim-128 instantiation 168
// registers with 12 bytes of spills at 8 heads (scripts/kernel-resources.sh;
// docs/notes/performance.md, "attention_decode: heads per block").
// 512 blocks: ptxas gives it 96 registers and 34 KB of shared memory, so 5
// blocks fit an SM; at 256 (2 an SM) a block walked two 64-row tiles of the
// 8B's cache at depth 4096 one after the other, a DRAM round trip each with
// nothing else in flight (18.8 us for 16.8 MB, 891 GB/s). At 512 every tile
// of that depth is in flight at once.
inline constexpr AttentionPolicy attention_decode_policy_gqa4{128, 256, 4, 512, 64};

// Lanes that read a K/V row in the decode attention kernels (8 dims each)
// for `head_dim`: 8, 16 or 32; 0 above 256. A tile is 1024 / lanes rows
// (the split block's, at the policies' tile of 256).
[[nodiscard]] constexpr int attention_lanes(std::uint32_t head_dim) {
  return head_dim <= 64 ? 8 : (head_dim <= 128 ? 16 : (head_dim <= 256 ? 32 : 0));
}

// attention_decode_direct's blocks: one query head each (a KV head's rows
// are read by each of its query heads' blocks, from L2 after the first), so
// that a block's scores and weighted sums are a quarter of the split
// kernel's at 4 heads; 256 threads, 16 rows of head_dim 128 a pass.
// (target_blocks: unused, the grid is n_heads blocks.)
inline constexpr AttentionPolicy attention_decode_direct_policy{256, 256, 1, 0, 64};

namespace tuning {

// The most visible rows at which a one-token step takes
// attention_decode_direct (one launch) over the split kernel and the merge
// (two): each extra tile of rows is one more DRAM round trip in every
// block, against the merge launch saved. Measured (H100, pagoda-bench
// tg128, one launch against two): 8B Q4_0 +8%, 1B +10%, SmolLM2 +18% at
// rows 1-128; +2.3%, +5.9%, +6.9% at rows 129-256, where the 8B's blocks
// (head_dim 128) walk four tiles, the others (64) two
// (docs/notes/performance.md). So: 256 rows, and no more than four tiles,
// the most measured (head_dim 256's tiles are 32 rows: 128).
inline constexpr std::uint32_t attention_direct_max_rows = 256;
inline constexpr std::uint32_t attention_direct_max_tiles = 4;
[[nodiscard]] constexpr std::uint32_t attention_direct_rows(std::uint32_t head_dim) {
  const int lanes = attention_lanes(head_dim);
  const std::uint32_t tile_rows = lanes == 0 ? 0 : 1024 / static_cast<std::uint32_t>(lanes);
  const std::uint32_t by_tiles = attention_direct_max_tiles * tile_rows;
  return by_tiles < attention_direct_max_rows ? by_tiles : attention_direct_max_rows;
}

// Every policy cuda/kernels/attention_decode.cu instantiates; select() returns one of them.
inline constexpr AttentionPolicy attention_decode_policies[] = {attention_decode_policy_gqa4,
                                                                attention_decode_policy};

[[nodiscard]] constexpr AttentionPolicy select(int compute_capability, const AttentionShape& shape) {
  (void)compute_capability;
  const std::uint32_t per_kv = shape.n_kv_heads == 0 ? 0 : shape.n_heads / shape.n_kv_heads;
  return per_kv <= 4 ? attention_decode_policy_gqa4 : attention_decode_policy;
}

// The merge gives each split a thread for its max and sum (256 threads).
inline constexpr std::uint32_t attention_max_splits = 256;

// Blocks per (KV head, head group) along the sequence; at most target_blocks,
// and attention_max_splits.
// A batched step's `batch` query tokens share the target: at depth 128, 16
// tokens of 32 splits each were 4,096 blocks a layer of which 3,712 found
// nothing to do (3 splits of 64 rows hold 129 positions).
[[nodiscard]] constexpr std::uint32_t attention_splits(const AttentionPolicy& policy, const AttentionShape& shape,
                                                       std::uint32_t batch = 1) {
  const std::uint32_t per_kv = shape.n_kv_heads == 0 ? 1 : shape.n_heads / shape.n_kv_heads;
  const std::uint32_t groups = (per_kv + policy.heads_per_block - 1) / policy.heads_per_block;
  const std::uint32_t columns = shape.n_kv_heads * (groups == 0 ? 1 : groups) * (batch == 0 ? 1 : batch);
  std::uint32_t splits = (static_cast<std::uint32_t>(policy.target_blocks) + columns - 1) / (columns == 0 ? 1 : columns);
  const std::uint32_t by_context =
      (shape.max_context + static_cast<std::uint32_t>(policy.min_split) - 1) / static_cast<std::uint32_t>(policy.min_split);
  if (splits > by_context) splits = by_context;
  if (splits > attention_max_splits) splits = attention_max_splits;
  return splits == 0 ? 1 : splits;
}

}  // namespace tuning

}  // namespace pagoda::kernels
