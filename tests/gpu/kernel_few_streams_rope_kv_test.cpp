// kernels::matmul_few_streams_rope_kv (the batched step's q, k and v with
// RoPE and the KV append in the epilogue) against what it replaces, run in
// turn: matmul_few_streams on q, k and v, then rope_kv_store over the tokens,
// both with their own oracle tests. The queries and both whole caches equal
// bit for bit (every other cache row untouched), every format, 1 to 16
// tokens each at its own position and cache row, partial rotation, frequency
// factors, GQA, K whole or split, q, k and v in one launch or v in its own.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <cuda_fp16.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/matmul_few_streams.cuh>
#include <pagoda/kernels/rope_kv_store.cuh>

#include "gpu/kernel_support.hpp"
#include "gpu/matmul_oracle.hpp"

using namespace pagoda;
using namespace pagoda::matmul_oracle;
using kt::same_bits;

namespace {

struct Case {
  std::size_t n_heads, n_kv_heads;
  std::uint32_t head_dim, rotated;
  bool factors, value_apart;  // value_apart: v in a launch of its own
};

template <class F>
void check_few_rope_kv(const Case& c, std::size_t cols, std::size_t tokens, int splits, std::uint64_t seed) {
  CAPTURE(c.n_heads);
  CAPTURE(c.n_kv_heads);
  CAPTURE(c.head_dim);
  CAPTURE(c.rotated);
  CAPTURE(c.factors);
  CAPTURE(c.value_apart);
  CAPTURE(tokens);
  CAPTURE(splits);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::size_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const std::array<std::size_t, 3> rows{q_dim, kv_dim, kv_dim};
  constexpr std::size_t context = 40;  // each token's own sequence of 40 rows
  const std::size_t cache_rows_total = tokens * context;

  std::vector<float> x = kt::random_normal(tokens * cols, rng);
  const kt::DeviceArray<std::uint16_t> x16{std::span<const std::uint16_t>(halves_of(x))};
  std::vector<std::int32_t> positions(tokens), cache_rows(tokens);
  for (std::size_t r = 0; r < tokens; ++r) {
    positions[r] = static_cast<std::int32_t>(rng() % context);
    cache_rows[r] = static_cast<std::int32_t>((tokens - 1 - r) * context) + positions[r];  // sequences reversed
  }
  const kt::DeviceArray<std::int32_t> device_positions{std::span<const std::int32_t>(positions)};
  const kt::DeviceArray<std::int32_t> device_cache_rows{std::span<const std::int32_t>(cache_rows)};
  std::vector<float> factors;
  std::uniform_real_distribution<float> factor(1.0f, 8.0f);
  if (c.factors)
    for (std::uint32_t i = 0; i < c.rotated / 2; ++i) factors.push_back(factor(rng));
  const kt::DeviceArray<float> device_factors{std::span<const float>(factors)};
  const kernels::RopeParams rope{c.head_dim, c.rotated, 500000.0f, 1.0f, c.factors ? device_factors.get() : nullptr,
                                 model::RopeLayout::interleaved};

  std::vector<Matrix<F>> matrices;
  matrices.reserve(3);
  for (std::size_t m = 0; m < 3; ++m) matrices.emplace_back(rows[m], cols, seed * 5 + m);
  std::vector<kt::DeviceArray<float>> want, got;
  for (std::size_t m = 0; m < 3; ++m) {
    want.emplace_back(tokens * rows[m]);
    got.emplace_back(tokens * rows[m]);
  }
  std::vector<std::uint16_t> noise(cache_rows_total * kv_dim);
  for (std::uint16_t& h : noise) h = static_cast<std::uint16_t>(rng() & 0x3bffu);  // finite halves
  const auto noisy = [&] { return kt::DeviceArray<std::uint16_t>{std::span<const std::uint16_t>(noise)}; };
  kt::DeviceArray<std::uint16_t> want_k = noisy(), want_v = noisy(), got_k = noisy(), got_v = noisy();
  const auto half_of = [](kt::DeviceArray<std::uint16_t>& a) { return reinterpret_cast<__half*>(a.get()); };
  const auto targets_into = [&](std::vector<kt::DeviceArray<float>>& out) {
    std::array<kernels::MatmulTarget, 3> targets{};
    for (std::size_t m = 0; m < 3; ++m) targets[m] = {matrices[m].device.get(), rows[m], out[m].get(), nullptr};
    return targets;
  };
  const auto device = kernels::DeviceInfo::current();
  kernels::SplitWorkspace workspace = kernels::matmul_few_streams_workspace_size(
      q_dim + 2 * kv_dim, device, static_cast<std::size_t>(splits > 0 ? splits : 0));
  kt::DeviceArray<float> partials(workspace.partial_floats);
  kt::DeviceArray<unsigned> arrivals(workspace.arrival_count);
  kt::cuda_ok(cudaMemset(arrivals.get(), 0, workspace.arrival_count * sizeof(unsigned)), "zero the tile counters");
  workspace.partials = partials.get();
  workspace.arrivals = arrivals.get();

  const auto want_targets = targets_into(want);
  kernels::matmul_few_streams<F>(want_targets, cols, as_half(x16), tokens, workspace, device, nullptr, splits);
  kernels::rope_kv_store(want[0].get(), want[1].get(), want[2].get(), half_of(want_k), half_of(want_v), c.n_heads,
                         c.n_kv_heads, rope, device_positions.get(), nullptr, tokens, device_cache_rows.get());

  const auto got_targets = targets_into(got);
  kernels::RopeKvAppend append{.rope = rope,
                               .k_cache = half_of(got_k),
                               .v_cache = half_of(got_v),
                               .positions = device_positions.get(),
                               .cache_rows = device_cache_rows.get()};
  if (c.value_apart) {
    kernels::matmul_few_streams_rope_kv<F>(std::span(got_targets).first(2), cols, as_half(x16), tokens, append,
                                           workspace, device, nullptr, splits);
    append.roles[0] = kernels::QkvRole::value;
    kernels::matmul_few_streams_rope_kv<F>(std::span(got_targets).subspan(2), cols, as_half(x16), tokens, append,
                                           workspace, device, nullptr, splits);
  } else {
    kernels::matmul_few_streams_rope_kv<F>(got_targets, cols, as_half(x16), tokens, append, workspace, device,
                                           nullptr, splits);
  }
  kt::cuda_ok(cudaDeviceSynchronize(), "the products, RoPE and the KV append");

  const std::vector<float> want_q = want[0].download();
  kt::require_nonzero(want_q);
  CHECK(same_bits(got[0].download(), want_q));
  CHECK(same_bits(got_k.download(), want_k.download()));
  CHECK(same_bits(got_v.download(), want_v.download()));
  CHECK_FALSE(same_bits(want_k.download(), noise));  // key rows were written
  CHECK(arrivals.download() == std::vector<unsigned>(workspace.arrival_count, 0u));
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("decode batch: matmul_few_streams_rope_kv<F> leaves the queries and the caches as "
                          "matmul_few_streams then rope_kv_store do, bit for bit",
                          F, few_rope_kv_case) {
  const std::size_t cols = F::block_elements < 512 ? 512 : 2 * F::block_elements;
  const Case cases[] = {
      {8, 2, 64, 64, false, false},  // llama-style GQA 4:1
      {6, 3, 64, 32, true, false},   // partial rotation, frequency factors
      {4, 4, 128, 128, true, true},  // v in its own launch (a mixed-format model's grouping)
  };
  std::uint64_t seed = 21;
  for (const Case& c : cases)
    for (const std::size_t tokens : {std::size_t{1}, std::size_t{5}, std::size_t{16}})
      for (const int splits : {1, 0}) check_few_rope_kv<F>(c, cols, tokens, splits, seed++);
}
TEST_CASE_TEMPLATE_APPLY(few_rope_kv_case, StreamFormats);

TEST_CASE("decode batch: matmul_few_streams_rope_kv refuses NeoX RoPE, rows that are not whole heads, a residual, "
          "and null caches") {
  using F = quant::Q4_0;
  const std::size_t cols = 512, head_dim = 64;
  const Matrix<F> w(2 * head_dim, cols, 3);
  kt::DeviceArray<std::uint16_t> x(cols), cache(8 * head_dim);
  kt::DeviceArray<float> y(2 * head_dim);
  kt::DeviceArray<std::int32_t> positions(1);
  const auto device = kernels::DeviceInfo::current();
  auto* half_cache = reinterpret_cast<__half*>(cache.get());
  std::array<kernels::MatmulTarget, 3> targets{kernels::MatmulTarget{w.device.get(), 2 * head_dim, y.get(), nullptr},
                                               kernels::MatmulTarget{w.device.get(), head_dim, y.get(), nullptr},
                                               kernels::MatmulTarget{w.device.get(), head_dim, y.get(), nullptr}};
  kernels::RopeKvAppend append{.rope = {head_dim, head_dim, 10000.0f, 1.0f, nullptr, model::RopeLayout::neox},
                               .k_cache = half_cache,
                               .v_cache = half_cache,
                               .positions = positions.get()};
  const auto launch = [&] {
    kernels::matmul_few_streams_rope_kv<F>(targets, cols, as_half(x), 1, append, {}, device, nullptr, 1);
  };
  CHECK_THROWS_WITH_AS(launch(), doctest::Contains("interleaved"), Error);
  append.rope.layout = model::RopeLayout::interleaved;
  targets[1].rows = head_dim + 2;
  CHECK_THROWS_WITH_AS(launch(), doctest::Contains("whole heads"), Error);
  targets[1].rows = head_dim;
  targets[2].residual = y.get();
  CHECK_THROWS_WITH_AS(launch(), doctest::Contains("no residual"), Error);
  targets[2].residual = nullptr;
  append.k_cache = nullptr;
  CHECK_THROWS_WITH_AS(launch(), doctest::Contains("not null"), Error);
}
