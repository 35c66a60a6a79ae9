// kernels::gemv_q<F> (the decode matrix-vector product) against the CPU
// oracle, cpu::matmul over the same quantized bytes, for every listed format,
// every path (fast and generic on f32 x; staged, int16 x, for the integer
// formats) and its launch shapes, at ragged sizes: rows
// 1, 17, 31, 33, 1000, 2053 (the tall shape's blocks cut a row group short),
// cols of 1, 3, 17 blocks (17 Q4_0 blocks: 306-byte, 2-aligned rows).
// Weights come from two generators: random bytes (every bit pattern, scales
// from subnormal to 65504) and valid synthetic blocks (realistic RMS, so an
// error in any one block shows). Error budget (f32 dot products summed in
// another order): normalised MSE < 1e-10, or, where a single output cancels
// (rows = 1: the nmse of one value is its relative error), every output
// within 1e-5 of sum_i |w_i x_i| (+ |residual|), the scale its rounding
// errors have. Measured on an H100: nmse <= ~4e-12 wherever rows > 1.
// The staged path computes W x' for x' = x quantized to int16 by the rule of
// quant/activation_q16.hpp: it is held to the same budget against the oracle
// on x' (quant::q16_activation_round_trip), and to nmse < 1e-6 against the
// oracle on x itself (the quantization's own error, ~1e-9 for normal x). It
// runs on rows of whole 8-byte words (the extra column counts below: one
// such row, and more than a tile with a partial last one) and, at 9001 rows,
// with blocks that stride over several row groups.
// Outputs are poisoned (NaN) before each run; the weights end exactly at the
// end of their allocation, so a read past the tensor is a fault under
// compute-sanitizer, and one case reads them zero-copy from registered host
// memory whose registration ends at the tensor's last byte.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/cpu/thread_pool.hpp>
#include <pagoda/gguf/file.hpp>
#include <pagoda/kernels/gemv_q.cuh>
#include <pagoda/model/synthetic_blocks.hpp>
#include <pagoda/quant/activation_q16.hpp>
#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/format_list.hpp>

#include "gpu/gemv_oracle.hpp"
#include "gpu/kernel_support.hpp"
#include "quant/random_blocks.hpp"
#include "support/skip.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

