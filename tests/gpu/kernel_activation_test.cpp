// The element-wise kernels against the CPU oracle's formulas (cpu::silu(g) *
// u, cpu::gelu_tanh(g) * u, a + b, cpu::add_bias, x * s) at odd sizes, out of
// place and in place (the engine runs the activation over gate). Budgets:
// add, add_bias and scale are exact (bit for bit); swiglu and geglu follow the
// oracle's operation order and differ only by expf's / tanhf's last bits,
// normalised MSE < 1e-12 (swiglu measured on an H100: at most 5e-17).
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/kernels/activation.cuh>

#include <pagoda/quant/half.hpp>

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

TEST_CASE("kernel geglu matches gelu_tanh(gate) * up, and gated_activation picks it for gemma's activation") {
  std::mt19937 rng(33);
  kt::Stream stream;
  for (const std::size_t n : {1, 17, 1000, 100003}) {
    CAPTURE(n);
    const std::vector<float> gate = kt::random_normal(n, rng, 4.0f);
    const std::vector<float> up = kt::random_normal(n, rng);
    std::vector<float> want(gate);
    cpu::gated_activation(model::FfnActivation::gelu_tanh, want, up);
    kt::require_nonzero(want);

    kt::DeviceArray<float> device_gate{std::span<const float>(gate)};
    const kt::DeviceArray<float> device_up{std::span<const float>(up)};
    kt::DeviceArray<float> out(n);
    kernels::geglu(device_gate.get(), device_up.get(), out.get(), n, stream);
    const double error = kt::normalized_mse(out.download(), want);
    CAPTURE(error);
    CHECK(error < kt::nmse_f32_exact);
    kernels::gated_activation(model::FfnActivation::gelu_tanh, device_gate.get(), device_up.get(), device_gate.get(),
                              n, stream);
    CHECK(kt::normalized_mse(device_gate.download(), want) < kt::nmse_f32_exact);
  }
}

TEST_CASE("kernel add_bias adds the bias to every row, and scale multiplies, both exactly") {
  std::mt19937 rng(34);
  kt::Stream stream;
  for (const std::size_t width : {1, 17, 896, 4096})
    for (const std::size_t rows : {1, 3, 33}) {
      CAPTURE(width);
      CAPTURE(rows);
      const std::vector<float> x = kt::random_normal(rows * width, rng);
      const std::vector<float> bias = kt::random_normal(width, rng);
      std::vector<float> want(x);
      cpu::add_bias(want, bias);
      kt::DeviceArray<float> device_x{std::span<const float>(x)};
      const kt::DeviceArray<float> device_bias{std::span<const float>(bias)};
      kernels::add_bias(device_x.get(), device_bias.get(), rows, width, stream);
      CHECK(std::memcmp(device_x.download().data(), want.data(), want.size() * sizeof(float)) == 0);

      for (float& v : want) v *= 25.298221f;
      kernels::scale(device_x.get(), 25.298221f, rows * width, stream);
      CHECK(std::memcmp(device_x.download().data(), want.data(), want.size() * sizeof(float)) == 0);
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
  CHECK_THROWS_WITH_AS(kernels::geglu(a.get(), nullptr, a.get(), 4, nullptr), doctest::Contains("geglu"), Error);
  CHECK_THROWS_WITH_AS(kernels::add_bias(a.get(), nullptr, 2, 2, nullptr), doctest::Contains("add_bias"), Error);
}

TEST_CASE("gated_activation into f16 is the f32 result rounded to the nearest f16, bit for bit, for both activations") {
  kt::Stream stream;
  std::mt19937 rng(22);
  const std::size_t n = 14336 * 3 + 5;
  const std::vector<float> gate = kt::random_normal(n, rng, 2.0f), up = kt::random_normal(n, rng, 2.0f);
  const kt::DeviceArray<float> device_gate{std::span<const float>(gate)}, device_up{std::span<const float>(up)};
  for (const auto activation : {model::FfnActivation::silu, model::FfnActivation::gelu_tanh}) {
    kt::DeviceArray<float> f32(n);
    kt::DeviceArray<std::uint16_t> f16(n);
    kernels::gated_activation(activation, device_gate.get(), device_up.get(), f32.get(), n, stream);
    kernels::gated_activation(activation, device_gate.get(), device_up.get(), reinterpret_cast<__half*>(f16.get()), n,
                              stream);
    stream.sync();
    const std::vector<float> want = f32.download();
    kt::require_nonzero(want);
    const std::vector<std::uint16_t> got = f16.download();
    for (std::size_t i = 0; i < n; ++i) REQUIRE(got[i] == quant::f32_to_f16(want[i]).bits);
  }
}
