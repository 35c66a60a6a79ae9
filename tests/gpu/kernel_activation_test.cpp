// kernels::swiglu and kernels::add against the CPU oracle's formulas
// (cpu::silu(g) * u, a + b) at odd sizes, out of place and in place (the
// engine runs swiglu over gate). Budgets: add is exact (bit for bit); swiglu
// follows the oracle's operation order and differs only by expf's last bit,
// normalised MSE < 1e-12 (measured on an H100: at most 5e-17).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/kernels/activation.cuh>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

TEST_CASE("kernel swiglu matches silu(gate) * up, out of place and in place") {
  std::mt19937 rng(31);
  kt::Stream stream;
  for (const std::size_t n : {1, 17, 1000, 100003}) {
    CAPTURE(n);
    const std::vector<float> gate = kt::random_normal(n, rng, 4.0f);
    const std::vector<float> up = kt::random_normal(n, rng);
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = cpu::silu(gate[i]) * up[i];
    kt::require_nonzero(want);

    kt::DeviceArray<float> device_gate{std::span<const float>(gate)};
    const kt::DeviceArray<float> device_up{std::span<const float>(up)};
    kt::DeviceArray<float> out(n);
    kernels::swiglu(device_gate.get(), device_up.get(), out.get(), n, stream);
    const double error = kt::normalized_mse(out.download(), want);
    CAPTURE(error);
    CHECK(error < kt::nmse_f32_exact);
    kernels::swiglu(device_gate.get(), device_up.get(), device_gate.get(), n, stream);
    CHECK(kt::normalized_mse(device_gate.download(), want) < kt::nmse_f32_exact);
  }
}

TEST_CASE("kernel add is exact, out of place and in place") {
  std::mt19937 rng(32);
  kt::Stream stream;
  for (const std::size_t n : {1, 17, 1000, 100003}) {
    CAPTURE(n);
    const std::vector<float> a = kt::random_normal(n, rng);
    const std::vector<float> b = kt::random_normal(n, rng);
    std::vector<float> want(n);
    for (std::size_t i = 0; i < n; ++i) want[i] = a[i] + b[i];
    kt::DeviceArray<float> device_a{std::span<const float>(a)};
    const kt::DeviceArray<float> device_b{std::span<const float>(b)};
    kt::DeviceArray<float> out(n);
    kernels::add(device_a.get(), device_b.get(), out.get(), n, stream);
    CHECK(std::memcmp(out.download().data(), want.data(), n * sizeof(float)) == 0);
    kernels::add(device_a.get(), device_b.get(), device_a.get(), n, stream);
    CHECK(std::memcmp(device_a.download().data(), want.data(), n * sizeof(float)) == 0);
  }
}

TEST_CASE("kernel swiglu and add refuse null pointers") {
  kt::DeviceArray<float> a(4);
  CHECK_THROWS_WITH_AS(kernels::swiglu(a.get(), nullptr, a.get(), 4, nullptr), doctest::Contains("swiglu"), Error);
  CHECK_THROWS_WITH_AS(kernels::add(nullptr, a.get(), a.get(), 4, nullptr), doctest::Contains("add"), Error);
}
