// kernels::matmul_q<F> (the prefill GEMM on tensor cores) against the CPU
// oracle, for every listed format, on fresh seeded weights from the synthetic
// block generator (valid scales, values with RMS ~0.5) and random activations.
//
// The kernel rounds both operands to f16 (unit roundoff u = 2^-11) and
// accumulates in f32, so three references, each with two budgets:
//   reference                                   nmse     every element within
//   cpu::matmul on the f32 operands ........... < 1e-5   (2u + K 2^-22) S + 2^-25 (|w|1 + |x|1)
//   cpu::matmul with X rounded to f16 first ... < 1e-6   (u + K 2^-22) S + 2^-25 |x|1
//   f64 dot of both operands rounded to f16 ... < 1e-8   K 2^-22 S   (f32 accumulation only)
// with S = sum_k |w_k x_k| and K = cols: first-order rounding bounds (the
// 2^-25 terms cover f16 subnormals), which hold for any single output, while
// the normalised MSE (test-backend-ops) is taken over all outputs of a format
// (and per shape from 256 outputs up): one output whose dot product cancels
// to nearly zero has a large relative error that says nothing about the kernel.
// Outputs are poisoned (NaN) before each run; weights sit at the very end of
// their allocation, only 2-byte aligned (4 for F32), so a read past the
// tensor's last byte is a fault under compute-sanitizer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/cpu/ops.hpp>
#include <pagoda/cpu/thread_pool.hpp>
#include <pagoda/gguf/file.hpp>
#include <pagoda/kernels/matmul_q.cuh>
#include <pagoda/model/synthetic_blocks.hpp>
#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/format_list.hpp>

#include "gpu/prefill_support.hpp"
#include "quant/random_blocks.hpp"

using namespace pagoda;

namespace {

cpu::ThreadPool& pool() {
  static cpu::ThreadPool instance;
  return instance;
}

// rows x cols of F from the synthetic generator, seeded.
template <class F>
std::vector<std::byte> random_weights(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  const std::size_t n_blocks = rows * cols / F::block_elements;
  std::vector<std::byte> bytes(n_blocks * F::block_bytes);
  if constexpr (F::block_elements == 1) {
    const std::size_t unit = model::synth::float_unit_elements;
    for (std::size_t u = 0; u * unit < n_blocks; ++u) {
      auto rng = model::synth::unit_rng(seed, 1, u);
      model::synth::random_floats<F>(rng, 0.0f, 0.5f, std::min(unit, n_blocks - u * unit),
                                     bytes.data() + u * unit * F::block_bytes);
    }
  } else {
    for (std::size_t b = 0; b < n_blocks; ++b) {
      auto rng = model::synth::unit_rng(seed, 1, b);
      typename F::block block{};
      model::synth::random_block<F>(rng, 0.5f, block);
      std::memcpy(bytes.data() + b * F::block_bytes, &block, F::block_bytes);
    }
  }
  return bytes;
}

// Per output: the f64 dot of W and X both rounded to f16 (what the tensor
// cores multiply), S = sum |w x| and the 1-norms of W's row and X's token.
struct F16Reference {
  std::vector<float> y;
  std::vector<double> magnitude, w_norm, x_norm;
};

template <class F>
F16Reference f16_reference(std::span<const std::byte> weights, std::size_t rows, std::size_t cols,
                           std::span<const float> x, std::size_t tokens) {
  F16Reference ref{std::vector<float>(tokens * rows), std::vector<double>(tokens * rows), std::vector<double>(rows),
                   std::vector<double>(tokens)};
  std::vector<float> x16(x.begin(), x.end());
  for (float& v : x16) v = prefill_test::round_f16(v);
  for (std::size_t t = 0; t < tokens; ++t)
    for (std::size_t k = 0; k < cols; ++k) ref.x_norm[t] += std::fabs(x[t * cols + k]);
  const std::size_t row_bytes = weights.size() / rows;
  pool().parallel_for(rows, [&](std::size_t begin, std::size_t end) {
    std::vector<float> w(cols), w16(cols);
    for (std::size_t r = begin; r < end; ++r) {
      quant::dequantize_row<F>(weights.subspan(r * row_bytes, row_bytes), w);
      for (std::size_t k = 0; k < cols; ++k) {
        w16[k] = prefill_test::round_f16(w[k]);
        ref.w_norm[r] += std::fabs(w[k]);
      }
      for (std::size_t t = 0; t < tokens; ++t) {
        double sum = 0.0, magnitude = 0.0;
        for (std::size_t k = 0; k < cols; ++k) {
          sum += double(w16[k]) * x16[t * cols + k];
          magnitude += std::fabs(double(w[k]) * x[t * cols + k]);
        }
        ref.y[t * rows + r] = static_cast<float>(sum);
        ref.magnitude[t * rows + r] = magnitude;
      }
    }
  });
  return ref;
}

// Squared error and squared reference, summed: nmse of a whole sweep.
struct Nmse {
  double error = 0, norm = 0;
  void add(std::span<const float> out, std::span<const float> ref) {
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double d = std::isfinite(out[i]) ? double(out[i]) - ref[i] : 1e30;
      error += d * d;
      norm += double(ref[i]) * ref[i];
    }
  }
  [[nodiscard]] double value() const { return norm == 0 ? error : error / norm; }
};

