// kernels::gemv_streams_fused_rope_kv (a decode step's q, k and v with RoPE
// and the KV append in the epilogue) against what it replaces, run in turn:
// gemv_streams_fused on q, k and v, then rope_kv_store for the one token,
// both with their own oracle tests. q and both whole caches equal bit for bit
// (every other cache row untouched), every format, partial rotation,
// frequency factors, biases, GQA, q, k and v in one launch or v in its own (a
// Q4_K_M-style mix); and the refusals: NeoX RoPE, rows not whole heads.
// gemv_streams_fused_rope_kv_pair (q and k in one format, v in another, one
// launch) against the same, for every listed pair.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <type_traits>
#include <vector>

#include <cuda_fp16.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/kernels/gemv_streams_pair.cuh>
#include <pagoda/kernels/rope_kv_store.cuh>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/format_list.hpp>

#include "gpu/kernel_support.hpp"
#include "quant/random_blocks.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;
using kt::same_bits;

namespace {

struct Case {
  std::size_t n_heads, n_kv_heads;
  std::uint32_t head_dim, rotated;
  bool factors, biases, value_apart;  // value_apart: v in a launch of its own
};

// F: q and k's format; V: v's (a pair launch where they differ).
template <class F, class V = F>
void check_rope_kv(const Case& c, std::size_t cols, std::int32_t position, std::uint64_t seed) {
  CAPTURE(c.n_heads);
  CAPTURE(c.n_kv_heads);
  CAPTURE(c.head_dim);
  CAPTURE(c.rotated);
  CAPTURE(c.factors);
  CAPTURE(c.biases);
  CAPTURE(c.value_apart);
  CAPTURE(position);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::size_t context = static_cast<std::size_t>(position) + 3;
  const std::size_t q_dim = c.n_heads * c.head_dim, kv_dim = c.n_kv_heads * c.head_dim;
  const std::array<std::size_t, 3> rows{q_dim, kv_dim, kv_dim};

  const std::vector<float> x = kt::random_normal(cols, rng);
  std::vector<float> norm_weight = kt::random_normal(cols, rng, 0.1f);
  for (float& w : norm_weight) w += 1.0f;
  std::vector<float> factors;
  std::uniform_real_distribution<float> factor(1.0f, 8.0f);
  if (c.factors)
    for (std::uint32_t i = 0; i < c.rotated / 2; ++i) factors.push_back(factor(rng));
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  const kt::DeviceArray<float> device_norm{std::span<const float>(norm_weight)};
  const kt::DeviceArray<float> device_factors{std::span<const float>(factors)};
  const std::vector<std::int32_t> positions{position};
  const kt::DeviceArray<std::int32_t> device_position{std::span<const std::int32_t>(positions)};
  const kernels::RopeParams rope{c.head_dim, c.rotated, 10000.0f, 1.0f, c.factors ? device_factors.get() : nullptr,
                                 model::RopeLayout::interleaved};
  constexpr float eps = 1e-5f;

  std::vector<kt::DeviceArray<std::byte>> weights;
  std::vector<kt::DeviceArray<float>> biases, want, got;
  const auto packed_of = [&]<class G>(std::size_t m) {
    std::vector<std::byte> packed(rows[m] * cols / G::block_elements * G::block_bytes);
    quant::pack_field_streams<G>(kt::synthetic_weights<G>(rows[m], cols, seed * 3 + m).data(), packed.data(), rows[m],
                                 cols);
    return packed;
  };
  for (std::size_t m = 0; m < 3; ++m) {
    const std::vector<std::byte> packed =
        m < 2 ? packed_of.template operator()<F>(m) : packed_of.template operator()<V>(m);
    weights.emplace_back(std::span<const std::byte>(packed));
    const std::vector<float> bias = kt::random_normal(rows[m], rng);
    biases.emplace_back(std::span<const float>(bias));
    want.emplace_back(rows[m]);
    got.emplace_back(rows[m]);
    got.back().poison();
  }
  // Both pairs of caches start as the same noise: rows other than the position must stay so.
  std::vector<std::uint16_t> noise(context * kv_dim);
  for (std::uint16_t& h : noise) h = static_cast<std::uint16_t>(rng() & 0x3bffu);  // finite halves
  const auto caches = [&] {
    return std::array<kt::DeviceArray<std::uint16_t>, 2>{kt::DeviceArray<std::uint16_t>{std::span<const std::uint16_t>(noise)},
                                                         kt::DeviceArray<std::uint16_t>{std::span<const std::uint16_t>(noise)}};
  };
  auto want_caches = caches(), got_caches = caches();
  const auto half_of = [](kt::DeviceArray<std::uint16_t>& a) { return reinterpret_cast<__half*>(a.get()); };
  const auto targets_into = [&](std::vector<kt::DeviceArray<float>>& out) {
    std::array<kernels::GemvTarget, 3> targets{};
    for (std::size_t m = 0; m < 3; ++m)
      targets[m] = {weights[m].get(), rows[m], out[m].get(), c.biases ? biases[m].get() : nullptr};
    return targets;
  };
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();

  const auto want_targets = targets_into(want);
  if constexpr (std::is_same_v<F, V>) {
    kernels::gemv_streams_fused<F>(want_targets, cols, device_x.get(), {device_norm.get(), eps}, device, stream);
  } else {
    kernels::gemv_streams_fused<F>(std::span(want_targets).first(2), cols, device_x.get(), {device_norm.get(), eps},
                                   device, stream);
    kernels::gemv_streams_fused<V>(std::span(want_targets).subspan(2), cols, device_x.get(),
                                   {device_norm.get(), eps}, device, stream);
  }
  kernels::rope_kv_store(want[0].get(), want[1].get(), want[2].get(), half_of(want_caches[0]),
                         half_of(want_caches[1]), c.n_heads, c.n_kv_heads, rope, device_position.get(), stream);

  const auto got_targets = targets_into(got);
  kernels::RopeKvAppend append{.rope = rope,
                               .k_cache = half_of(got_caches[0]),
                               .v_cache = half_of(got_caches[1]),
                               .positions = device_position.get()};
  if constexpr (!std::is_same_v<F, V>) {
    kernels::gemv_streams_fused_rope_kv_pair<F, V>(std::span(got_targets).first(2), std::span(got_targets).subspan(2),
                                                   cols, device_x.get(), {device_norm.get(), eps}, append, device,
                                                   stream);
  } else if (c.value_apart) {
    kernels::gemv_streams_fused_rope_kv<F>(std::span(got_targets).first(2), cols, device_x.get(),
                                           {device_norm.get(), eps}, append, device, stream);
    append.roles[0] = kernels::QkvRole::value;
    kernels::gemv_streams_fused_rope_kv<F>(std::span(got_targets).subspan(2), cols, device_x.get(),
                                           {device_norm.get(), eps}, append, device, stream);
  } else {
    kernels::gemv_streams_fused_rope_kv<F>(got_targets, cols, device_x.get(), {device_norm.get(), eps}, append,
                                           device, stream);
  }
  stream.sync();

  const std::vector<float> want_q = want[0].download();
  kt::require_nonzero(want_q);
  CHECK(same_bits(got[0].download(), want_q));
  CHECK(same_bits(got_caches[0].download(), want_caches[0].download()));
  CHECK(same_bits(got_caches[1].download(), want_caches[1].download()));
  CHECK_FALSE(same_bits(want_caches[0].download(), noise));  // the key row was written
}

using StreamFormats = quant::testing::as_tuple<quant::field_stream_formats>::type;

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("decode: gemv_streams_fused_rope_kv leaves q and the caches as gemv_streams_fused then "
                          "rope_kv_store do, bit for bit",
                          F, rope_kv_case) {
  const std::size_t cols = F::block_elements < 512 ? 512 : 2 * F::block_elements;
  const Case cases[] = {
      {8, 2, 64, 64, false, false, false},   // llama-style GQA 4:1
      {6, 3, 64, 32, true, true, false},     // partial rotation, frequency factors, biases
      {4, 4, 128, 128, false, true, true},   // v in its own launch (a mixed-format model's grouping)
      {9, 3, 128, 128, true, false, true},
      // Llama 3 8B's heads: 3,072 two-row tasks, more than the wide grid's warps
      // on an H100 (132 x 16), so Q4_0 takes the two-blocks-an-SM shape
      {32, 8, 128, 128, false, false, false},
  };
  std::uint64_t seed = 11;
  for (const Case& c : cases)
    for (const std::int32_t position : {0, 5, 1000}) check_rope_kv<F>(c, cols, position, seed++);
}
TEST_CASE_TEMPLATE_APPLY(rope_kv_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("decode: gemv_streams_fused_rope_kv_pair (q and k in one format, v in another, one "
                          "launch) leaves q and the caches as the one-format launches do, bit for bit",
                          Pair, rope_kv_pair_case) {
  using F = typename Pair::first_type;
  using V = typename Pair::second_type;
  const Case cases[] = {
      {8, 2, 64, 64, false, false, false},    // GQA 4:1
      {6, 3, 64, 32, true, true, false},      // partial rotation, frequency factors, biases
      {32, 8, 128, 128, false, true, false},  // the 8B's heads: 4,096 + 1,024 rows of q and k, 1,024 of v
  };
  std::uint64_t seed = 71;
  for (const Case& c : cases)
    for (const std::int32_t position : {0, 5, 1000}) check_rope_kv<F, V>(c, 512, position, seed++);
}
TEST_CASE_TEMPLATE_APPLY(rope_kv_pair_case, kernels::gemv_streams_pairs);

TEST_CASE("decode: gemv_streams_fused_rope_kv refuses NeoX RoPE, rows that are not whole heads, and null caches; "
          "its two-format launch an empty part and more than three targets") {
  using F = quant::Q4_0;
  const std::size_t cols = 512, head_dim = 64;
  kt::DeviceArray<std::byte> weights(4 * head_dim * cols);
  kt::DeviceArray<float> x(cols), y(4 * head_dim);
  kt::DeviceArray<std::uint16_t> cache(8 * head_dim);
  kt::DeviceArray<std::int32_t> position(1);
  const auto device = kernels::DeviceInfo::current();
  auto* half_cache = reinterpret_cast<__half*>(cache.get());
  const std::array<kernels::GemvTarget, 3> targets{kernels::GemvTarget{weights.get(), 2 * head_dim, y.get(), nullptr},
                                                   kernels::GemvTarget{weights.get(), head_dim, y.get(), nullptr},
                                                   kernels::GemvTarget{weights.get(), head_dim, y.get(), nullptr}};
  kernels::RopeKvAppend append{.rope = {head_dim, head_dim, 10000.0f, 1.0f, nullptr, model::RopeLayout::neox},
                               .k_cache = half_cache,
                               .v_cache = half_cache,
                               .positions = position.get()};
  CHECK_THROWS_WITH_AS(kernels::gemv_streams_fused_rope_kv<F>(targets, cols, x.get(), {}, append, device, nullptr),
                       doctest::Contains("interleaved"), Error);
  append.rope.layout = model::RopeLayout::interleaved;
  std::array<kernels::GemvTarget, 3> ragged = targets;
  ragged[0].rows = 2 * head_dim + 2;
  CHECK_THROWS_WITH_AS(kernels::gemv_streams_fused_rope_kv<F>(ragged, cols, x.get(), {}, append, device, nullptr),
                       doctest::Contains("whole heads"), Error);
  append.v_cache = nullptr;
  CHECK_THROWS_WITH_AS(kernels::gemv_streams_fused_rope_kv<F>(targets, cols, x.get(), {}, append, device, nullptr),
                       doctest::Contains("not null"), Error);

  using Q4K = quant::Q4_K;
  using Q6K = quant::Q6_K;
  CHECK_THROWS_WITH_AS((kernels::gemv_streams_fused_rope_kv_pair<Q4K, Q6K>(targets, {}, cols, x.get(), {}, append,
                                                                           device, nullptr)),
                       doctest::Contains("three at most"), Error);
  CHECK_THROWS_WITH_AS((kernels::gemv_streams_fused_rope_kv_pair<Q4K, Q6K>(std::span(targets).first(2), targets, cols,
                                                                           x.get(), {}, append, device, nullptr)),
                       doctest::Contains("three at most"), Error);
}
