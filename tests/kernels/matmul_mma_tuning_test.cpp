// The prefill GEMM's tile policies (kernels/tuning/matmul_mma.hpp), chosen on
// the host: the widest tile whose blocks cover three quarters of the SMs, as
// the H100 figures cited there rank them; every policy is valid and listed.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include "pagoda/kernels/tuning/matmul_mma.hpp"
#include "pagoda/kernels/tuning/matmul_wgmma.hpp"

using namespace pagoda::kernels;

TEST_CASE("matmul_mma_streams takes the 128 x 128 tile where its blocks fill the GPU, smaller ones where they would not") {
  constexpr int h100 = 132;
  CHECK(select_mma_policy(512, 4096, h100) == mma_policy_wide);           // 128 blocks
  CHECK(select_mma_policy(2048, 1024, h100) == mma_policy_wide);          // 128 blocks
  CHECK(select_mma_policy(128, 14336, h100) == mma_policy_wide);          // 112 blocks
  CHECK(select_mma_policy(512, 4096 + 2 * 1024, h100) == mma_policy_wide);  // q, k and v in one launch
  CHECK(select_mma_policy(128, 4096, h100) == mma_policy_short);          // 32 wide, 64 narrow blocks
  CHECK(select_mma_policy(512, 1024, h100) == mma_policy_short);
  CHECK(select_mma_policy(256, 4096, h100) == mma_policy_narrow);         // 64 wide, 128 narrow blocks
  CHECK(select_mma_policy(7, 13, h100) == mma_policy_short);
  CHECK(select_mma_policy(7, 13, 0) == mma_policy_wide);                  // no SM count: one block is enough
}

TEST_CASE("every matmul_mma_streams tile policy is valid and instantiated") {
  for (const MmaPolicy& p : mma_policies) {
    CAPTURE(p);
    CHECK(p.valid());
    CHECK(p.threads() % 32 == 0);
    CHECK(p.fragments_tokens() >= 1);
    CHECK(p.fragments_rows() >= 1);
  }
  for (const auto& [tokens, rows] : {std::pair{1, 1}, std::pair{300, 6144}, std::pair{4096, 128256}}) {
    const MmaPolicy chosen = select_mma_policy(static_cast<std::size_t>(tokens), static_cast<std::size_t>(rows), 132);
    CHECK(std::find(std::begin(mma_policies), std::end(mma_policies), chosen) != std::end(mma_policies));
  }
}

TEST_CASE("matmul_wgmma_streams takes 128 rows x 128 tokens where its blocks fill the GPU, 64-row tiles where not") {
  constexpr int h100 = 132;
  CHECK(select_wgmma_policy(512, 4096, h100) == wgmma_policy_wide);            // 128 blocks
  CHECK(select_wgmma_policy(512, 4096 + 2 * 1024, h100) == wgmma_policy_wide);  // q, k and v: 192 blocks
  CHECK(select_wgmma_policy(128, 14336, h100) == wgmma_policy_wide);           // 112 blocks
  CHECK(select_wgmma_policy(256, 4096, h100) == wgmma_policy_narrow);          // 64 wide, 128 narrow blocks
  CHECK(select_wgmma_policy(128, 4096, h100) == wgmma_policy_short);           // 32 wide, 64 narrow, 128 short
  CHECK(select_wgmma_policy(7, 13, h100) == wgmma_policy_short);
  CHECK(select_wgmma_policy(7, 13, 0) == wgmma_policy_wide);
}

TEST_CASE("every matmul_wgmma_streams tile policy is valid: whole warpgroups of 64 rows, N of 64 or 128") {
  for (const WgmmaPolicy& p : wgmma_policies) {
    CAPTURE(p);
    CHECK(p.valid());
    CHECK(p.threads() == 128 * p.warpgroups);
    CHECK(p.rows_tile() == 64 * p.warpgroups);
    CHECK(p.stage_tile().threads() == p.threads());  // the stage loader's view has the same threads
  }
  CHECK_FALSE(WgmmaPolicy{1, 96, 2}.valid());  // wgmma N here: 64 or 128 only
  CHECK_FALSE(WgmmaPolicy{3, 128, 1}.valid());
}
