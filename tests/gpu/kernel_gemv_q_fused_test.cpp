// kernels::gemv_q_fused (q, k and v in one launch) and gemv_q_fused_gated
// (gate, up and the activation in one) against what they replace: gemv_q's
// staged path once per matrix (its own CPU-oracle test is
// kernel_gemv_q_test.cpp) and, for the gated form, the element-wise
// activation kernel after it. Every row is computed by the same kernel code
// on the same quantized x, so the outputs must be equal bit for bit: for
// each staged format, row counts that make a warp straddle two matrices, a
// bias riding as the residual, and enough rows that blocks stride. With an
// RMSNorm first (RmsNormFirst), against kernels::rms_norm run before: the
// same sums in the same order, so again bit for bit.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/gemv_q.cuh>
#include <pagoda/kernels/gemv_q_fused.cuh>
#include <pagoda/kernels/norm.cuh>
#include <pagoda/model/synthetic_blocks.hpp>
#include <pagoda/quant/format_list.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

template <class F>
std::vector<std::byte> synthetic_weights(std::size_t n_blocks, std::uint64_t seed) {
  std::vector<std::byte> bytes(n_blocks * F::block_bytes);
  for (std::size_t b = 0; b < n_blocks; ++b) {
    auto rng = model::synth::unit_rng(seed, 3, b);
    typename F::block block{};
    model::synth::random_block<F>(rng, 0.5f, block);
    std::memcpy(bytes.data() + b * F::block_bytes, &block, F::block_bytes);
  }
  return bytes;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every format with the staged path takes 2048 columns as whole 16-byte words
// (16-byte staging loads); narrow_cols<F>() gives rows of whole 8-byte words
// that are not 16 (8-byte loads), or 0 where F has none (the K45 blocks).
constexpr std::size_t wide_cols = 2048;

template <class F>
std::size_t narrow_cols() {
  for (std::size_t n = 1; n <= 64; ++n) {
    const std::size_t bytes = n * F::block_bytes;
    if (bytes % 8 == 0 && bytes % 16 != 0 && n * F::block_elements >= 512) return n * F::block_elements;
  }
  return 0;
}

// A norm weight near 1 (as trained ones are) and what rms_norm makes of x with it.
struct Norm {
  kt::DeviceArray<float> weight;
  kt::DeviceArray<float> normed;
  static constexpr float eps = 1e-5f;
};

Norm make_norm(const kt::DeviceArray<float>& x, std::mt19937& rng, cudaStream_t stream,
               std::size_t cols = wide_cols) {
  std::vector<float> weight = kt::random_normal(cols, rng, 0.1f);
  for (float& w : weight) w += 1.0f;
  Norm norm{kt::DeviceArray<float>(std::span<const float>(weight)), kt::DeviceArray<float>(cols)};
  kernels::rms_norm(x.get(), norm.weight.get(), norm.normed.get(), 1, cols, Norm::eps, stream);
  return norm;
}

template <class F>
void check_fused(std::array<std::size_t, 3> rows, std::uint64_t seed, bool with_norm,
                 std::size_t cols = wide_cols) {
  CAPTURE(cols);
  CAPTURE(rows[0]);
  CAPTURE(rows[1]);
  CAPTURE(rows[2]);
  CAPTURE(with_norm);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::vector<float> x = kt::random_normal(cols, rng);
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();
  const Norm norm = make_norm(device_x, rng, stream, cols);
  const float* separate_input = with_norm ? norm.normed.get() : device_x.get();
  const kernels::RmsNormFirst fused_norm = with_norm ? kernels::RmsNormFirst{norm.weight.get(), Norm::eps}
                                                     : kernels::RmsNormFirst{};
  std::vector<kt::DeviceArray<std::byte>> weights;
  std::vector<kt::DeviceArray<float>> biases, fused, separate;
  for (std::size_t m = 0; m < 3; ++m) {
    const auto bytes = synthetic_weights<F>(rows[m] * cols / F::block_elements, seed * 7 + m);
    weights.emplace_back(std::span<const std::byte>(bytes));
    const std::vector<float> bias = kt::random_normal(rows[m], rng);
    biases.emplace_back(std::span<const float>(bias));
    fused.emplace_back(rows[m]);
    separate.emplace_back(rows[m]);
  }
  std::array<kernels::GemvTarget, 3> targets{};
  for (std::size_t m = 0; m < 3; ++m) {
    const float* bias = m == 1 ? nullptr : biases[m].get();  // with and without a residual in one launch
    targets[m] = {weights[m].get(), rows[m], fused[m].get(), bias};
    kernels::gemv_q_with<F>(weights[m].get(), rows[m], cols, separate_input, separate[m].get(), bias,
                            kernels::gemv_staged_policy_tall, kernels::GemvPath::staged, device, stream);
  }
  kernels::gemv_q_fused<F>(targets, cols, device_x.get(), fused_norm, device, stream);
  stream.sync();
  for (std::size_t m = 0; m < 3; ++m) {
    CAPTURE(m);
    CHECK(same_bits(fused[m].download(), separate[m].download()));
  }
}

template <class F>
void check_gated(model::FfnActivation activation, std::size_t rows, std::uint64_t seed, bool with_norm,
                 std::size_t cols = wide_cols) {
  CAPTURE(cols);
  CAPTURE(rows);
  CAPTURE(static_cast<int>(activation));
  CAPTURE(with_norm);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::vector<float> x = kt::random_normal(cols, rng);
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  const auto gate_bytes = synthetic_weights<F>(rows * cols / F::block_elements, seed * 11);
  const auto up_bytes = synthetic_weights<F>(rows * cols / F::block_elements, seed * 13);
  const kt::DeviceArray<std::byte> gate{std::span<const std::byte>(gate_bytes)};
  const kt::DeviceArray<std::byte> up{std::span<const std::byte>(up_bytes)};
  kt::DeviceArray<float> fused(rows), want_gate(rows), want_up(rows);
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();
  const Norm norm = make_norm(device_x, rng, stream, cols);
  const float* separate_input = with_norm ? norm.normed.get() : device_x.get();
  const kernels::RmsNormFirst fused_norm = with_norm ? kernels::RmsNormFirst{norm.weight.get(), Norm::eps}
                                                     : kernels::RmsNormFirst{};
  kernels::gemv_q_with<F>(gate.get(), rows, cols, separate_input, want_gate.get(), nullptr,
                          kernels::gemv_staged_policy_tall, kernels::GemvPath::staged, device, stream);
  kernels::gemv_q_with<F>(up.get(), rows, cols, separate_input, want_up.get(), nullptr,
                          kernels::gemv_staged_policy_tall, kernels::GemvPath::staged, device, stream);
  kernels::gated_activation(activation, want_gate.get(), want_up.get(), want_gate.get(), rows, stream);
  kernels::gemv_q_fused_gated<F>(activation, gate.get(), up.get(), rows, cols, device_x.get(), fused_norm,
                                 fused.get(), device, stream);
  stream.sync();
  CHECK(same_bits(fused.download(), want_gate.download()));
}

}  // namespace

