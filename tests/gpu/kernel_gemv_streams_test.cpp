// The field-streams kernels (quant/field_streams.hpp) against the CPU oracle
// and against the GGUF-layout kernels they stand in for:
//  - kernels::repack_streams (in place on the GPU, chunk by chunk) leaves the
//    bytes quant::pack_field_streams makes on the host;
//  - kernels::gemv_streams against cpu::matmul over the same quantized bytes
//    (x after the int16 rounding: the same budget as the staged path's test;
//    x itself: the rounding's own error), every format, ragged rows;
//  - the fused forms (q/k/v with biases and the norm first; gate/up with the
//    activation) equal gemv_streams on the normalised x, bit for bit: each
//    row is computed by the same code on the same quantized x;
//  - kernels::matmul_q_streams equals matmul_q on the GGUF bytes bit for bit.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/cpu/ops.hpp>
#include <pagoda/cpu/thread_pool.hpp>
#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/kernels/matmul_q.cuh>
#include <pagoda/kernels/matmul_q_streams.cuh>
#include <pagoda/kernels/norm.cuh>
#include <pagoda/kernels/repack_streams.cuh>
#include <pagoda/model/synthetic_blocks.hpp>
#include <pagoda/quant/activation_q16.hpp>
#include <pagoda/quant/field_streams.hpp>

#include "gpu/gemv_oracle.hpp"
#include "gpu/kernel_support.hpp"
#include "quant/random_blocks.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

template <class F>
std::vector<std::byte> gguf_weights(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  return kt::synthetic_weights<F>(rows, cols, seed);
}

template <class F>
std::vector<std::byte> packed(const std::vector<std::byte>& gguf, std::size_t rows, std::size_t cols) {
  std::vector<std::byte> out(gguf.size());
  quant::pack_field_streams<F>(gguf.data(), out.data(), rows, cols);
  return out;
}

template <class F>
std::vector<float> oracle(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols,
                          const std::vector<float>& x, const std::vector<float>* residual) {
  return kt::gemv_oracle<F>(bytes, rows, cols, x, residual);
}

using kt::int16_activations;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Shape {
  std::size_t rows, cols;
};
// Ragged rows (partial groups of 8, partial warps of 2 rows), columns of one
// step and of several, and the 8B's widest (14336: a ragged last step).
template <class F>
std::vector<Shape> shapes() {
  const std::size_t unit = F::block_elements;
  return {{1, unit}, {7, 2 * unit < 512 ? 512 : 2 * unit}, {13, 2048}, {129, 4096}, {1029, 4096}, {67, 14336}};
}

template <class F>
void check_repack(std::size_t rows, std::size_t cols, std::size_t scratch_rows) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(scratch_rows);
  const std::vector<std::byte> gguf = gguf_weights<F>(rows, cols, rows * 31 + cols);
  const std::size_t row_bytes = cols / F::block_elements * F::block_bytes;
  kt::DeviceArray<std::byte> tensor{std::span<const std::byte>(gguf)};
  kt::DeviceArray<std::byte> scratch(scratch_rows * row_bytes);
  kt::Stream stream;
  kernels::repack_streams<F>(tensor.get(), rows, cols, scratch.get(), scratch_rows * row_bytes, stream);
  stream.sync();
  const std::vector<std::byte> got = tensor.download();
  const std::vector<std::byte> want = packed<F>(gguf, rows, cols);
  CHECK(std::memcmp(got.data(), want.data(), want.size()) == 0);
}

