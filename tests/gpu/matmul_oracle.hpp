// The oracle harness of the tensor-core product tests (prefill_matmul_mma_test,
// kernel_matmul_few_streams_test): seeded weights in the GGUF layout for
// cpu::matmul and packed into field streams on the device, f16 X, and each
// output's error budget.
//
// The kernels multiply X rounded to f16 (kernels::to_half, the same rounding
// as the oracle's input here) by W decoded to f16 in registers: at most two
// roundings per weight (a K-quant rounds d * scale and dmin * min to f16, then
// the fma), each relative to the weights of its block. So per output
//   |y - cpu::matmul(W, f16(X))| <= 8u sum_k M_k |x_k| + K 2^-22 sum_k |w_k x_k| + 2^-24 sum_k |x_k|
// with u = 2^-11, M_k the largest |w| of k's 32-element group (a decoding slip,
// a wrong nibble or scale, is an error of the order of M_k itself), K 2^-22
// for f32 accumulation in two orders, 2^-24 for f16 subnormals; and over a
// whole case the normalised MSE stays below 1e-6.
// Matrices sit at the very end of their allocations, so a read past a
// tensor's last byte is a fault under compute-sanitizer; outputs start as NaN.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <pagoda/cpu/ops.hpp>
#include <pagoda/cpu/thread_pool.hpp>
#include <pagoda/gguf/file.hpp>
#include <pagoda/kernels/matmul_mma_streams.cuh>
#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/field_streams.hpp>
#include <pagoda/quant/half.hpp>

#include "gpu/kernel_support.hpp"
#include "gpu/prefill_support.hpp"
#include "quant/random_blocks.hpp"

namespace pagoda::matmul_oracle {

namespace kt = pagoda::kernel_test;

inline cpu::ThreadPool& pool() {
  static cpu::ThreadPool instance;
  return instance;
}

inline constexpr double u16 = 0x1p-11;

// One matrix of a launch: its GGUF bytes (for the oracle) and its packed copy on the device.
template <class F>
struct Matrix {
  std::size_t rows;
  std::vector<std::byte> gguf;
  prefill_test::TensorAtEnd device;

  Matrix(std::size_t rows_, std::size_t cols, std::uint64_t seed)
      : rows(rows_), gguf(kt::synthetic_weights<F>(rows_, cols, seed)), device(packed(gguf, rows_, cols), 16) {}

  static std::vector<std::byte> packed(const std::vector<std::byte>& bytes, std::size_t rows, std::size_t cols) {
    std::vector<std::byte> out(bytes.size());
    quant::pack_field_streams<F>(bytes.data(), out.data(), rows, cols);
    return out;
  }
};

// cpu::matmul on f16(X), and each output's budget (the header's formula).
template <class F>
void oracle(const Matrix<F>& w, std::size_t cols, const std::vector<float>& x16, std::size_t tokens,
            std::vector<float>& y, std::vector<double>& bound) {
  const gguf::TensorInfo info = prefill_test::tensor_info(F::id, w.rows, cols, w.gguf);
  y.assign(tokens * w.rows, 0.0f);
  cpu::matmul(info, x16, tokens, y, pool());
  bound.assign(tokens * w.rows, 0.0);
  const std::size_t row_bytes = w.gguf.size() / w.rows;
  pool().parallel_for(w.rows, [&](std::size_t begin, std::size_t end) {
    std::vector<float> row(cols), group_max(cols);
    for (std::size_t r = begin; r < end; ++r) {
      quant::dequantize_row<F>(std::span(w.gguf).subspan(r * row_bytes, row_bytes), row);
      for (std::size_t k0 = 0; k0 < cols; k0 += 32) {
        float most = 0.0f;
        for (std::size_t k = k0; k < k0 + 32; ++k) most = std::max(most, std::fabs(row[k]));
        std::fill_n(group_max.begin() + static_cast<std::ptrdiff_t>(k0), 32, most);
      }
      for (std::size_t t = 0; t < tokens; ++t) {
        double decoded = 0, products = 0, inputs = 0;
        for (std::size_t k = 0; k < cols; ++k) {
          const double xk = std::fabs(x16[t * cols + k]);
          decoded += group_max[k] * xk;
          products += std::fabs(row[k]) * xk;
          inputs += xk;
        }
        bound[t * w.rows + r] = 8 * u16 * decoded + static_cast<double>(cols) * 0x1p-22 * products + 0x1p-24 * inputs;
      }
    }
  });
}

inline std::vector<std::uint16_t> halves_of(const std::vector<float>& x) {
  std::vector<std::uint16_t> h(x.size());
  std::transform(x.begin(), x.end(), h.begin(), [](float v) { return quant::f32_to_f16(v).bits; });
  return h;
}

inline const __half* as_half(const kt::DeviceArray<std::uint16_t>& a) { return reinterpret_cast<const __half*>(a.get()); }

struct Comparison {
  std::size_t violations = 0;
  double error = 0, norm = 0, worst = 0;
  std::string first;
  void add(const std::vector<float>& out, const std::vector<float>& want, const std::vector<double>& bound,
           std::size_t rows) {
    for (std::size_t i = 0; i < want.size(); ++i) {
      const double e = std::isfinite(out[i]) ? std::fabs(double(out[i]) - want[i]) : 1e30;
      error += e * e;
      norm += double(want[i]) * want[i];
      worst = std::max(worst, e / (bound[i] + 1e-30));
      if (e > bound[i] && violations++ == 0)
        first = "token " + std::to_string(i / rows) + " row " + std::to_string(i % rows) + ": " +
                std::to_string(out[i]) + " vs " + std::to_string(want[i]) + " (bound " + std::to_string(bound[i]) + ")";
    }
  }
  void check() const {
    CHECK_MESSAGE(violations == 0, first);
    CHECK(error / norm < 1e-6);
    MESSAGE("nmse " << error / norm << ", worst |error| / bound " << worst);
  }
};

// A split-K few-token product (`launch(workspace)`) over `rows` rows, with a
// fresh workspace of `workspace_size`, run twice: the second run must repeat
// the first bit for bit (the split sums are added in split order, and the
// first run left every tile counter at zero).
template <class Launch>
void run_twice(kernels::SplitWorkspace workspace, std::vector<kt::DeviceArray<float>>& outputs, Launch&& launch) {
  kt::DeviceArray<float> partials(workspace.partial_floats);
  kt::DeviceArray<unsigned> arrivals(workspace.arrival_count);
  kt::cuda_ok(cudaMemset(arrivals.get(), 0, workspace.arrival_count * sizeof(unsigned)), "zero the tile counters");
  workspace.partials = partials.get();
  workspace.arrivals = arrivals.get();
  launch(workspace);
  kt::cuda_ok(cudaDeviceSynchronize(), "the few-token product");
  std::vector<std::vector<float>> first;
  for (auto& out : outputs) {
    first.push_back(out.download());
    out.poison();
  }
  launch(workspace);
  kt::cuda_ok(cudaDeviceSynchronize(), "the few-token product, again");
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const std::vector<float> again = outputs[i].download();
    CHECK_MESSAGE(std::memcmp(again.data(), first[i].data(), again.size() * sizeof(float)) == 0,
                  "matrix " << i << ": a second launch gives other bits");
  }
  CHECK(arrivals.download() == std::vector<unsigned>(workspace.arrival_count, 0u));
}

