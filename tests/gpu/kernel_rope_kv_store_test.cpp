// kernels::rope_kv_store (one decode token: RoPE on q and k, k and v into the
// f16 cache) against the three kernels it replaces run in turn — rope on q,
// rope on k, kv_store — which have their own CPU-oracle tests: every output
// (q, k, both caches) bit for bit equal, for both layouts, partial rotation,
// frequency factors, GQA from 1:1 to 8:1 and head_dim 64..256; cache rows
// other than the position stay untouched (poisoned).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <cuda_fp16.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/kv_cache.cuh>
#include <pagoda/kernels/rope.cuh>
#include <pagoda/kernels/rope_kv_store.cuh>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

using kt::same_bits;

TEST_CASE("kernel rope_kv_store equals rope, rope and kv_store run in turn, bit for bit") {
  std::mt19937 rng(77);
  std::uniform_real_distribution<float> factor(1.0f, 8.0f);
  kt::Stream stream;
  const std::size_t context = 9;
  struct Shape {
    std::size_t n_heads, n_kv_heads;
    std::uint32_t head_dim, rotated;
  };
  for (const Shape shape : {Shape{32, 8, 128, 128}, Shape{9, 3, 64, 64}, Shape{4, 1, 256, 256},
                            Shape{8, 8, 128, 64}, Shape{14, 2, 64, 32}})
    for (const auto layout : {model::RopeLayout::interleaved, model::RopeLayout::neox})
      for (const bool with_factors : {false, true}) {
        CAPTURE(shape.n_heads);
        CAPTURE(shape.n_kv_heads);
        CAPTURE(shape.head_dim);
        CAPTURE(shape.rotated);
        CAPTURE(static_cast<int>(layout));
        CAPTURE(with_factors);
        std::vector<float> factors;
        if (with_factors)
          for (std::uint32_t i = 0; i < shape.rotated / 2; ++i) factors.push_back(factor(rng));
        const kt::DeviceArray<float> device_factors{std::span<const float>(factors)};
        const kernels::RopeParams params{shape.head_dim, shape.rotated, 500000.0f, 2.0f,
                                         with_factors ? device_factors.get() : nullptr, layout};
        const std::size_t q_dim = shape.n_heads * shape.head_dim;
        const std::size_t kv_dim = shape.n_kv_heads * shape.head_dim;
        const std::vector<float> q = kt::random_normal(q_dim, rng);
        const std::vector<float> k = kt::random_normal(kv_dim, rng);
        const std::vector<float> v = kt::random_normal(kv_dim, rng);
        const std::vector<std::int32_t> position{static_cast<std::int32_t>(rng() % context)};
        const kt::DeviceArray<std::int32_t> device_position{std::span<const std::int32_t>(position)};
        const kt::DeviceArray<float> device_v{std::span<const float>(v)};

        // The three kernels in turn.
        kt::DeviceArray<float> want_q{std::span<const float>(q)}, want_k{std::span<const float>(k)};
        kt::DeviceArray<__half> want_k_cache(context * kv_dim), want_v_cache(context * kv_dim);
        kernels::rope(want_q.get(), 1, shape.n_heads, params, device_position.get(), stream);
        kernels::rope(want_k.get(), 1, shape.n_kv_heads, params, device_position.get(), stream);
        kernels::kv_store(want_k.get(), device_v.get(), want_k_cache.get(), want_v_cache.get(), 1, kv_dim,
                          device_position.get(), stream);

        // The fused one.
        kt::DeviceArray<float> got_q{std::span<const float>(q)}, got_k{std::span<const float>(k)};
        kt::DeviceArray<__half> got_k_cache(context * kv_dim), got_v_cache(context * kv_dim);
        kernels::rope_kv_store(got_q.get(), got_k.get(), device_v.get(), got_k_cache.get(), got_v_cache.get(),
                               shape.n_heads, shape.n_kv_heads, params, device_position.get(), stream);
        kt::cuda_ok(cudaStreamSynchronize(stream), "sync");

        CHECK(same_bits(got_q.download(), want_q.download()));
        CHECK(same_bits(got_k.download(), want_k.download()));
        CHECK(same_bits(got_k_cache.download(), want_k_cache.download()));
        CHECK(same_bits(got_v_cache.download(), want_v_cache.download()));
      }
}

