// kernels::matmul_few_streams<F> (the batched decode step's product: at most
// 16 tokens, the weights streamed from the field-streams layout straight into
// tensor-core fragments) against the CPU oracle, every format of
// quant::field_stream_formats: K whole, split in 3 and split as the kernel
// chooses, ragged rows, units and tokens, X restaged when a block's K passes
// 8 groups, every instantiated launch shape, and every launch repeated bit for bit. The error budget and the
// harness: gpu/matmul_oracle.hpp. kernels::matmul_few_streams_gated<F> (gate and up paired, the activation in
// the epilogue) against the two products and kernels::gated_activation, bit for bit.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <cuda_fp16.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/activation.cuh>
#include <pagoda/kernels/matmul_few_streams.cuh>
#include <pagoda/quant/format_list.hpp>

#include "gpu/kernel_support.hpp"
#include "gpu/matmul_oracle.hpp"

using namespace pagoda;
using namespace pagoda::matmul_oracle;

namespace {

// Columns of `units` 32-weight units, rounded up to whole blocks of F.
template <class F>
constexpr std::size_t units_wide(std::size_t units) {
  const std::size_t cols = 32 * units;
  return (cols + F::block_elements - 1) / F::block_elements * F::block_elements;
}

// matmul_few_streams_with<F> under `shape` with `splits` forced (0: its own
// choice), twice, through the workspace its own sizing asks for.
template <class F>
void check_few(std::span<const std::size_t> row_counts, std::size_t cols, std::size_t tokens, int splits,
               kernels::FewStreamsShape shape = kernels::few_streams_shape_for<F>()) {
  CAPTURE(splits);
  CAPTURE(shape.fragments);
  CAPTURE(shape.depth);
  CAPTURE(static_cast<int>(shape.staging));
  check_products<F>(row_counts, cols, tokens, [&](auto targets, const __half* x, auto& outputs) {
    const auto device = kernels::DeviceInfo::current();
    std::size_t rows = 0;
    for (const auto& t : targets) rows += t.rows;
    const kernels::SplitWorkspace size =
        kernels::matmul_few_streams_workspace_size(rows, device, static_cast<std::size_t>(splits > 0 ? splits : 0));
    run_twice(size, outputs, [&](const kernels::SplitWorkspace& workspace) {
      kernels::matmul_few_streams_with<F>(shape, targets, cols, x, tokens, workspace, device, nullptr, splits);
    });
  });
}

// matmul_few_streams_gated<F> on `rows` rows of gate and up against
// matmul_few_streams<F> of both (the same splits: forced, or rows a multiple
// of 128, so both launches have as many tiles) and gated_activation, bit for
// bit; launched twice (the second repeats the first, the counters end at zero).
template <class F>
void check_gated(std::size_t rows, std::size_t cols, std::size_t tokens, int splits, model::FfnActivation activation) {
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(tokens);
  CAPTURE(splits);
  const std::string activation_name(model::name_of(activation));
  CAPTURE(activation_name);
  std::mt19937 rng(static_cast<std::uint32_t>(rows * 7 + cols + tokens));
  std::vector<float> x = kt::random_normal(tokens * cols, rng);
  const kt::DeviceArray<std::uint16_t> x16{std::span<const std::uint16_t>(halves_of(x))};
  const Matrix<F> gate(rows, cols, rows + 11), up(rows, cols, rows + 23);
  kt::DeviceArray<float> gate_y(tokens * rows), up_y(tokens * rows);
  kt::DeviceArray<std::uint16_t> want(tokens * rows), got(tokens * rows);
  const auto device = kernels::DeviceInfo::current();
  kernels::SplitWorkspace workspace =
      kernels::matmul_few_streams_workspace_size(2 * rows, device, static_cast<std::size_t>(splits > 0 ? splits : 0));
  kt::DeviceArray<float> partials(workspace.partial_floats);
  kt::DeviceArray<unsigned> arrivals(workspace.arrival_count);
  kt::cuda_ok(cudaMemset(arrivals.get(), 0, workspace.arrival_count * sizeof(unsigned)), "zero the tile counters");
  workspace.partials = partials.get();
  workspace.arrivals = arrivals.get();

  const kernels::MatmulTarget targets[] = {{gate.device.get(), rows, gate_y.get(), nullptr},
                                           {up.device.get(), rows, up_y.get(), nullptr}};
  kernels::matmul_few_streams<F>(targets, cols, as_half(x16), tokens, workspace, device, nullptr, splits);
  kernels::gated_activation(activation, gate_y.get(), up_y.get(), reinterpret_cast<__half*>(want.get()),
                            tokens * rows, nullptr);
  kt::cuda_ok(cudaDeviceSynchronize(), "the two products and the activation");
  const std::vector<std::uint16_t> expected = want.download();
  std::size_t finite = 0;
  for (const std::uint16_t h : expected) finite += (h & 0x7c00u) != 0x7c00u && (h & 0x7fffu) != 0;
  REQUIRE_MESSAGE(finite > expected.size() / 2, "the reference is mostly zero or not finite: a vacuous test");

  for (int launch = 0; launch < 2; ++launch) {
    CAPTURE(launch);
    got.poison();
    kernels::matmul_few_streams_gated<F>(gate.device.get(), up.device.get(), rows, cols, as_half(x16), tokens,
                                         activation, reinterpret_cast<__half*>(got.get()), workspace, device, nullptr,
                                         splits);
    kt::cuda_ok(cudaDeviceSynchronize(), "the paired product");
    const std::vector<std::uint16_t> out = got.download();
    std::size_t differ = 0, first = out.size();
    for (std::size_t i = 0; i < out.size(); ++i)
      if (out[i] != expected[i] && differ++ == 0) first = i;
    CHECK_MESSAGE(differ == 0, differ << " of " << out.size() << " values differ, first token " << first / rows
                                      << " row " << first % rows);
    CHECK(arrivals.download() == std::vector<unsigned>(workspace.arrival_count, 0u));
  }
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("decode batch: matmul_few_streams_gated<F> is act(gate) * up of the two products in f16, "
                          "bit for bit, K whole or split, ragged rows and tokens",
                          F, few_streams_gated_case) {
  for (const model::FfnActivation activation : {model::FfnActivation::silu, model::FfnActivation::gelu_tanh}) {
    for (const std::size_t tokens : {std::size_t{1}, std::size_t{7}, std::size_t{16}}) {
      check_gated<F>(256, units_wide<F>(32), tokens, 0, activation);  // as many tiles paired as apart
      check_gated<F>(201, units_wide<F>(9), tokens, 1, activation);   // odd rows: a partial fragment, no pair stores
      check_gated<F>(200, units_wide<F>(40), tokens, 3, activation);  // X restaged within a split
    }
  }
  check_gated<F>(640, units_wide<F>(16), 16, 0, model::FfnActivation::silu);
}
TEST_CASE_TEMPLATE_APPLY(few_streams_gated_case, StreamFormats);

TEST_CASE("decode batch: matmul_few_streams_gated refuses misaligned output, more than 16 tokens and no output") {
  using F = quant::Q4_0;
  const std::size_t cols = units_wide<F>(32), rows = 256;
  const Matrix<F> w(rows, cols, 5);
  kt::DeviceArray<std::uint16_t> x(17 * cols), out(17 * rows + 1);
  const auto device = kernels::DeviceInfo::current();
  auto* half_out = reinterpret_cast<__half*>(out.get());
  CHECK_THROWS_WITH_AS(kernels::matmul_few_streams_gated<F>(w.device.get(), w.device.get(), rows, cols, as_half(x), 17,
                                                            model::FfnActivation::silu, half_out, {}, device, nullptr,
                                                            1),
                       doctest::Contains("kernels::matmul_few_streams_gated<Q4_0>"), Error);
  CHECK_THROWS_AS(kernels::matmul_few_streams_gated<F>(w.device.get(), w.device.get(), rows, cols, as_half(x), 4,
                                                       model::FfnActivation::silu, half_out + 1, {}, device, nullptr,
                                                       1),
                  Error);
  CHECK_THROWS_AS(kernels::matmul_few_streams_gated<F>(w.device.get(), w.device.get(), rows, cols, as_half(x), 4,
                                                       model::FfnActivation::silu, nullptr, {}, device, nullptr, 1),
                  Error);
}

TEST_CASE_TEMPLATE_DEFINE("decode batch: matmul_few_streams<F> matches cpu::matmul for 1 to 16 tokens, K whole or "
                          "split, and repeats itself bit for bit",
                          F, few_streams_case) {
  for (const int splits : {1, 3, 0}) {
    for (const std::size_t tokens : {std::size_t{1}, std::size_t{5}, std::size_t{16}}) {
      const std::size_t qkv[] = {256, 64, 72};  // a residual on the second
      check_few<F>(qkv, units_wide<F>(32), tokens, splits);
      const std::size_t ragged[] = {161};  // a partial fragment of 8 rows; a last group of 1 unit (legacy)
      check_few<F>(ragged, units_wide<F>(9), tokens, splits);
    }
  }
  const std::size_t gate_up[] = {640, 640};  // several tiles a matrix
  check_few<F>(gate_up, units_wide<F>(16), 16, 0);
  const std::size_t each_rounded_up[] = {130, 130, 130};  // each target rounds its own rows up to tiles
  check_few<F>(each_rounded_up, units_wide<F>(16), 7, 0);
  const std::size_t restaged[] = {100};  // one split of 10 groups: X staged twice (8 groups at a time)
  check_few<F>(restaged, units_wide<F>(40), 9, 1);
  // Every instantiated shape: steps of several groups, a last step cut short, splits of odd lengths.
  for (const kernels::FewStreamsShape& shape : kernels::few_streams_shapes) {
    const std::size_t qkv[] = {256, 64, 72};
    check_few<F>(qkv, units_wide<F>(44), 16, 3, shape);
    check_few<F>(restaged, units_wide<F>(40), 5, 1, shape);
    const std::size_t ragged[] = {161};
    check_few<F>(ragged, units_wide<F>(9), 16, 0, shape);
  }
}
TEST_CASE_TEMPLATE_APPLY(few_streams_case, StreamFormats);

TEST_CASE("decode batch: matmul_few_streams refuses more than 16 tokens, a workspace too small for its splits, "
          "and columns that are not whole units") {
  using F = quant::Q4_0;
  const std::size_t cols = units_wide<F>(32), rows = 256;
  const Matrix<F> w(rows, cols, 5);
  kt::DeviceArray<std::uint16_t> x(17 * cols);
  kt::DeviceArray<float> y(17 * rows);
  const kernels::MatmulTarget target[] = {{w.device.get(), rows, y.get(), nullptr}};
  const auto device = kernels::DeviceInfo::current();
  CHECK_THROWS_WITH_AS(kernels::matmul_few_streams<F>(target, cols, as_half(x), 17, {}, device, nullptr, 1),
                       doctest::Contains("kernels::matmul_few_streams<Q4_0>"), Error);
  CHECK_THROWS_AS(kernels::matmul_few_streams<F>(target, cols, as_half(x), 4, {}, device, nullptr, 4), Error);
  CHECK_THROWS_AS(kernels::matmul_few_streams<F>(target, cols, as_half(x), 4, {}, device, nullptr, 33), Error);
  CHECK_FALSE(kernels::matmul_few_streams_takes<F>(48));
  CHECK_FALSE(kernels::matmul_few_streams_takes<quant::Q4_K>(288));
  CHECK(kernels::matmul_few_streams_takes<quant::Q6_K>(768));
}