TEST_CASE_TEMPLATE("kernel gemv_q_fused equals one staged gemv_q per matrix, bit for bit", F, quant::Q4_0,
                   quant::Q4_1, quant::Q5_0, quant::Q5_1, quant::Q8_0, quant::Q4_K, quant::Q5_K, quant::Q6_K) {
  for (const bool with_norm : {false, true}) {
    check_fused<F>({96, 32, 32}, 1, with_norm);
    check_fused<F>({17, 5, 3}, 2, with_norm);        // odd counts: one warp's two rows straddle q and k
    check_fused<F>({9001, 1000, 1001}, 3, with_norm);  // more row groups than resident blocks
    if (const std::size_t narrow = narrow_cols<F>(); narrow != 0) {  // 8-byte staging loads
      check_fused<F>({96, 32, 32}, 7, with_norm, narrow);
      check_fused<F>({17, 5, 3}, 8, with_norm, narrow);
    }
  }
}

TEST_CASE_TEMPLATE("kernel gemv_q_fused_gated equals gate, up and the activation run in turn, bit for bit", F,
                   quant::Q4_0, quant::Q4_1, quant::Q8_0, quant::Q4_K, quant::Q5_K, quant::Q6_K) {
  for (const auto activation : {model::FfnActivation::silu, model::FfnActivation::gelu_tanh}) {
    for (const bool with_norm : {false, true}) {
      check_gated<F>(activation, 1, 4, with_norm);
      check_gated<F>(activation, 77, 5, with_norm);
      check_gated<F>(activation, 6000, 6, with_norm);
      if (const std::size_t narrow = narrow_cols<F>(); narrow != 0)
        check_gated<F>(activation, 77, 9, with_norm, narrow);
    }
  }
}

TEST_CASE("kernel gemv_q_fused refuses what its staged launch cannot take, naming itself") {
  kt::DeviceArray<std::byte> weights(64 * 1024);
  kt::DeviceArray<float> x(4096), y(64);
  const auto device = kernels::DeviceInfo::current();
  const std::array<kernels::GemvTarget, 1> one{kernels::GemvTarget{weights.get(), 4, y.get(), nullptr}};
  // 96 Q4_0 columns: 54-byte rows, not whole 16-byte words.
  CHECK_THROWS_WITH_AS(kernels::gemv_q_fused<quant::Q4_0>(one, 96, x.get(), {}, device, nullptr),
                       doctest::Contains("kernels::gemv_q_fused<Q4_0>"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_fused<quant::F16>(one, 64, x.get(), {}, device, nullptr),
                       doctest::Contains("staged path"), Error);
  const std::array<kernels::GemvTarget, 1> misaligned{kernels::GemvTarget{weights.get() + 2, 4, y.get(), nullptr}};
  CHECK_THROWS_WITH_AS(kernels::gemv_q_fused<quant::Q4_0>(misaligned, 256, x.get(), {}, device, nullptr),
                       doctest::Contains("aligned to 16"), Error);
  const std::array<kernels::GemvTarget, 4> four{one[0], one[0], one[0], one[0]};
  CHECK_THROWS_WITH_AS(kernels::gemv_q_fused<quant::Q4_0>(four, 256, x.get(), {}, device, nullptr),
                       doctest::Contains("one to three"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_fused_gated<quant::Q4_K>(model::FfnActivation::silu, weights.get(),
                                                                weights.get() + 4, 4, 256, x.get(), {}, y.get(),
                                                                device, nullptr),
                       doctest::Contains("aligned to 16"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_fused<quant::Q4_0>(one, 256, x.get(),
                                                          kernels::RmsNormFirst{x.get() + 1, 1e-5f}, device, nullptr),
                       doctest::Contains("norm weight is aligned"), Error);
  kt::cuda_ok(cudaDeviceSynchronize(), "sync");
}