// Elements outside their bound, and the largest |error| / bound seen.
struct Bound {
  std::size_t violations = 0;
  double worst = 0;
  std::string first;
  template <class Tolerance>
  void check(std::span<const float> out, std::span<const float> ref, std::size_t rows, Tolerance tolerance) {
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double bound = tolerance(i / rows, i % rows) + 1e-30;
      const double error = std::isfinite(out[i]) ? std::fabs(double(out[i]) - ref[i]) : 1e30;
      worst = std::max(worst, error / bound);
      if (error > bound && violations++ == 0)
        first = "token " + std::to_string(i / rows) + " row " + std::to_string(i % rows) + ": " +
                std::to_string(out[i]) + " vs " + std::to_string(ref[i]) + " (bound " + std::to_string(bound) + ")";
    }
  }
};

struct Report {
  Nmse f32, x16, f16;
  Bound f32_bound, x16_bound, f16_bound;
  double worst_shape_f32 = 0, worst_shape_x16 = 0, worst_shape_f16 = 0;  // nmse, shapes of >= 256 outputs
};

constexpr double u16 = 0x1p-11;  // f16 unit roundoff

// One shape: uploads, runs (plain, residual, in place) and adds the comparisons to `report`.
template <class F>
void run_case(std::size_t tokens, std::size_t rows, std::size_t cols, std::uint64_t seed, Report& report) {
  const std::vector<std::byte> weights = random_weights<F>(rows, cols, seed);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  const std::vector<float> x = prefill_test::random_floats(tokens * cols, -1.0f, 1.0f, rng);
  const std::vector<float> residual = prefill_test::random_floats(tokens * rows, -1.0f, 1.0f, rng);
  std::vector<float> x16(x);
  for (float& v : x16) v = prefill_test::round_f16(v);

  const gguf::TensorInfo info = prefill_test::tensor_info(F::id, rows, cols, weights);
  std::vector<float> ref32(tokens * rows), ref_x16(tokens * rows);
  cpu::matmul(info, x, tokens, ref32, pool());
  cpu::matmul(info, x16, tokens, ref_x16, pool());
  REQUIRE(prefill_test::count_nonzero(ref32) > ref32.size() / 2);  // the seeded inputs are not empty
  const F16Reference ref16 = f16_reference<F>(weights, rows, cols, x, tokens);

  const prefill_test::TensorAtEnd w(weights, alignof(typename F::block));
  prefill_test::DeviceArray<float> dx(x), dy(tokens * rows), dres(residual);
  const auto device = kernels::DeviceInfo::current();
  kernels::matmul_q<F>(w.get(), rows, cols, dx.get(), tokens, dy.get(), nullptr, device, nullptr);
  const std::vector<float> y = dy.download();

  // Accumulation: K f32 additions, rounded (cpu) or possibly truncated (tensor cores): 2^-23 each, both sides.
  const double k_sum = static_cast<double>(cols) * 0x1p-22;
  const auto s = [&](std::size_t t, std::size_t r) { return ref16.magnitude[t * rows + r]; };
  const auto tol_f32 = [&](std::size_t t, std::size_t r) {
    return (2 * u16 + u16 * u16 + k_sum) * s(t, r) + 0x1p-25 * (ref16.w_norm[r] + ref16.x_norm[t]);
  };
  const auto tol_x16 = [&](std::size_t t, std::size_t r) {
    return (u16 + u16 * u16 + k_sum) * s(t, r) + 0x1p-25 * ref16.x_norm[t];
  };
  report.f32_bound.check(y, ref32, rows, tol_f32);
  report.x16_bound.check(y, ref_x16, rows, tol_x16);
  report.f16_bound.check(y, ref16.y, rows, [&](std::size_t t, std::size_t r) { return k_sum * s(t, r); });
  report.f32.add(y, ref32);
  report.x16.add(y, ref_x16);
  report.f16.add(y, ref16.y);
  if (tokens * rows >= 256) {
    report.worst_shape_f32 = std::max(report.worst_shape_f32, prefill_test::normalized_mse(y, ref32));
    report.worst_shape_x16 = std::max(report.worst_shape_x16, prefill_test::normalized_mse(y, ref_x16));
    report.worst_shape_f16 = std::max(report.worst_shape_f16, prefill_test::normalized_mse(y, ref16.y));
  }

  // With a residual, then in place (y already holds the residual: x += W h, as
  // the engine does it); one more f32 rounding of the sum.
  std::vector<float> ref_res(ref32);
  for (std::size_t i = 0; i < ref_res.size(); ++i) ref_res[i] += residual[i];
  const auto tol_res = [&](std::size_t t, std::size_t r) {
    return tol_f32(t, r) + 0x1p-22 * (std::fabs(ref32[t * rows + r]) + std::fabs(residual[t * rows + r]));
  };
  dy.poison();
  kernels::matmul_q<F>(w.get(), rows, cols, dx.get(), tokens, dy.get(), dres.get(), device, nullptr);
  const std::vector<float> y_res = dy.download();
  report.f32_bound.check(y_res, ref_res, rows, tol_res);
  report.f32.add(y_res, ref_res);
  kernels::matmul_q<F>(w.get(), rows, cols, dx.get(), tokens, dres.get(), dres.get(), device, nullptr);
  const std::vector<float> y_in_place = dres.download();
  report.f32_bound.check(y_in_place, ref_res, rows, tol_res);
  report.f32.add(y_in_place, ref_res);
}