// `row_counts` matrices in one launch (q, k and v style), with a residual on
// the second; each output against the oracle. `launch(targets, x, outputs)`
// runs the product under test on them and X (f16 on the device).
template <class F, class Launch>
void check_products(std::span<const std::size_t> row_counts, std::size_t cols, std::size_t tokens, Launch&& launch) {
  CAPTURE(cols);
  CAPTURE(tokens);
  std::mt19937 rng(static_cast<std::uint32_t>(cols * 31 + tokens));
  std::vector<float> x = kt::random_normal(tokens * cols, rng);
  for (float& v : x) v = prefill_test::round_f16(v);
  const kt::DeviceArray<std::uint16_t> x16{std::span<const std::uint16_t>(halves_of(x))};

  std::vector<Matrix<F>> matrices;
  matrices.reserve(row_counts.size());
  for (std::size_t i = 0; i < row_counts.size(); ++i) matrices.emplace_back(row_counts[i], cols, cols + 97 * i + tokens);
  std::vector<kt::DeviceArray<float>> outputs;
  std::vector<std::vector<float>> residuals;
  std::vector<kt::DeviceArray<float>> device_residuals;
  std::vector<kernels::MatmulTarget> targets;
  for (std::size_t i = 0; i < matrices.size(); ++i) {
    outputs.emplace_back(tokens * matrices[i].rows);
    outputs.back().poison();
    residuals.push_back(i == 1 ? kt::random_normal(tokens * matrices[i].rows, rng) : std::vector<float>{});
    device_residuals.emplace_back(std::span<const float>(residuals.back()));
  }
  for (std::size_t i = 0; i < matrices.size(); ++i)
    targets.push_back({matrices[i].device.get(), matrices[i].rows, outputs[i].get(),
                       residuals[i].empty() ? nullptr : device_residuals[i].get()});
  launch(std::span<const kernels::MatmulTarget>(targets), as_half(x16), outputs);
  kt::cuda_ok(cudaDeviceSynchronize(), "the product under test");

  Comparison comparison;
  for (std::size_t i = 0; i < matrices.size(); ++i) {
    CAPTURE(i);
    std::vector<float> want;
    std::vector<double> bound;
    oracle(matrices[i], cols, x, tokens, want, bound);
    kt::require_nonzero(want);
    for (std::size_t e = 0; e < residuals[i].size(); ++e) {
      want[e] += residuals[i][e];
      bound[e] += 0x1p-23 * (std::fabs(want[e]) + std::fabs(residuals[i][e]));
    }
    comparison.add(outputs[i].download(), want, bound, matrices[i].rows);
  }
  comparison.check();
}

using StreamFormats = quant::testing::as_tuple<quant::field_stream_formats>::type;

// A K width every format takes: whole stages, and (Q6_K) an even number of super-blocks.
template <class F>
constexpr std::size_t width(std::size_t stages) {
  std::size_t cols = 64 * stages;
  while (!kernels::matmul_mma_takes<F>(cols)) cols += 64;
  return cols;
}

}  // namespace pagoda::matmul_oracle