namespace {

enum class Source { random_bytes, synthetic };

template <class F>
std::vector<std::byte> make_weights(std::size_t n_blocks, Source source, std::uint64_t seed) {
  if (source == Source::random_bytes) {
    std::mt19937 rng(static_cast<std::uint32_t>(seed));
    return quant::testing::random_blocks<F>(n_blocks, rng);
  }
  std::vector<std::byte> bytes(n_blocks * F::block_bytes);
  if constexpr (F::block_elements == 1) {
    const std::size_t unit = model::synth::float_unit_elements;
    for (std::size_t u = 0; u * unit < n_blocks; ++u) {
      auto rng = model::synth::unit_rng(seed, 7, u);
      model::synth::random_floats<F>(rng, 0.0f, 0.5f, std::min(unit, n_blocks - u * unit),
                                     bytes.data() + u * unit * F::block_bytes);
    }
  } else {
    for (std::size_t b = 0; b < n_blocks; ++b) {
      auto rng = model::synth::unit_rng(seed, 7, b);
      typename F::block block{};
      model::synth::random_block<F>(rng, 0.5f, block);
      std::memcpy(bytes.data() + b * F::block_bytes, &block, F::block_bytes);
    }
  }
  return bytes;
}

template <class F>
std::vector<float> oracle(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols,
                          const std::vector<float>& x, const std::vector<float>* residual) {
  return kt::gemv_oracle<F>(bytes, rows, cols, x, residual);
}

// Per row: sum_i |w_i x_i| (+ |residual_r|), the magnitude rounding errors scale with.
template <class F>
std::vector<double> magnitudes(std::span<const std::byte> bytes, std::size_t rows, std::size_t cols,
                               const std::vector<float>& x, const std::vector<float>* residual) {
  const std::size_t row_bytes = cols / F::block_elements * F::block_bytes;
  std::vector<float> w(cols);
  std::vector<double> out(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    quant::dequantize_row<F>(bytes.subspan(r * row_bytes, row_bytes), w);
    double sum = residual != nullptr ? std::fabs(double((*residual)[r])) : 0.0;
    for (std::size_t i = 0; i < cols; ++i) sum += std::fabs(double(w[i]) * x[i]);
    out[r] = sum;
  }
  return out;
}

// max_r |got_r - want_r| / magnitude_r; +inf for a non-finite output.
double scaled_error(const std::vector<float>& got, const std::vector<float>& want, const std::vector<double>& scale) {
  double worst = 0.0;
  for (std::size_t r = 0; r < want.size(); ++r) {
    if (!std::isfinite(got[r])) return std::numeric_limits<double>::infinity();
    const double e = std::fabs(double(got[r]) - want[r]);
    worst = std::max(worst, scale[r] > 0 ? e / scale[r] : e);
  }
  return worst;
}

struct Worst {
  double nmse = 0, scaled = 0;
  void add(double n, double e) { nmse = std::max(nmse, n), scaled = std::max(scaled, e); }
};

// The alignment a GGUF tensor start (32 bytes) leaves every block of F.
template <class F>
constexpr std::size_t block_alignment() {
  const std::size_t lowest_bit = F::block_bytes & (~F::block_bytes + 1);
  return std::min<std::size_t>(lowest_bit, 32);
}

struct Run {
  kernels::GemvPolicy policy;
  kernels::GemvPath path;
  bool selected;  // through gemv_q (the path and policy it picks)
};
constexpr Run runs[] = {
    {kernels::gemv_policy_tall, kernels::GemvPath::fast, false},
    {kernels::gemv_policy_short, kernels::GemvPath::fast, false},
    {kernels::gemv_policy_tall, kernels::GemvPath::generic, false},
    {kernels::gemv_policy_short, kernels::GemvPath::generic, false},
    {kernels::gemv_staged_policy_tall, kernels::GemvPath::staged, false},
    {kernels::gemv_staged_policy_short, kernels::GemvPath::staged, false},
    {{}, kernels::GemvPath::fast, true},
};

const char* path_name(kernels::GemvPath path) {
  switch (path) {
    case kernels::GemvPath::fast: return "fast";
    case kernels::GemvPath::generic: return "generic";
    case kernels::GemvPath::staged: return "staged";
  }
  return "?";
}

using kt::int16_activations;

// Rows of `blocks` blocks of F are whole `word`-byte words (the staged path
// needs 8; it loads 16 bytes at a time where rows allow).
template <class F>
constexpr bool whole_words(std::size_t blocks, std::size_t word = 8) {
  return blocks * F::block_bytes % word == 0;
}

// Column counts (in blocks) that the staged path runs on: the fewest blocks
// that make whole 8-byte words and whole 16-byte words (its two load widths),
// and a tile plus that many (a partial last tile).
template <class F>
std::vector<std::size_t> staged_col_blocks() {
  if constexpr (!kernels::gemv_has_staged_path<F>) {
    return {};
  } else {
    std::size_t fewest = 1, fewest_wide = 1;
    while (!whole_words<F>(fewest)) ++fewest;
    while (!whole_words<F>(fewest_wide, 16)) ++fewest_wide;
    std::vector<std::size_t> blocks{fewest, kernels::gemv_staged_tile_blocks<F> + fewest};
    if (fewest_wide != fewest) blocks.push_back(fewest_wide);
    return blocks;
  }
}

template <class F>
void check_shape(std::size_t rows, std::size_t col_blocks, Source source, std::uint64_t seed, Worst& worst) {
  const std::size_t cols = col_blocks * F::block_elements;
  CAPTURE(rows);
  CAPTURE(cols);
  CAPTURE(static_cast<int>(source));
  std::mt19937 rng(static_cast<std::uint32_t>(seed * 31 + rows));
  const std::vector<std::byte> weights = make_weights<F>(rows * col_blocks, source, seed + rows * 1009 + cols);
  const std::vector<float> x = kt::random_normal(cols, rng);
  const std::vector<float> residual = kt::random_normal(rows, rng);
  const std::vector<float> want = oracle<F>(weights, rows, cols, x, nullptr);
  const std::vector<float> want_residual = oracle<F>(weights, rows, cols, x, &residual);
  const std::vector<double> scale = magnitudes<F>(weights, rows, cols, x, nullptr);
  const std::vector<double> scale_residual = magnitudes<F>(weights, rows, cols, x, &residual);
  kt::require_nonzero(want);
  const std::vector<float> x16 = int16_activations(x);
  const std::vector<float> want16 = oracle<F>(weights, rows, cols, x16, nullptr);
  const std::vector<float> want16_residual = oracle<F>(weights, rows, cols, x16, &residual);
  const std::vector<double> scale16 = magnitudes<F>(weights, rows, cols, x16, nullptr);
  const std::vector<double> scale16_residual = magnitudes<F>(weights, rows, cols, x16, &residual);

  // The tensor ends exactly where its allocation ends, at the alignment a
  // GGUF tensor start guarantees and no more.
  const std::size_t offset = block_alignment<F>();
  kt::DeviceArray<std::byte> device_weights(offset + weights.size());
  kt::cuda_ok(cudaMemcpy(device_weights.get() + offset, weights.data(), weights.size(), cudaMemcpyHostToDevice),
                "upload");
  // The staged path's copy: 16-aligned (an allocation's start), also ending its allocation.
  const kt::DeviceArray<std::byte> aligned_weights{std::span<const std::byte>(weights)};
  const bool staged_applies = kernels::gemv_has_staged_path<F> && whole_words<F>(col_blocks);
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  const kt::DeviceArray<float> device_residual{std::span<const float>(residual)};
  kt::DeviceArray<float> y(rows);
  kt::Stream stream;
  const auto device = kernels::DeviceInfo::current();

  for (const Run& run : runs) {
    if (run.path == kernels::GemvPath::staged && !staged_applies) continue;
    const std::byte* w = run.path == kernels::GemvPath::staged ? aligned_weights.get() : device_weights.get() + offset;
    const bool int16 = run.selected ? kernels::gemv_takes_staged_path<F>(w, cols) : run.path == kernels::GemvPath::staged;
    CAPTURE(run.policy);
    CAPTURE(path_name(run.path));
    CAPTURE(int16);
    for (const bool with_residual : {false, true}) {
      CAPTURE(with_residual);
      y.poison();
      const float* r = with_residual ? device_residual.get() : nullptr;
      if (run.selected)
        kernels::gemv_q<F>(w, rows, cols, device_x.get(), y.get(), r, device, stream);
      else
        kernels::gemv_q_with<F>(w, rows, cols, device_x.get(), y.get(), r, run.policy, run.path, device, stream);
      const std::vector<float> got = y.download();
      const auto& exact = int16 ? (with_residual ? want16_residual : want16) : (with_residual ? want_residual : want);
      const auto& magnitude = int16 ? (with_residual ? scale16_residual : scale16)
                                    : (with_residual ? scale_residual : scale);
      const double error = kt::normalized_mse(got, exact);
      const double scaled = scaled_error(got, exact, magnitude);
      CAPTURE(error);
      CAPTURE(scaled);
      CHECK((error < kt::nmse_f32_dot || scaled < kt::scaled_f32_dot));
      worst.add(error, scaled);
      if (int16 && rows >= 17) {  // and what quantizing x costs against the f32 oracle
        const double against_f32 = kt::normalized_mse(got, with_residual ? want_residual : want);
        CAPTURE(against_f32);
        CHECK(against_f32 < 1e-6);
      }
    }
  }
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("kernel gemv_q<F> matches cpu::matmul at ragged shapes, both paths, both shapes", F,
                          gemv_id) {
  // Formats of one element per block get wider rows too (a 17-element row is
  // under one warp's step).
  std::vector<std::size_t> col_blocks{1, 3, 17};
  if (F::block_elements == 1) col_blocks.insert(col_blocks.end(), {1000, 4097});
  for (const std::size_t blocks : staged_col_blocks<F>())
    if (std::find(col_blocks.begin(), col_blocks.end(), blocks) == col_blocks.end()) col_blocks.push_back(blocks);
  // Random F32/BF16 bits reach 3e38, whose sums overflow in any order.
  constexpr bool wide_exponent = std::is_same_v<F, quant::F32> || std::is_same_v<F, quant::BF16>;
  std::uint64_t seed = 1;
  Worst worst;
  for (const Source source : {Source::random_bytes, Source::synthetic})
    if (!(wide_exponent && source == Source::random_bytes))
      for (const std::size_t rows : {1, 17, 31, 33, 1000, 2053})
        for (const std::size_t blocks : col_blocks) check_shape<F>(rows, blocks, source, ++seed, worst);
  // Blocks of the staged kernel stride over several row groups.
  for (const std::size_t blocks : staged_col_blocks<F>()) check_shape<F>(9001, blocks, Source::synthetic, ++seed, worst);
  MESSAGE(F::name << ": worst nmse " << worst.nmse << ", worst error / sum|w x| " << worst.scaled);
}
TEST_CASE_TEMPLATE_APPLY(gemv_id, quant::testing::as_tuple<quant::formats>::type);

TEST_CASE_TEMPLATE_DEFINE("kernel gemv_q<F> writes y in place over the residual", F, gemv_in_place_id) {
  const std::size_t rows = 37, cols = 5 * F::block_elements;
  std::mt19937 rng(5);
  const std::vector<std::byte> weights = make_weights<F>(rows * cols / F::block_elements, Source::synthetic, 99);
  const std::vector<float> x = kt::random_normal(cols, rng);
  const std::vector<float> residual = kt::random_normal(rows, rng);
  const std::vector<float> want = oracle<F>(weights, rows, cols, x, &residual);
  const kt::DeviceArray<std::byte> device_weights{std::span<const std::byte>(weights)};
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  kt::DeviceArray<float> y{std::span<const float>(residual)};
  const auto device = kernels::DeviceInfo::current();
  kernels::gemv_q<F>(device_weights.get(), rows, cols, device_x.get(), y.get(), y.get(), device, nullptr);
  const std::vector<float> exact = kernels::gemv_takes_staged_path<F>(device_weights.get(), cols)
                                       ? oracle<F>(weights, rows, cols, int16_activations(x), &residual)
                                       : want;
  CHECK(kt::normalized_mse(y.download(), exact) < kt::nmse_f32_dot);
}
TEST_CASE_TEMPLATE_APPLY(gemv_in_place_id, quant::testing::as_tuple<quant::formats>::type);

// Zero-copy: the weights are read through a host registration that ends at
// the tensor's last byte; the page after it is unmapped, so a read past the
// end faults instead of passing silently.
TEST_CASE_TEMPLATE_DEFINE("kernel gemv_q<F> reads zero-copy host weights ending at the registration's end", F,
                          gemv_host_id) {
  const std::size_t rows = 33, col_blocks = 17, cols = col_blocks * F::block_elements;
  const std::vector<std::byte> weights = make_weights<F>(rows * col_blocks, Source::synthetic, 1234);
  std::mt19937 rng(77);
  const std::vector<float> x = kt::random_normal(cols, rng);
  const std::vector<float> want = oracle<F>(weights, rows, cols, x, nullptr);

  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t mapped = (weights.size() + page - 1) / page * page;
  void* region = mmap(nullptr, mapped + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(region != MAP_FAILED);
  munmap(static_cast<std::byte*>(region) + mapped, page);  // nothing after the registration
  auto* tensor = static_cast<std::byte*>(region) + mapped - weights.size();
  std::memcpy(tensor, weights.data(), weights.size());
  unsigned flags = cudaHostRegisterMapped;
  int read_only = 0;
  const auto device = kernels::DeviceInfo::current();
  if (cudaDeviceGetAttribute(&read_only, cudaDevAttrHostRegisterReadOnlySupported, device.device()) == cudaSuccess &&
      read_only != 0)
    flags |= cudaHostRegisterReadOnly;
  const cudaError_t registered = cudaHostRegister(region, mapped, flags);
  if (registered != cudaSuccess) {
    cudaGetLastError();
    munmap(region, mapped);
    PAGODA_SKIP(std::string("cudaHostRegister failed (") + cudaGetErrorName(registered) + "): no zero-copy weights here");
  }
  void* device_region = nullptr;
  kt::cuda_ok(cudaHostGetDevicePointer(&device_region, region, 0), "cudaHostGetDevicePointer");
  const auto* device_tensor = static_cast<const std::byte*>(device_region) + (tensor - static_cast<std::byte*>(region));

  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  kt::DeviceArray<float> y(rows);
  for (const auto& policy : kernels::gemv_policies) {
    y.poison();
    kernels::gemv_q_with<F>(device_tensor, rows, cols, device_x.get(), y.get(), nullptr, policy,
                            kernels::GemvPath::fast, device, nullptr);
    CHECK(kt::normalized_mse(y.download(), want) < kt::nmse_f32_dot);
  }
  if (kernels::gemv_takes_staged_path<F>(device_tensor, cols)) {
    const std::vector<float> want16 = oracle<F>(weights, rows, cols, int16_activations(x), nullptr);
    for (const auto& policy : kernels::gemv_staged_policies) {
      y.poison();
      kernels::gemv_q_with<F>(device_tensor, rows, cols, device_x.get(), y.get(), nullptr, policy,
                              kernels::GemvPath::staged, device, nullptr);
      CHECK(kt::normalized_mse(y.download(), want16) < kt::nmse_f32_dot);
    }
  }
  kt::cuda_ok(cudaHostUnregister(region), "cudaHostUnregister");
  munmap(region, mapped);
}
TEST_CASE_TEMPLATE_APPLY(gemv_host_id, quant::testing::as_tuple<quant::formats>::type);

TEST_CASE("kernel gemv_q refuses partial blocks and misaligned operands, naming the format") {
  kt::DeviceArray<std::byte> weights(4 * quant::Q4_K::block_bytes + 16);
  kt::DeviceArray<float> x(2 * 256 + 4);
  kt::DeviceArray<float> y(4);
  const auto device = kernels::DeviceInfo::current();
  using quant::Q4_K;
  CHECK_THROWS_WITH_AS(kernels::gemv_q<Q4_K>(weights.get(), 2, 300, x.get(), y.get(), nullptr, device, nullptr),
                       doctest::Contains("kernels::gemv_q<Q4_K>"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q<Q4_K>(weights.get() + 2, 2, 512, x.get(), y.get(), nullptr, device, nullptr),
                       doctest::Contains("aligned"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q<Q4_K>(weights.get(), 2, 512, x.get() + 1, y.get(), nullptr, device, nullptr),
                       doctest::Contains("x is aligned"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_with<Q4_K>(weights.get(), 2, 512, x.get(), y.get(), nullptr,
                                                  kernels::GemvPolicy{64, 3}, kernels::GemvPath::fast, device, nullptr),
                       doctest::Contains("policy"), Error);
  CHECK_NOTHROW(kernels::gemv_q<Q4_K>(weights.get(), 0, 512, x.get(), y.get(), nullptr, device, nullptr));
  // The staged path: only the integer formats, whole-word rows, 16-aligned weights, its own launch shapes.
  CHECK_THROWS_WITH_AS(kernels::gemv_q_with<quant::F16>(weights.get(), 2, 64, x.get(), y.get(), nullptr,
                                                        kernels::gemv_staged_policy_tall, kernels::GemvPath::staged,
                                                        device, nullptr),
                       doctest::Contains("staged path"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_with<quant::Q4_0>(weights.get(), 2, 96, x.get(), y.get(), nullptr,
                                                         kernels::gemv_staged_policy_tall, kernels::GemvPath::staged,
                                                         device, nullptr),
                       doctest::Contains("8-byte words"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_with<Q4_K>(weights.get() + 4, 2, 512, x.get(), y.get(), nullptr,
                                                  kernels::gemv_staged_policy_tall, kernels::GemvPath::staged, device,
                                                  nullptr),
                       doctest::Contains("aligned to 16"), Error);
  CHECK_THROWS_WITH_AS(kernels::gemv_q_with<Q4_K>(weights.get(), 2, 512, x.get(), y.get(), nullptr,
                                                  kernels::gemv_policy_tall, kernels::GemvPath::staged, device,
                                                  nullptr),
                       doctest::Contains("gemv_staged_policies"), Error);
  kt::cuda_ok(cudaDeviceSynchronize(), "sync");
}

// The launcher learns the device only from the DeviceInfo it is given: two
// values for the device, or one without programmatic launch, give the same
// bits, and a second call (the opt-in and the grid size remembered) too.
TEST_CASE("kernel gemv_q computes the same under every DeviceInfo of the device, programmatic launch on or off") {
  using F = quant::Q4_0;
  const std::size_t rows = 1000, cols = 4096;  // the staged path: the one that opts in and may launch with PDL
  std::mt19937 rng(9);
  const std::vector<std::byte> weights = make_weights<F>(rows * cols / F::block_elements, Source::synthetic, 31);
  const std::vector<float> x = kt::random_normal(cols, rng);
  const kt::DeviceArray<std::byte> device_weights{std::span<const std::byte>(weights)};
  const kt::DeviceArray<float> device_x{std::span<const float>(x)};
  REQUIRE(kernels::gemv_takes_staged_path<F>(device_weights.get(), cols));
  const auto run = [&](const kernels::DeviceInfo& device) {
    kt::DeviceArray<float> y(rows);
    y.poison();
    kernels::gemv_q<F>(device_weights.get(), rows, cols, device_x.get(), y.get(), nullptr, device, nullptr);
    return y.download();
  };
  const auto device = kernels::DeviceInfo::current();
  const std::vector<float> got = run(device);
  kt::require_nonzero(got);
  CHECK(kt::normalized_mse(got, oracle<F>(weights, rows, cols, int16_activations(x), nullptr)) < kt::nmse_f32_dot);
  CHECK(run(device) == got);
  CHECK(run(kernels::DeviceInfo::current()) == got);
  CHECK(run(kernels::DeviceInfo::current(false)) == got);
}

// Small enough to run under compute-sanitizer memcheck for every format: the
// tensor ends its allocation (at its guaranteed alignment), every path and
// shape, ragged row groups; a read past the last byte is reported as an error.
TEST_CASE_TEMPLATE_DEFINE("kernel gemv_q<F> touches only the tensor's bytes (memcheck)", F, gemv_bounds_id) {
  Worst worst;
  for (const std::size_t rows : {1, 33, 2053})
    for (const std::size_t col_blocks : {1, 3}) check_shape<F>(rows, col_blocks, Source::synthetic, 4242 + rows, worst);
  MESSAGE(F::name << ": worst nmse " << worst.nmse << ", worst error / sum|w x| " << worst.scaled);
}
TEST_CASE_TEMPLATE_APPLY(gemv_bounds_id, quant::testing::as_tuple<quant::formats>::type);
