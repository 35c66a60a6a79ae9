// kernels::rms_norm against cpu::rms_norm, row by row, at odd sizes (dim 1,
// 7, 576, 4096, 5003; rows 1, 3, 17), out of place and in place. The kernel
// sums squares in double as the oracle does, then scales in the same order:
// budget normalised MSE < 1e-12 (measured on an H100: 0, bit for bit).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/kernels/norm.cuh>

#include <pagoda/quant/half.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

TEST_CASE("kernel rms_norm matches cpu::rms_norm at odd sizes, out of place and in place") {
  std::mt19937 rng(2024);
  kt::Stream stream;
  for (const std::size_t rows : {1, 3, 17})
    for (const std::size_t dim : {1, 7, 576, 4096, 5003})
      for (const float eps : {1e-5f, 1e-6f}) {
        CAPTURE(rows);
        CAPTURE(dim);
        // Rows of different scales: the norm must not depend on the magnitude.
        std::vector<float> x = kt::random_normal(rows * dim, rng, 3.0f);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t i = 0; i < dim; ++i) x[r * dim + i] *= static_cast<float>(1 + 10 * r);
        const std::vector<float> weight = kt::random_normal(dim, rng);
        std::vector<float> want(rows * dim);
        for (std::size_t r = 0; r < rows; ++r)
          cpu::rms_norm(std::span(x).subspan(r * dim, dim), weight, eps, std::span(want).subspan(r * dim, dim));
        kt::require_nonzero(want);

        kt::DeviceArray<float> device_x{std::span<const float>(x)};
        const kt::DeviceArray<float> device_weight{std::span<const float>(weight)};
        kt::DeviceArray<float> out(rows * dim);
        kernels::rms_norm(device_x.get(), device_weight.get(), out.get(), rows, dim, eps, stream);
        const double error = kt::normalized_mse(out.download(), want);
        CAPTURE(error);
        CHECK(error < kt::nmse_f32_exact);

        kernels::rms_norm(device_x.get(), device_weight.get(), device_x.get(), rows, dim, eps, stream);
        CHECK(kt::normalized_mse(device_x.download(), want) < kt::nmse_f32_exact);
      }
}

TEST_CASE("kernel rms_norm refuses null pointers and does nothing for empty input") {
  kt::DeviceArray<float> x(8);
  CHECK_THROWS_WITH_AS(kernels::rms_norm(x.get(), nullptr, x.get(), 1, 8, 1e-5f, nullptr),
                       doctest::Contains("kernels::rms_norm"), Error);
  CHECK_NOTHROW(kernels::rms_norm(nullptr, nullptr, static_cast<float*>(nullptr), 0, 8, 1e-5f, nullptr));
  CHECK_THROWS_AS(kernels::rms_norm(x.get(), x.get(), static_cast<__half*>(nullptr), 1, 8, 1e-5f, nullptr), Error);
}

TEST_CASE("kernel rms_norm into f16 is the f32 result rounded to the nearest f16, bit for bit") {
  kt::Stream stream;
  std::mt19937 rng(21);
  for (const std::size_t dim : {std::size_t{576}, std::size_t{4096}, std::size_t{1001}}) {
    CAPTURE(dim);
    const std::size_t rows = 7;
    const std::vector<float> x = kt::random_normal(rows * dim, rng, 3.0f);
    const std::vector<float> weight = kt::random_normal(dim, rng);
    const kt::DeviceArray<float> device_x{std::span<const float>(x)}, device_weight{std::span<const float>(weight)};
    kt::DeviceArray<float> f32(rows * dim);
    kt::DeviceArray<std::uint16_t> f16(rows * dim);
    kernels::rms_norm(device_x.get(), device_weight.get(), f32.get(), rows, dim, 1e-5f, stream);
    kernels::rms_norm(device_x.get(), device_weight.get(), reinterpret_cast<__half*>(f16.get()), rows, dim, 1e-5f,
                      stream);
    stream.sync();
    const std::vector<float> want = f32.download();
    kt::require_nonzero(want);
    const std::vector<std::uint16_t> got = f16.download();
    for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == quant::f32_to_f16(want[i]).bits);
  }
}