TEST_CASE("kernel rope_kv_store over several rows (the batched step) equals rope, rope and kv_store on them, "
          "each row at its position and into its own cache row") {
  std::mt19937 rng(78);
  std::uniform_real_distribution<float> factor(1.0f, 8.0f);
  kt::Stream stream;
  const std::size_t rows = 5, cache_rows = 4 * 16;  // 4 sequences of 16 positions
  const std::size_t n_heads = 8, n_kv_heads = 2;
  const std::uint32_t head_dim = 64;
  const std::size_t q_dim = n_heads * head_dim, kv_dim = n_kv_heads * head_dim;
  const std::vector<std::int32_t> positions{3, 0, 15, 7, 7};
  const std::vector<std::int32_t> kv_rows{0 * 16 + 3, 2 * 16 + 0, 1 * 16 + 15, 3 * 16 + 7, 2 * 16 + 7};
  const kt::DeviceArray<std::int32_t> device_positions{std::span<const std::int32_t>(positions)};
  const kt::DeviceArray<std::int32_t> device_kv_rows{std::span<const std::int32_t>(kv_rows)};
  for (const std::uint32_t rotated : {head_dim, head_dim / 2})
    for (const auto layout : {model::RopeLayout::interleaved, model::RopeLayout::neox})
      for (const bool with_factors : {false, true}) {
        CAPTURE(rotated);
        CAPTURE(static_cast<int>(layout));
        CAPTURE(with_factors);
        std::vector<float> factors;
        if (with_factors)
          for (std::uint32_t i = 0; i < rotated / 2; ++i) factors.push_back(factor(rng));
        const kt::DeviceArray<float> device_factors{std::span<const float>(factors)};
        const kernels::RopeParams params{head_dim, rotated, 500000.0f, 2.0f,
                                         with_factors ? device_factors.get() : nullptr, layout};
        const std::vector<float> q = kt::random_normal(rows * q_dim, rng);
        const std::vector<float> k = kt::random_normal(rows * kv_dim, rng);
        const std::vector<float> v = kt::random_normal(rows * kv_dim, rng);
        const kt::DeviceArray<float> device_v{std::span<const float>(v)};

        kt::DeviceArray<float> want_q{std::span<const float>(q)}, want_k{std::span<const float>(k)};
        kt::DeviceArray<__half> want_k_cache(cache_rows * kv_dim), want_v_cache(cache_rows * kv_dim);
        kernels::rope(want_q.get(), rows, n_heads, params, device_positions.get(), stream);
        kernels::rope(want_k.get(), rows, n_kv_heads, params, device_positions.get(), stream);
        kernels::kv_store(want_k.get(), device_v.get(), want_k_cache.get(), want_v_cache.get(), rows, kv_dim,
                          device_kv_rows.get(), stream);

        kt::DeviceArray<float> got_q{std::span<const float>(q)}, got_k{std::span<const float>(k)};
        kt::DeviceArray<__half> got_k_cache(cache_rows * kv_dim), got_v_cache(cache_rows * kv_dim);
        kernels::rope_kv_store(got_q.get(), got_k.get(), device_v.get(), got_k_cache.get(), got_v_cache.get(),
                               n_heads, n_kv_heads, params, device_positions.get(), stream, rows,
                               device_kv_rows.get());
        kt::cuda_ok(cudaStreamSynchronize(stream), "sync");

        CHECK(same_bits(got_q.download(), want_q.download()));
        CHECK(same_bits(got_k.download(), want_k.download()));
        CHECK(same_bits(got_k_cache.download(), want_k_cache.download()));
        CHECK(same_bits(got_v_cache.download(), want_v_cache.download()));
      }
}

TEST_CASE("kernel rope_kv_store refuses what rope refuses, naming itself") {
  kt::DeviceArray<float> q(64), k(64), v(64);
  kt::DeviceArray<__half> cache(64);
  kt::DeviceArray<std::int32_t> position(1);
  const kernels::RopeParams odd{64, 63, 10000.0f, 1.0f, nullptr, model::RopeLayout::neox};
  CHECK_THROWS_WITH_AS(kernels::rope_kv_store(q.get(), k.get(), v.get(), cache.get(), cache.get(), 1, 1, odd,
                                              position.get(), nullptr),
                       doctest::Contains("kernels::rope_kv_store"), Error);
  const kernels::RopeParams fine{64, 64, 10000.0f, 1.0f, nullptr, model::RopeLayout::neox};
  CHECK_THROWS_WITH_AS(kernels::rope_kv_store(q.get(), k.get(), v.get(), cache.get(), cache.get(), 1, 1, fine,
                                              nullptr, nullptr),
                       doctest::Contains("not null"), Error);
}