void check_report(const Report& r, std::string_view what) {
  CHECK_MESSAGE(r.f32_bound.violations == 0, what << " vs f32: " << r.f32_bound.first);
  CHECK_MESSAGE(r.x16_bound.violations == 0, what << " vs f16 X: " << r.x16_bound.first);
  CHECK_MESSAGE(r.f16_bound.violations == 0, what << " vs f16 X and W: " << r.f16_bound.first);
  CHECK(r.f32.value() < 1e-5);
  CHECK(r.x16.value() < 1e-6);
  CHECK(r.f16.value() < 1e-8);
  CHECK(r.worst_shape_f32 < 1e-5);
  CHECK(r.worst_shape_x16 < 1e-6);
  CHECK(r.worst_shape_f16 < 1e-8);
  MESSAGE(what << ": nmse vs f32 " << r.f32.value() << ", vs f16 X " << r.x16.value() << ", vs f16 X and W "
               << r.f16.value() << " (worst shape " << r.worst_shape_f32 << ", " << r.worst_shape_x16 << ", "
               << r.worst_shape_f16 << "); worst |error| / bound " << r.f32_bound.worst << ", "
               << r.x16_bound.worst << ", " << r.f16_bound.worst);
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("prefill: matmul_q<F> matches cpu::matmul at ragged shapes, with and without residual",
                          F, prefill_matmul_id) {
  // K-sizes: whole blocks (1, 2, 3, 9 of them); one-element formats get odd
  // sizes that cross the 64-wide K step and break float4 alignment of X.
  const std::vector<std::size_t> col_counts =
      F::block_elements == 1 ? std::vector<std::size_t>{1, 2, 3, 9, 77, 300}
                             : std::vector<std::size_t>{F::block_elements, 2 * F::block_elements,
                                                        3 * F::block_elements, 9 * F::block_elements};
  Report report;
  std::uint64_t seed = 1000 * static_cast<std::uint64_t>(F::id);
  for (std::size_t tokens : {1, 3, 16, 17, 64, 129})
    for (std::size_t rows : {1, 17, 33, 100, 257})
      for (std::size_t cols : col_counts) {
        CAPTURE(tokens);
        CAPTURE(rows);
        CAPTURE(cols);
        run_case<F>(tokens, rows, cols, ++seed, report);
        REQUIRE_MESSAGE(report.f32_bound.violations + report.x16_bound.violations + report.f16_bound.violations == 0,
                        "first outside its bound: " << report.f32_bound.first << report.x16_bound.first
                                                    << report.f16_bound.first);
      }
  check_report(report, F::name);
}
TEST_CASE_TEMPLATE_APPLY(prefill_matmul_id, quant::testing::as_tuple<quant::formats>::type);

TEST_CASE("prefill: matmul_q's 128 x 128 tile (many rows and tokens) matches cpu::matmul") {
  const int sms = kernels::DeviceInfo::current().multiprocessors();
  const std::size_t tokens = 300;
  const std::size_t rows = 128 * static_cast<std::size_t>(sms) + 17;
  REQUIRE(kernels::select_matmul_policy(tokens, rows, sms) == kernels::matmul_policy_wide);
  Report q4, q6;
  run_case<quant::Q4_0>(tokens, rows, 64, 77, q4);
  run_case<quant::Q6_K>(tokens, rows, 256, 78, q6);
  check_report(q4, "Q4_0, " + std::to_string(rows) + " rows (wide tile)");
  check_report(q6, "Q6_K, " + std::to_string(rows) + " rows (wide tile)");
}

TEST_CASE("prefill: matmul_q reads weights from mapped (zero-copy) host memory") {
  const std::size_t tokens = 40, rows = 70, cols = 576;  // 324-byte Q4_0 rows: 2-byte aligned
  const std::vector<std::byte> weights = random_weights<quant::Q4_0>(rows, cols, 5);
  void* host = nullptr;
  prefill_test::cuda_ok(cudaHostAlloc(&host, weights.size(), cudaHostAllocMapped), "cudaHostAlloc");
  std::memcpy(host, weights.data(), weights.size());
  void* mapped = nullptr;
  prefill_test::cuda_ok(cudaHostGetDevicePointer(&mapped, host, 0), "cudaHostGetDevicePointer");

  std::mt19937 rng(6);
  const std::vector<float> x = prefill_test::random_floats(tokens * cols, -1.0f, 1.0f, rng);
  std::vector<float> ref(tokens * rows);
  cpu::matmul(prefill_test::tensor_info(quant::Q4_0::id, rows, cols, weights), x, tokens, ref, pool());
  prefill_test::DeviceArray<float> dx(x), dy(tokens * rows);
  const auto device = kernels::DeviceInfo::current();
  kernels::matmul_q<quant::Q4_0>(static_cast<const std::byte*>(mapped), rows, cols, dx.get(), tokens, dy.get(),
                                 nullptr, device, nullptr);
  const double error = prefill_test::normalized_mse(dy.download(), ref);
  cudaFreeHost(host);
  CHECK(error < 1e-5);
}

TEST_CASE("prefill: matmul_q refuses a partial block, misaligned weights and oversized shapes, naming the format") {
  prefill_test::DeviceArray<std::byte> w(4 * quant::Q4_K::block_bytes + 2);
  prefill_test::DeviceArray<float> x(512), y(512);
  const auto device = kernels::DeviceInfo::current();
  CHECK_THROWS_WITH_AS(kernels::matmul_q<quant::Q4_K>(w.get(), 1, 300, x.get(), 1, y.get(), nullptr, device, nullptr),
                       doctest::Contains("kernels::matmul_q<Q4_K>"), Error);
  CHECK_THROWS_WITH_AS(
      kernels::matmul_q<quant::Q4_K>(w.get() + 1, 1, 256, x.get(), 1, y.get(), nullptr, device, nullptr),
                       doctest::Contains("aligned"), Error);
  CHECK_THROWS_AS(kernels::matmul_q<quant::Q4_K>(w.get(), 1, 0, x.get(), 1, y.get(), nullptr, device, nullptr), Error);
  CHECK_NOTHROW(kernels::matmul_q<quant::Q4_K>(w.get(), 0, 256, x.get(), 1, y.get(), nullptr, device, nullptr));
  prefill_test::cuda_ok(cudaDeviceSynchronize(), "sync");
}