template <class F>
void check_gemv(const Shape& shape) {
  CAPTURE(shape.rows);
  CAPTURE(shape.cols);
  std::mt19937 rng(static_cast<std::uint32_t>(shape.rows * 7 + shape.cols));
  const std::vector<std::byte> gguf = gguf_weights<F>(shape.rows, shape.cols, shape.rows + 3 * shape.cols);
  const std::vector<std::byte> streams = packed<F>(gguf, shape.rows, shape.cols);
  const std::vector<float> x = kt::random_normal(shape.cols, rng);
  const std::vector<float> residual = kt::random_normal(shape.rows, rng);
  const kt::DeviceArray<std::byte> weights{std::span<const std::byte>(streams)};
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  const kt::DeviceArray<float> device_residual{std::span<const float>(residual)};
  kt::DeviceArray<float> y(shape.rows);
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();
  kernels::gemv_streams<F>(weights.get(), shape.rows, shape.cols, device_x.get(), y.get(), device_residual.get(),
                           device, stream);
  stream.sync();
  const std::vector<float> got = y.download();
  const std::vector<float> exact = oracle<F>(gguf, shape.rows, shape.cols, int16_activations(x), &residual);
  kt::require_nonzero(exact);
  CHECK(kt::normalized_mse(got, exact) < kt::nmse_f32_dot);
  if (shape.rows >= 17) CHECK(kt::normalized_mse(got, oracle<F>(gguf, shape.rows, shape.cols, x, &residual)) < 1e-6);
  // Every launch shape computes each row with the same code: the same bits.
  for (const kernels::GemvPolicy policy : kernels::gemv_streams_policies) {
    CAPTURE(policy);
    kt::DeviceArray<float> y_with(shape.rows);
    kernels::gemv_streams_with<F>(policy, weights.get(), shape.rows, shape.cols, device_x.get(), y_with.get(),
                                  device_residual.get(), device, stream);
    stream.sync();
    CHECK(same_bits(y_with.download(), got));
  }
}

template <class F>
void check_fused(std::array<std::size_t, 3> rows, std::size_t cols, std::uint64_t seed) {
  CAPTURE(rows[0]);
  CAPTURE(rows[1]);
  CAPTURE(rows[2]);
  CAPTURE(cols);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::vector<float> x = kt::random_normal(cols, rng);
  std::vector<float> norm_weight = kt::random_normal(cols, rng, 0.1f);
  for (float& w : norm_weight) w += 1.0f;
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  const kt::DeviceArray<float> device_norm{std::span<const float>(norm_weight)};
  kt::DeviceArray<float> normed(cols);
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();
  constexpr float eps = 1e-5f;
  kernels::rms_norm(device_x.get(), device_norm.get(), normed.get(), 1, cols, eps, stream);
  std::vector<kt::DeviceArray<std::byte>> weights;
  std::vector<kt::DeviceArray<float>> biases, fused, separate;
  std::array<kernels::GemvTarget, 3> targets{};
  for (std::size_t m = 0; m < 3; ++m) {
    const auto bytes = packed<F>(gguf_weights<F>(rows[m], cols, seed * 7 + m), rows[m], cols);
    weights.emplace_back(std::span<const std::byte>(bytes));
    const std::vector<float> bias = kt::random_normal(rows[m], rng);
    biases.emplace_back(std::span<const float>(bias));
    fused.emplace_back(rows[m]);
    separate.emplace_back(rows[m]);
    const float* residual = m == 1 ? nullptr : biases[m].get();
    targets[m] = {weights[m].get(), rows[m], fused[m].get(), residual};
    kernels::gemv_streams<F>(weights[m].get(), rows[m], cols, normed.get(), separate[m].get(), residual, device,
                             stream);
  }
  kernels::gemv_streams_fused<F>(targets, cols, device_x.get(), {device_norm.get(), eps}, device, stream);
  // Gate and up (the first two matrices when their rows agree) with SwiGLU.
  kt::DeviceArray<float> gated(rows[0]), activated(rows[0]);
  kernels::gemv_streams_fused_gated<F>(model::FfnActivation::silu, weights[0].get(), weights[2].get(), rows[0], cols,
                                       device_x.get(), {device_norm.get(), eps}, gated.get(), device, stream);
  kt::DeviceArray<float> gate_only(rows[0]), up_only(rows[0]);
  kernels::gemv_streams<F>(weights[0].get(), rows[0], cols, normed.get(), gate_only.get(), nullptr, device, stream);
  kernels::gemv_streams<F>(weights[2].get(), rows[0], cols, normed.get(), up_only.get(), nullptr, device, stream);
  kernels::gated_activation(model::FfnActivation::silu, gate_only.get(), up_only.get(), activated.get(), rows[0],
                            stream);
  stream.sync();
  for (std::size_t m = 0; m < 3; ++m) {
    CAPTURE(m);
    const std::vector<float> want = separate[m].download();
    kt::require_nonzero(want);
    CHECK(same_bits(fused[m].download(), want));
  }
  CHECK(same_bits(gated.download(), activated.download()));
}

