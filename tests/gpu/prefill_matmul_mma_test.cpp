// kernels::matmul_mma_streams<F> (the prefill GEMM on mma.sync, reading the
// field-streams layout), kernels::matmul_mma_few<F> (the same for the
// batched decode step's few tokens, K split across blocks) and
// kernels::matmul_wgmma_streams<F> (the same on
// Hopper's wgmma; skipped where the device or build lacks it) against the CPU
// oracle, every format of quant::field_stream_formats, every tile policy, on
// fresh seeded weights from the synthetic block generator and random activations.
//
// The error budget and the harness: gpu/matmul_oracle.hpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/cpu/thread_pool.hpp>
#include <pagoda/gguf/file.hpp>
#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/matmul_mma_streams.cuh>
#include <pagoda/kernels/matmul_wgmma_streams.cuh>
#include <pagoda/kernels/to_half.cuh>
#include <pagoda/model/architecture.hpp>
#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/half.hpp>

#include "gpu/kernel_support.hpp"
#include "gpu/matmul_oracle.hpp"
#include "gpu/prefill_support.hpp"
#include "quant/random_blocks.hpp"
#include "support/skip.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

using namespace pagoda::matmul_oracle;

// matmul_mma_few's launch: `splits` forced (0: its own choice), the workspace the engine would give it.
struct FewSplits {
  int splits;
};

