// kernels::kv_store: each value lands, rounded to nearest even, in row
// positions[t] of the f16 caches, bit for bit equal to quant::f32_to_f16
// (values include overflow to inf, subnormals and exact halfway cases); every
// other row stays as it was (poisoned 0xFFFF).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <cuda_fp16.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/kv_cache.cuh>
#include <pagoda/quant/half.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

TEST_CASE("kernel kv_store writes f16 rows at device positions and nothing else") {
  std::mt19937 rng(8);
  kt::Stream stream;
  const std::size_t context = 50;
  for (const std::size_t tokens : {1, 7})
    for (const std::size_t kv_dim : {8, 64, 1032}) {
      CAPTURE(tokens);
      CAPTURE(kv_dim);
      std::vector<float> k = kt::random_normal(tokens * kv_dim, rng, 100.0f);
      std::vector<float> v = kt::random_normal(tokens * kv_dim, rng, 1e-5f);  // subnormal f16 range
      k[0] = 70000.0f;                 // overflows to inf
      v[0] = 1.0f + 0x1p-11f;          // halfway between two f16: rounds to even (1.0)
      std::vector<std::int32_t> positions(tokens);
      for (std::size_t t = 0; t < tokens; ++t) positions[t] = static_cast<std::int32_t>((t * 13 + 5) % context);

      const kt::DeviceArray<float> device_k{std::span<const float>(k)};
      const kt::DeviceArray<float> device_v{std::span<const float>(v)};
      const kt::DeviceArray<std::int32_t> device_positions{std::span<const std::int32_t>(positions)};
      kt::DeviceArray<std::uint16_t> k_cache(context * kv_dim);
      kt::DeviceArray<std::uint16_t> v_cache(context * kv_dim);
      kernels::kv_store(device_k.get(), device_v.get(), reinterpret_cast<__half*>(k_cache.get()),
                        reinterpret_cast<__half*>(v_cache.get()), tokens, kv_dim, device_positions.get(), stream);
      const std::vector<std::uint16_t> got_k = k_cache.download();
      const std::vector<std::uint16_t> got_v = v_cache.download();

      std::vector<std::uint16_t> want_k(context * kv_dim, 0xFFFF), want_v(context * kv_dim, 0xFFFF);
      for (std::size_t t = 0; t < tokens; ++t)
        for (std::size_t i = 0; i < kv_dim; ++i) {
          const std::size_t at = static_cast<std::size_t>(positions[t]) * kv_dim + i;
          want_k[at] = quant::f32_to_f16(k[t * kv_dim + i]).bits;
          want_v[at] = quant::f32_to_f16(v[t * kv_dim + i]).bits;
        }
      CHECK(got_k == want_k);
      CHECK(got_v == want_v);
      CHECK(want_k[static_cast<std::size_t>(positions[0]) * kv_dim] == 0x7C00);  // inf, as intended
    }
}

TEST_CASE("kernel kv_store refuses null pointers") {
  kt::DeviceArray<float> k(8);
  CHECK_THROWS_WITH_AS(kernels::kv_store(k.get(), k.get(), nullptr, nullptr, 1, 8, nullptr, nullptr),
                       doctest::Contains("kv_store"), Error);
}