template <class F>
void check_matmul(std::size_t rows, std::size_t cols, std::size_t tokens) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(tokens);
  std::mt19937 rng(static_cast<std::uint32_t>(rows + cols + tokens));
  const std::vector<std::byte> gguf = gguf_weights<F>(rows, cols, rows * 5 + cols);
  const std::vector<std::byte> streams = packed<F>(gguf, rows, cols);
  const std::vector<float> x = kt::random_normal(tokens * cols, rng);
  const kt::DeviceArray<std::byte> w_gguf{std::span<const std::byte>(gguf)}, w_streams{std::span<const std::byte>(streams)};
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  kt::DeviceArray<float> y_gguf(tokens * rows), y_streams(tokens * rows);
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();
  kernels::matmul_q<F>(w_gguf.get(), rows, cols, device_x.get(), tokens, y_gguf.get(), nullptr, device, stream);
  kernels::matmul_q_streams<F>(w_streams.get(), rows, cols, device_x.get(), tokens, y_streams.get(), nullptr, device,
                               stream);
  stream.sync();
  const std::vector<float> want = y_gguf.download();
  kt::require_nonzero(want);
  CHECK(same_bits(y_streams.download(), want));
}

using StreamFormats = quant::testing::as_tuple<quant::field_stream_formats>::type;

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("repack_streams on the GPU leaves the bytes pack_field_streams makes", F, repack_case) {
  const std::size_t unit = F::block_elements < 512 ? 512 : F::block_elements;
  check_repack<F>(1, unit, 8);
  check_repack<F>(13, unit, 8);     // one group per chunk, a ragged last group
  check_repack<F>(67, 2048, 16);    // several chunks
  check_repack<F>(1029, 4096, 4096);  // one chunk
}
TEST_CASE_TEMPLATE_APPLY(repack_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("gemv_streams agrees with the CPU oracle on every format and ragged shapes", F, gemv_case) {
  for (const Shape& shape : shapes<F>()) check_gemv<F>(shape);
}
TEST_CASE_TEMPLATE_APPLY(gemv_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("fused field-streams products equal the separate ones bit for bit", F, fused_case) {
  check_fused<F>({40, 9, 40}, 2048, 11);       // a warp straddles q and k
  check_fused<F>({2050, 513, 2050}, 4096, 12);  // blocks stride
}
TEST_CASE_TEMPLATE_APPLY(fused_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("matmul_q_streams equals matmul_q on the GGUF bytes bit for bit", F, matmul_case) {
  check_matmul<F>(37, 512, 5);
  check_matmul<F>(200, 2048, 70);
}
TEST_CASE_TEMPLATE_APPLY(matmul_case, StreamFormats);

TEST_CASE("gemv_streams refuses what it cannot compute, with the reason") {
  kt::DeviceArray<std::byte> weights(4096);
  kt::DeviceArray<float> x(512), y(4);
  const auto device = kernels::DeviceInfo::current();
  CHECK_THROWS_WITH_AS(
      kernels::gemv_streams<quant::Q4_0>(weights.get() + 2, 2, 512, x.get(), y.get(), nullptr, device, nullptr),
      doctest::Contains("aligned to 16 bytes"), Error);
  CHECK_THROWS_WITH_AS(
      kernels::gemv_streams<quant::Q4_K>(weights.get(), 2, 300, x.get(), y.get(), nullptr, device, nullptr),
      doctest::Contains("multiple of the block size"), Error);
}
