// The field-streams GEMV's launch shapes (kernels/tuning/gemv_q.hpp), chosen
// on the host: 16-warp blocks from 1024 rows (measured faster on every 8B
// projection), one row per warp for short matrices; every shape the selector
// can return is instantiated, and the gated launch's two-rows-per-warp shape
// is among them.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>

#include "pagoda/kernels/tuning/gemv_q.hpp"

using namespace pagoda::kernels;

TEST_CASE("gemv_streams takes 16-warp blocks from 1024 rows and one row per warp below") {
  CHECK(tuning::select_streams(90, {4096, 4096}) == gemv_streams_policy_wide);
  CHECK(tuning::select_streams(90, {1024, 4096}) == gemv_streams_policy_wide);
  CHECK(tuning::select_streams(90, {4096, 14336}) == gemv_streams_policy_wide);
  CHECK(tuning::select_streams(90, {2 * 14336, 4096}) == gemv_streams_policy_wide);  // gate and up, paired
  CHECK(tuning::select_streams(90, {576, 576}) == gemv_streams_policy_short);
  CHECK(tuning::select_streams(90, {1023, 4096}) == gemv_streams_policy_short);
}

TEST_CASE("every gemv_streams launch shape is valid and instantiated; the wide one pairs gate and up rows") {
  for (const auto& shape : {GemvShape{1, 32}, GemvShape{576, 576}, GemvShape{1024, 512}, GemvShape{128256, 4096}}) {
    const GemvPolicy chosen = tuning::select_streams(90, shape);
    CHECK(std::find(std::begin(gemv_streams_policies), std::end(gemv_streams_policies), chosen) !=
          std::end(gemv_streams_policies));
  }
  for (const GemvPolicy& p : gemv_streams_policies) {
    CAPTURE(p);
    CHECK(p.valid());
    CHECK(p.warps_per_row() == 1);
  }
  CHECK(gemv_streams_policy_wide.rows_per_warp() == 2);
  CHECK(gemv_streams_policy_wide.threads == 512);
}

TEST_CASE("q, k and v take two 12-warp blocks an SM only where that takes their tasks in fewer rounds") {
  const std::size_t wide_warps = 132 * 16, two_warps = 264 * 12;  // an H100's grids
  CHECK(gemv_streams_policy_two_an_sm.threads == 384);
  CHECK(gemv_streams_policy_two_an_sm.rows_per_warp() == 2);
  // Llama 3 8B: (4096 + 1024 + 1024) / 2 tasks: 2 rounds on the wide grid, 1 on the other
  CHECK(tuning::two_an_sm_fewer_rounds(3072, wide_warps, two_warps));
  // Llama 3.2 1B: (2048 + 512 + 512) / 2: one round either way
  CHECK_FALSE(tuning::two_an_sm_fewer_rounds(1536, wide_warps, two_warps));
  CHECK_FALSE(tuning::two_an_sm_fewer_rounds(2112, wide_warps, two_warps));
  CHECK(tuning::two_an_sm_fewer_rounds(2113, wide_warps, two_warps));
  CHECK(tuning::two_an_sm_fewer_rounds(7000, wide_warps, two_warps));  // 3 rounds against 4
  CHECK_FALSE(tuning::two_an_sm_fewer_rounds(100, 0, two_warps));
}
