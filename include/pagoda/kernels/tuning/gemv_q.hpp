// Launch shapes of kernels::gemv_q (the decode matrix-vector product), as plain
// values, and the one place that picks among them.
//
// A block of `threads` threads computes `rows_per_block` consecutive outputs.
// With W = threads / 32 warps:
//   rows_per_block >= W: each warp computes rows_per_block / W rows at once,
//     so every x value it loads is used for that many weight rows (x is read
//     from L1 as f32, 4 bytes per element against ~0.56 B of Q4 weights:
//     sharing it is what keeps L1 off the critical path);
//   rows_per_block <  W: W / rows_per_block warps share one row and add their
//     partial sums through shared memory (short, wide matrices).
// Compiled by g++ as well (the engine logs and tests name policies); the
// kernel instantiates one variant per entry of gemv_policies.
#pragma once

#include <cstddef>
#include <ostream>

namespace pagoda::kernels {

struct GemvPolicy {
  int threads;         // per block, a multiple of 32
  int rows_per_block;  // outputs per block

  [[nodiscard]] constexpr int warps() const { return threads / 32; }
  [[nodiscard]] constexpr int rows_per_warp() const {
    return rows_per_block >= warps() ? rows_per_block / warps() : 1;
  }
  [[nodiscard]] constexpr int warps_per_row() const {
    return rows_per_block >= warps() ? 1 : warps() / rows_per_block;
  }
  [[nodiscard]] constexpr bool valid() const {
    return threads % 32 == 0 && threads >= 32 && threads <= 1024 && rows_per_block >= 1 &&
           (rows_per_block % warps() == 0 || warps() % rows_per_block == 0) && rows_per_warp() <= 8;
  }

