// kernels::rope against cpu::apply_rope, head by head: both layouts
// (interleaved, NeoX), head_dim 64/128/256 with all or half of the dims
// rotated, two bases, linear scaling, Llama-3-style frequency factors, 1..32
// heads, 1 and 5 tokens at random positions up to 131071 (position read from
// the device). The angle is computed in double as on the host and the
// rotation rounds each product as the host does: budget normalised MSE
// < 1e-12 (measured on an H100: 0, bit for bit).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/kernels/rope.cuh>
#include <pagoda/model/config.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

TEST_CASE("kernel rope matches cpu::apply_rope for both layouts, partial rotation, scaling and factors") {
  std::mt19937 rng(4096);
  std::uniform_int_distribution<std::int32_t> position(0, 131071);
  std::uniform_real_distribution<float> factor(1.0f, 8.0f);
  kt::Stream stream;
  for (const auto layout : {model::RopeLayout::interleaved, model::RopeLayout::neox})
    for (const std::uint32_t head_dim : {64u, 128u, 256u})
      for (const std::uint32_t rotated : {head_dim, head_dim / 2})
        for (const int variant : {0, 1, 2}) {  // plain; base 5e5 with linear scale; frequency factors
          for (const std::size_t n_heads : {1, 3, 32})
            for (const std::size_t tokens : {1, 5}) {
              CAPTURE(head_dim);
              CAPTURE(rotated);
              CAPTURE(variant);
              CAPTURE(n_heads);
              CAPTURE(tokens);
              CAPTURE(static_cast<int>(layout));
              model::RopeConfig config;
              config.layout = layout;
              config.dimensions = rotated;
              config.freq_base = variant == 1 ? 500000.0f : 10000.0f;
              config.linear_scale = variant == 1 ? 8.0f : 1.0f;
              if (variant == 2)
                for (std::uint32_t i = 0; i < rotated / 2; ++i) config.freq_factors.push_back(factor(rng));

              std::vector<std::int32_t> positions(tokens);
              for (auto& p : positions) p = position(rng);
              positions[0] = tokens > 1 ? 0 : positions[0];
              const std::size_t width = n_heads * head_dim;
              const std::vector<float> x = kt::random_normal(tokens * width, rng);
              std::vector<float> want = x;
              for (std::size_t t = 0; t < tokens; ++t)
                for (std::size_t h = 0; h < n_heads; ++h)
                  cpu::apply_rope(std::span(want).subspan(t * width + h * head_dim, head_dim),
                                  static_cast<std::uint32_t>(positions[t]), config);

              kt::DeviceArray<float> device_x{std::span<const float>(x)};
              const kt::DeviceArray<std::int32_t> device_positions{std::span<const std::int32_t>(positions)};
              const kt::DeviceArray<float> device_factors{std::span<const float>(config.freq_factors)};
              const kernels::RopeParams params{head_dim, rotated, config.freq_base, config.linear_scale,
                                               variant == 2 ? device_factors.get() : nullptr, layout};
              kernels::rope(device_x.get(), tokens, n_heads, params, device_positions.get(), stream);
              const double error = kt::normalized_mse(device_x.download(), want);
              CAPTURE(error);
              CHECK(error < kt::nmse_f32_exact);
            }
        }
}

TEST_CASE("kernel rope refuses odd or oversized rotations") {
  kt::DeviceArray<float> x(64);
  kt::DeviceArray<std::int32_t> positions(1);
  const kernels::RopeParams odd{64, 63, 10000.0f, 1.0f, nullptr, model::RopeLayout::neox};
  CHECK_THROWS_WITH_AS(kernels::rope(x.get(), 1, 1, odd, positions.get(), nullptr), doctest::Contains("even"), Error);
  const kernels::RopeParams wide{64, 66, 10000.0f, 1.0f, nullptr, model::RopeLayout::neox};
  CHECK_THROWS_WITH_AS(kernels::rope(x.get(), 1, 1, wide, positions.get(), nullptr),
                       doctest::Contains("head_dim"), Error);
}
