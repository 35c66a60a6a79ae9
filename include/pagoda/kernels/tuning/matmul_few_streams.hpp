// Launch shape of kernels::matmul_few_streams (the batched decode step's
// product, matmul_few_streams.cuh), as plain values, and the one place that
// splits K among its blocks.
//
// A block is `warps` warps; each warp owns `fragments` 8-row fragments of the
// block's row tile and streams their weights for the block's share of K, four
// 32-weight units a lane per group of 128 columns, one group ahead in
// registers. X, staged for at most `staged_groups` groups at a time, is 4 KB a
// group of shared memory.
#pragma once

#include <cstddef>

namespace pagoda::kernels {

// How a block stages X in shared memory, in the K order of the A fragments:
// gather: a 4-byte cp.async per register (16 tokens' rows scattered over
// every copy); rows: each thread loads 8 consecutive columns of tokens g and
// g + 8 with two 16-byte loads and stores two whole 16-byte entries.
enum class FewStreamsStaging { gather, rows };

struct FewStreamsShape {
  int warps = 8;
  int fragments = 4;  // 8-row fragments a warp: its rows, and its f32 accumulators (4 a fragment)
  int depth = 1;      // groups of 128 columns a warp loads at once (and the next `depth` in flight)
  FewStreamsStaging staging = FewStreamsStaging::gather;
  [[nodiscard]] constexpr int threads() const { return 32 * warps; }
  [[nodiscard]] constexpr int rows_tile() const { return 8 * fragments * warps; }
  [[nodiscard]] constexpr int values() const { return 4 * fragments; }  // accumulators a thread
  friend constexpr bool operator==(const FewStreamsShape&, const FewStreamsShape&) = default;
};

inline constexpr int few_streams_group_columns = 128;
inline constexpr int few_streams_staged_groups = 8;  // 32 KB of X in shared memory at a time

// The instantiated shapes (every format has each; tests and pagoda-kernel-bench
// time them all, the engine takes few_streams_shape_for). Depth is what
// matters to DRAM: a warp's loads of one step cover 64 x depth contiguous
// bytes of each of its rows, issued together.
inline constexpr FewStreamsShape few_streams_shapes[] = {
    {8, 2, 1}, {8, 2, 4}, {8, 2, 1, FewStreamsStaging::rows}, {8, 2, 4, FewStreamsStaging::rows}};

// K is split so that tiles x splits fills, without passing, `blocks_per_sm`
// blocks on every SM (one wave: a block more would be a second): a 4096-row
// matrix (16 tiles of 256 rows) over 4096 columns (32 groups) takes 16
// splits of 2 groups; the 28672 rows of gate and up 2; the 128256-row output
// matrix 1. Each split's partial tile is 16 KB of f32
// (rows_tile x 16 tokens), added by the tile's last block in split order.
struct FewStreamsSplitPolicy {
  int blocks_per_sm = 2;
};
inline constexpr FewStreamsSplitPolicy few_streams_split_policy{};

[[nodiscard]] constexpr int few_streams_splits(int tiles, int groups, int multiprocessors,
                                               FewStreamsSplitPolicy policy = few_streams_split_policy) {
  if (tiles <= 0 || groups <= 0) return 1;
  const int target = policy.blocks_per_sm * (multiprocessors > 0 ? multiprocessors : 1);
  int splits = target / tiles;  // whole waves: one more block than the GPU holds is a second wave
  if (splits > groups) splits = groups;
  if (splits < 1) splits = 1;
  const int each = (groups + splits - 1) / splits;
  return (groups + each - 1) / each;  // none left empty
}

// Blocks of one launch that may need a partial tile in the workspace: the
// splits exist only while tiles fall short of the target, so tiles x splits
// stays below tiles + target; `forced_splits` > 0 (tests, the bench): tiles
// x that many.
[[nodiscard]] constexpr std::size_t few_streams_split_blocks(std::size_t tiles, int multiprocessors,
                                                             std::size_t forced_splits = 0,
                                                             FewStreamsSplitPolicy policy = few_streams_split_policy) {
  const auto target =
      static_cast<std::size_t>(policy.blocks_per_sm) * static_cast<std::size_t>(multiprocessors > 0 ? multiprocessors : 1);
  const std::size_t automatic = (tiles < target ? tiles : target) + target;
  const std::size_t forced = tiles * forced_splits;
  return forced > automatic ? forced : automatic;
}

}  // namespace pagoda::kernels