  friend constexpr bool operator==(const GemvPolicy&, const GemvPolicy&) = default;
  friend std::ostream& operator<<(std::ostream& out, const GemvPolicy& p) {
    return out << "GemvPolicy{threads " << p.threads << ", rows_per_block " << p.rows_per_block << "}";
  }
};

// What the heuristic looks at.
struct GemvShape {
  std::size_t rows;
  std::size_t cols;
};

// The instantiated shapes (one kernel per format and path for each).
// Tall matrices (projections of 1B+ models, FFN, logits): 4 warps x 2 rows;
// 2 rows per warp halve the x traffic through L1, and 8 rows per block still
// give >= 256 blocks for rows >= 2048, two per SM of an H100.
inline constexpr GemvPolicy gemv_policy_tall{128, 8};
// Short matrices (SmolLM2's 576-row projections): 2 warps per row, so that a
// few hundred rows still spread over every SM.
inline constexpr GemvPolicy gemv_policy_short{128, 2};
inline constexpr GemvPolicy gemv_policies[] = {gemv_policy_tall, gemv_policy_short};
static_assert(gemv_policy_tall.valid() && gemv_policy_short.valid());

// The staged kernel (gemv_q_staged.cuh) quantizes x once per block, so its
// blocks are bigger (8 warps) and stride over the rows; one warp per row
// group. Tall: 2 rows per warp; short: 1, so that a few hundred rows still
// make enough warps.
inline constexpr GemvPolicy gemv_staged_policy_tall{256, 16};
inline constexpr GemvPolicy gemv_staged_policy_short{256, 8};
inline constexpr GemvPolicy gemv_staged_policies[] = {gemv_staged_policy_tall, gemv_staged_policy_short};
static_assert(gemv_staged_policy_tall.valid() && gemv_staged_policy_short.valid());
static_assert(gemv_staged_policy_tall.warps_per_row() == 1 && gemv_staged_policy_short.warps_per_row() == 1);

// The field-streams kernel (gemv_streams.cuh): one warp per row group as the
// staged kernel. Every block quantizes x into its shared memory first, so
// fewer, fatter blocks (16 warps, one per SM) pay that prologue half as often
// (a 14336-column x is 57 KB from L2 per block).
inline constexpr GemvPolicy gemv_streams_policy_tall{256, 16};
inline constexpr GemvPolicy gemv_streams_policy_wide{512, 32};
inline constexpr GemvPolicy gemv_streams_policy_short{256, 8};
inline constexpr GemvPolicy gemv_streams_policies[] = {gemv_streams_policy_tall, gemv_streams_policy_wide,
                                                       gemv_streams_policy_short};
static_assert(gemv_streams_policy_wide.valid() && gemv_streams_policy_wide.rows_per_warp() == 2);
// q, k and v with RoPE in the epilogue (gemv_streams_fused_rope_kv), where
// their two-row tasks outnumber the wide grid's warps: 12-warp blocks, two
// an SM (the kernel asks ptxas for two: at most 85 registers), so that the
// launch lasts fewer rounds of tasks (two_an_sm_fewer_rounds). Instantiated
// only for the formats whose kernel fits that without spilling
// (kernels::streams_rope_kv_two_an_sm).
inline constexpr GemvPolicy gemv_streams_policy_two_an_sm{384, 24};
static_assert(gemv_streams_policy_two_an_sm.valid() && gemv_streams_policy_two_an_sm.rows_per_warp() == 2);

namespace tuning {

// A first guess, the same for every architecture pagoda builds for (sm_80 ..
// sm_90); compute_capability: major * 10 + minor. First measurement
// (tests/gpu/kernel_timing_test.cpp, H100, GB/s of weights, tall / short):
//   Q4_0 4096x4096 1211 / 1071, 14336x4096 1410 / 1315, 4096x14336 1231 / 1410
//   Q8_0 4096x4096 2154 / 1772      Q6_K 4096x4096 1152 / 1074
//   Q4_K 4096x4096  658 /  699, 14336x4096 729 / 814   F16 4096x4096 2396 / 3023
//   Q4_1 576x576 5.2 us (short, launch bound), 49152x576 1110 / 771
// so neither shape wins everywhere; the speed issue refines this.

[[nodiscard]] constexpr GemvPolicy select(int compute_capability, const GemvShape& shape) {
  (void)compute_capability;
  return shape.rows >= 2048 ? gemv_policy_tall : gemv_policy_short;
}

// The field-streams kernel. Measured on an H100 (pagoda-kernel-bench, 8B
// shapes, stderr lists every shape; 2026-12-06, us, tall / wide / short):
//   Q4_0 4096x4096 6.05 / 5.64 / 6.19   1024x4096 4.54 / 3.88 / 5.23
//        14336x4096 15.82 / 15.12 / 15.89   4096x14336 20.40 / 17.50 / 20.66
//   Q4_K 4096x4096 7.58 / 6.96 / 8.57   4096x14336 25.39 / 21.56 / 27.86
//   Q6_K 14336x4096 25.60 / 23.92 / 23.91   4096x4096 8.32 / 7.75 / 9.10
// so 16-warp blocks wherever there are 1024 rows or more (even where they
// leave SMs idle: the prologue is what costs); below that (SmolLM2's 576
// rows, unmeasured) one row per warp, as the staged path.
[[nodiscard]] constexpr GemvPolicy select_streams(int compute_capability, const GemvShape& shape) {
  (void)compute_capability;
  return shape.rows >= 1024 ? gemv_streams_policy_wide : gemv_streams_policy_short;
}

// Whether the two-an-SM grid (two_an_sm_warps warps at once) takes `tasks`
// in fewer rounds than the wide grid (wide_warps): a launch lasts as long as
// its warps with the most tasks. Measured (H100, pagoda-bench tg128, Q4_0):
// the 8B's q, k and v (3,072 tasks: 2 rounds on 132 x 16 warps, 1 on 264 x
// 12) 424.3 t/s against 416.7; the 1B's (1,536 tasks: 1 round either way)
// lost 1.7% in the two-an-SM shape, so it keeps the wide one.
[[nodiscard]] constexpr bool two_an_sm_fewer_rounds(std::size_t tasks, std::size_t wide_warps,
                                                    std::size_t two_an_sm_warps) {
  if (wide_warps == 0 || two_an_sm_warps == 0) return false;
  return (tasks + two_an_sm_warps - 1) / two_an_sm_warps < (tasks + wide_warps - 1) / wide_warps;
}

// The same choice for the staged kernel.
[[nodiscard]] constexpr GemvPolicy select_staged(int compute_capability, const GemvShape& shape) {
  (void)compute_capability;
  return shape.rows >= 2048 ? gemv_staged_policy_tall : gemv_staged_policy_short;
}

}  // namespace tuning

}  // namespace pagoda::kernels