// check_products on the GEMM `Policy` names: matmul_mma_streams<F>
// (MmaPolicy), matmul_wgmma_streams<F> (WgmmaPolicy), with `policy` forced
// (or null), or matmul_mma_few<F> (FewSplits, run twice: run_twice).
template <class F, class Policy>
void check_launch(std::span<const std::size_t> row_counts, std::size_t cols, std::size_t tokens,
                  const Policy* policy) {
  check_products<F>(row_counts, cols, tokens, [&](auto targets, const __half* x, auto& outputs) {
    const auto device = kernels::DeviceInfo::current();
    if constexpr (std::is_same_v<Policy, FewSplits>) {
      std::size_t rows = 0;
      for (const auto& t : targets) rows += t.rows;
      const kernels::SplitWorkspace size = kernels::matmul_mma_few_workspace_size(
          rows, device, static_cast<std::size_t>(std::max(policy->splits, 0)));
      run_twice(size, outputs, [&](const kernels::SplitWorkspace& workspace) {
        kernels::matmul_mma_few<F>(targets, cols, x, tokens, workspace, device, nullptr, policy->splits);
      });
    } else if constexpr (std::is_same_v<Policy, kernels::WgmmaPolicy>) {
      kernels::matmul_wgmma_streams<F>(targets, cols, x, tokens, device, nullptr, policy);
    } else {
      kernels::matmul_mma_streams<F>(targets, cols, x, tokens, device, nullptr, policy);
    }
  });
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("prefill: matmul_mma_streams<F> matches cpu::matmul at ragged shapes under every tile policy",
                          F, mma_oracle_case) {
  for (const kernels::MmaPolicy& policy : kernels::mma_policies) {
    CAPTURE(policy);
    // One stage; ragged tokens and rows (a partial group of 8, an odd row count: scalar stores).
    const std::size_t one[] = {13};
    check_launch<F>(one, width<F>(1), 7, &policy);
    // Tiles of every kind: partial token and row tiles, several stages and pipeline wraps.
    const std::size_t some[] = {200};
    check_launch<F>(some, width<F>(9), 70, &policy);
    const std::size_t more[] = {130};
    check_launch<F>(more, width<F>(32), 161, &policy);
  }
}
TEST_CASE_TEMPLATE_APPLY(mma_oracle_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("prefill: matmul_mma_streams<F> multiplies up to three matrices in one launch, the policy "
                          "its selector picks",
                          F, mma_targets_case) {
  const std::size_t qkv[] = {256, 64, 72};  // a residual on the second
  check_launch<F>(qkv, width<F>(8), 300, static_cast<const kernels::MmaPolicy*>(nullptr));
  const std::size_t gate_up[] = {384, 384};
  check_launch<F>(gate_up, width<F>(4), 33, static_cast<const kernels::MmaPolicy*>(nullptr));
}
TEST_CASE_TEMPLATE_APPLY(mma_targets_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("decode batch: matmul_mma_few<F> matches cpu::matmul for 1 to 16 tokens, K whole or "
                          "split, and repeats itself bit for bit",
                          F, mma_few_case) {
  for (const int splits : {1, 3, 0}) {  // 0: mma_few_splits' choice (8 for 32 stages here)
    CAPTURE(splits);
    for (const std::size_t tokens : {std::size_t{1}, std::size_t{5}, std::size_t{16}}) {
      const FewSplits forced{splits};
      const std::size_t qkv[] = {256, 64, 72};  // a residual on the second
      check_launch<F>(qkv, width<F>(32), tokens, &forced);
      const std::size_t ragged[] = {161};
      check_launch<F>(ragged, width<F>(9), tokens, &forced);
    }
  }
  const FewSplits automatic{0};
  const std::size_t gate_up[] = {640, 640};  // several tiles a matrix, fewer splits
  check_launch<F>(gate_up, width<F>(16), 16, &automatic);
  const std::size_t each_rounded_up[] = {130, 130, 130};  // 6 tiles, where 390 rows alone make 4
  check_launch<F>(each_rounded_up, width<F>(16), 7, &automatic);
}
TEST_CASE_TEMPLATE_APPLY(mma_few_case, StreamFormats);

TEST_CASE("decode batch: matmul_mma_few refuses more than 16 tokens and a workspace too small for its splits") {
  using F = quant::Q4_0;
  const std::size_t cols = width<F>(32), rows = 256;
  const Matrix<F> w(rows, cols, 5);
  kt::DeviceArray<std::uint16_t> x(17 * cols);
  kt::DeviceArray<float> y(17 * rows);
  const kernels::MatmulTarget target[] = {{w.device.get(), rows, y.get(), nullptr}};
  const auto device = kernels::DeviceInfo::current();
  CHECK_THROWS_AS(kernels::matmul_mma_few<F>(target, cols, as_half(x), 17, {}, device, nullptr, 1), Error);
  CHECK_THROWS_AS(kernels::matmul_mma_few<F>(target, cols, as_half(x), 4, {}, device, nullptr, 4), Error);
}

namespace {

bool wgmma_here() { return kernels::DeviceInfo::current().wgmma(); }

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("prefill: matmul_wgmma_streams<F> matches cpu::matmul at ragged shapes under every tile "
                          "policy, one to three matrices a launch",
                          F, wgmma_oracle_case) {
  if (!wgmma_here()) PAGODA_SKIP("no wgmma here: needs compute capability 9.0 and a build with 90a");
  for (const kernels::WgmmaPolicy& policy : kernels::wgmma_policies) {
    CAPTURE(policy);
    const std::size_t one[] = {13};  // one stage; 7 tokens of a 64- or 128-token tile, 13 of 64 or 128 rows
    check_launch<F>(one, width<F>(1), 7, &policy);
    const std::size_t some[] = {200};  // partial tiles, several stages, pipeline wraps
    check_launch<F>(some, width<F>(9), 70, &policy);
    const std::size_t more[] = {130};
    check_launch<F>(more, width<F>(32), 161, &policy);
  }
  const std::size_t qkv[] = {256, 64, 72};  // the selector's policy; a residual on the second
  check_launch<F>(qkv, width<F>(8), 300, static_cast<const kernels::WgmmaPolicy*>(nullptr));
}
TEST_CASE_TEMPLATE_APPLY(wgmma_oracle_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("prefill: matmul_wgmma_gated<F> writes act(gate x) * up x in f16, bit for bit what "
                          "the two products and kernels::gated_activation write",
                          F, wgmma_gated_case) {
  if (!wgmma_here()) PAGODA_SKIP("no wgmma here: needs compute capability 9.0 and a build with 90a");
  // Ragged: rows not a multiple of the 64-row tile, tokens not of the 128-token one.
  const std::size_t rows = 200, cols = width<F>(9), tokens = 130;
  std::mt19937 rng(static_cast<std::uint32_t>(cols));
  std::vector<float> x = kt::random_normal(tokens * cols, rng);
  for (float& v : x) v = prefill_test::round_f16(v);
  const kt::DeviceArray<std::uint16_t> x16{std::span<const std::uint16_t>(halves_of(x))};
  const Matrix<F> gate(rows, cols, 21), up(rows, cols, 22);
  const auto device = kernels::DeviceInfo::current();
  for (const model::FfnActivation activation : {model::FfnActivation::silu, model::FfnActivation::gelu_tanh}) {
    CAPTURE(model::name_of(activation));
    kt::DeviceArray<float> gate_y(tokens * rows), up_y(tokens * rows);
    kt::DeviceArray<std::uint16_t> want(tokens * rows), got(tokens * rows);
    got.poison();
    const kernels::MatmulTarget both[] = {{gate.device.get(), rows, gate_y.get(), nullptr},
                                          {up.device.get(), rows, up_y.get(), nullptr}};
    kernels::matmul_wgmma_streams<F>(both, cols, as_half(x16), tokens, device, nullptr, &kernels::wgmma_policy_wide);
    kernels::gated_activation(activation, gate_y.get(), up_y.get(), reinterpret_cast<__half*>(want.get()),
                              tokens * rows, nullptr);
    kernels::matmul_wgmma_gated<F>(gate.device.get(), up.device.get(), rows, cols, as_half(x16), tokens, activation,
                                   reinterpret_cast<__half*>(got.get()), device, nullptr);
    kt::cuda_ok(cudaDeviceSynchronize(), "matmul_wgmma_gated");
    const std::vector<std::uint16_t> expected = want.download(), result = got.download();
    std::size_t differ = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) differ += expected[i] != result[i];
    CHECK(differ == 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(wgmma_gated_case, StreamFormats);

TEST_CASE("prefill: matmul_wgmma_streams refuses a device without wgmma, and what matmul_mma_streams refuses") {
  kt::DeviceArray<std::byte> w(1 << 20);
  kt::DeviceArray<float> y(1 << 16);
  kt::DeviceArray<std::uint16_t> x(1 << 16);
  const kernels::MatmulTarget one[] = {{w.get(), 8, y.get(), nullptr}};
  // This device as if it were an Ada one (compute capability 8.9): refused before any launch, on every device.
  const auto device = kernels::DeviceInfo::current();
  kernels::DeviceProperties ada = device.properties();
  ada.compute_capability = 89;
  CHECK_THROWS_WITH_AS(kernels::matmul_wgmma_streams<quant::Q4_0>(one, 512, as_half(x), 4,
                                                                  kernels::DeviceInfo(ada, true), nullptr),
                       doctest::Contains("compute capability 9.0"), Error);
  if (!device.wgmma()) {
    CHECK_THROWS_WITH_AS(kernels::matmul_wgmma_streams<quant::Q4_0>(one, 512, as_half(x), 4, device, nullptr),
                         doctest::Contains("compute capability 9.0"), Error);
    PAGODA_SKIP("no wgmma here: only the refusal was checked");
  }
  CHECK_THROWS_WITH_AS(kernels::matmul_wgmma_streams<quant::Q4_0>(one, 96, as_half(x), 4, device, nullptr),
                       doctest::Contains("kernels::matmul_wgmma_streams<Q4_0>"), Error);
  CHECK_THROWS_AS(kernels::matmul_wgmma_streams<quant::Q4_0>(one, 512, as_half(x) + 1, 4, device, nullptr), Error);
}

TEST_CASE("prefill: matmul_mma_streams writes y += W x in place (residual equal to y)") {
  using F = quant::Q4_0;
  const std::size_t rows = 96, cols = 512, tokens = 40;
  std::mt19937 rng(7);
  std::vector<float> x = kt::random_normal(tokens * cols, rng);
  for (float& v : x) v = prefill_test::round_f16(v);
  const kt::DeviceArray<std::uint16_t> x16{std::span<const std::uint16_t>(halves_of(x))};
  const Matrix<F> w(rows, cols, 11);
  const std::vector<float> start = kt::random_normal(tokens * rows, rng);
  kt::DeviceArray<float> y{std::span<const float>(start)}, separate(tokens * rows);
  const kernels::MatmulTarget in_place[] = {{w.device.get(), rows, y.get(), y.get()}};
  const kernels::MatmulTarget plain[] = {{w.device.get(), rows, separate.get(), nullptr}};
  const auto device = kernels::DeviceInfo::current();
  kernels::matmul_mma_streams<F>(in_place, cols, as_half(x16), tokens, device, nullptr);
  kernels::matmul_mma_streams<F>(plain, cols, as_half(x16), tokens, device, nullptr);
  const std::vector<float> got = y.download();
  const std::vector<float> product = separate.download();
  for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == start[i] + product[i]);
}

TEST_CASE("prefill: matmul_mma_streams refuses what it cannot take, naming the format") {
  kt::DeviceArray<std::byte> w(1 << 20);
  kt::DeviceArray<float> y(1 << 16);
  kt::DeviceArray<std::uint16_t> x(1 << 16);
  const kernels::MatmulTarget one[] = {{w.get(), 8, y.get(), nullptr}};
  const kernels::MatmulTarget four[] = {one[0], one[0], one[0], one[0]};
  const auto* x16 = as_half(x);
  const auto device = kernels::DeviceInfo::current();
  CHECK_FALSE(kernels::matmul_mma_takes<quant::Q4_0>(96));   // not whole 64-element stages
  CHECK_FALSE(kernels::matmul_mma_takes<quant::Q6_K>(768));  // three super-blocks: d entries not word-aligned
  CHECK(kernels::matmul_mma_takes<quant::Q6_K>(4096));
  CHECK_THROWS_WITH_AS(kernels::matmul_mma_streams<quant::Q4_0>(one, 96, x16, 4, device, nullptr),
                       doctest::Contains("kernels::matmul_mma_streams<Q4_0>"), Error);
  CHECK_THROWS_WITH_AS(kernels::matmul_mma_streams<quant::Q6_K>(one, 768, x16, 4, device, nullptr),
                       doctest::Contains("kernels::matmul_mma_streams<Q6_K>"), Error);
  CHECK_THROWS_AS(kernels::matmul_mma_streams<quant::Q4_0>(four, 512, x16, 4, device, nullptr), Error);
  CHECK_THROWS_AS(kernels::matmul_mma_streams<quant::Q4_0>(one, 512, x16 + 1, 4, device, nullptr),
                  Error);  // x misaligned
  const kernels::MatmulTarget misaligned[] = {{w.get() + 8, 8, y.get(), nullptr}};
  CHECK_THROWS_AS(kernels::matmul_mma_streams<quant::Q4_0>(misaligned, 512, x16, 4, device, nullptr), Error);
  CHECK_NOTHROW(kernels::matmul_mma_streams<quant::Q4_0>(one, 512, x16, 0, device, nullptr));  // no tokens: no launch
}

TEST_CASE("prefill: to_half rounds to the nearest f16, ties to even, on both of its paths") {
  std::mt19937 rng(3);
  std::vector<float> x = kt::random_normal(4099, rng, 100.0f);
  x[0] = 65519.0f;  // rounds down to 65504
  x[1] = 65520.0f;  // rounds to infinity
  x[2] = 1e-8f;     // a subnormal f16
  x[3] = 1.0f + 0x1p-11f;  // a tie: to even (1.0)
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  for (const std::size_t n : {std::size_t{4096}, std::size_t{4099}}) {  // 16-byte path, then scalar
    CAPTURE(n);
    kt::DeviceArray<std::uint16_t> out(n);
    kernels::to_half(device_x.get(), reinterpret_cast<__half*>(out.get()), n, nullptr);
    const std::vector<std::uint16_t> got = out.download();
    for (std::size_t i = 0; i < n; ++i) REQUIRE(got[i] == quant::f32_to_f16(x[i]).bits);
  }
}
