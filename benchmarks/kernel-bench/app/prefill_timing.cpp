#include <algorithm>
#include <cstdio>
#include <random>
#include <span>
#include <string>

#include <fmt/format.h>

#include "graph_timer.hpp"
#include "kernel_timing.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/kernels/matmul_few_streams.cuh"
#include "pagoda/kernels/matmul_mma_streams.cuh"
#include "pagoda/kernels/matmul_q_streams.cuh"
#include "pagoda/kernels/matmul_wgmma_streams.cuh"
#include "pagoda/kernels/to_half.cuh"
#include "pagoda/kernels/tuning/matmul_mma.hpp"
#include "pagoda/quant/field_streams.hpp"
#include "pagoda_bench/random_fill.hpp"

namespace pagoda::kernel_bench {

namespace {

// Copies start 256-byte aligned (matmul_mma_streams needs 16).
constexpr std::uint64_t copy_alignment = 256;

std::uint64_t padded(std::uint64_t bytes) { return (bytes + copy_alignment - 1) / copy_alignment * copy_alignment; }

// The plan restates kernels::matmul_mma_takes on the host (mma_refusal); the
// kernel's own rule decides, so a disagreement stops the run before any timing.
void check_plan_against_kernel(const std::vector<PrefillCase>& cases) {
  for (const PrefillCase& c : cases) {
    bool takes = false;
    quant::visit_field_stream_format(c.format, [&](auto tag) {
      takes = kernels::matmul_mma_takes<typename decltype(tag)::type>(c.projection.cols);
    });
    if (takes != c.skipped.empty())
      fail("prefill plan: mma_refusal says '{}' for {} with {} columns, kernels::matmul_mma_takes says {}", c.skipped,
           gguf::name_of(c.format), c.projection.cols, takes ? "it takes them" : "it does not");
  }
}

// A split-K workspace of `size` on the device, its tile counters zeroed.
class SplitBuffers {
 public:
  explicit SplitBuffers(kernels::SplitWorkspace size)
      : partials_(size.partial_floats * sizeof(float), "split-K partials"),
        arrivals_(size.arrival_count * sizeof(unsigned), "split-K counters"),
        workspace_(size) {
    check_cuda(cudaMemset(arrivals_.data(), 0, arrivals_.size()), "cudaMemset", "split-K counters");
    check_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize", "split-K counters");
    workspace_.partials = reinterpret_cast<float*>(partials_.data());
    workspace_.arrivals = reinterpret_cast<unsigned*>(arrivals_.data());
  }
  [[nodiscard]] const kernels::SplitWorkspace& workspace() const { return workspace_; }

 private:
  DeviceBuffer partials_, arrivals_;
  kernels::SplitWorkspace workspace_;
};

// One "few-token" line on stderr: `kernel` at `splits` (0: its own choice), in GB/s of weights.
void report_few(const PrefillCase& c, const std::string& kernel, int splits, double us) {
  const std::string label = splits == 0 ? std::string("its own splits") : fmt::format("{} splits", splits);
  std::fprintf(stderr, "pagoda-kernel-bench: few-token %s %s %s M=%zu, %s, %s: %.2f us (%.0f GB/s of weights)\n",
               c.shape.c_str(), c.projection.name.c_str(), std::string(gguf::name_of(c.format)).c_str(),
               static_cast<std::size_t>(c.tokens), kernel.c_str(), label.c_str(), us, static_cast<double>(c.weight_bytes) / us / 1e3);
}

// The batched decode step's product at this case's few tokens, on
// matmul_few_streams (the engine's, under each of its shapes) and on
// matmul_mma_few (the baseline), the split count forced over a range and each
// kernel's own choice: stderr only, in GB/s of weights (the bound they are
// meant to meet), the evidence their split policies wait for.
template <class F, class Time>
void time_few(const PrefillCase& c, const Time& time, const __half* xh, float* ys, const kernels::DeviceInfo& device) {
  const std::size_t rows = c.projection.rows, cols = c.projection.cols, tokens = c.tokens;
  constexpr int most_splits = 32;
  constexpr int split_counts[] = {0, 1, 2, 4, 8, 16, most_splits};
  const int k_stages = static_cast<int>(cols / 64);
  const SplitBuffers mma(kernels::matmul_mma_few_workspace_size(rows, device, most_splits));
  for (const int splits : split_counts) {
    if (splits > k_stages) continue;
    report_few(c, "matmul_mma_few", splits, time([&](const std::byte* w, cudaStream_t s) {
      const kernels::MatmulTarget target{w, rows, ys, nullptr};
      kernels::matmul_mma_few<F>(std::span(&target, 1), cols, xh, tokens, mma.workspace(), device, s, splits);
    }));
  }
  const SplitBuffers streams(kernels::matmul_few_streams_workspace_size(rows, device, most_splits));
  const int groups = static_cast<int>((cols + kernels::few_streams_group_columns - 1) / kernels::few_streams_group_columns);
  for (const kernels::FewStreamsShape& shape : kernels::few_streams_shapes) {
    const std::string kernel =
        fmt::format("matmul_few_streams {}x{} depth {}{}{}", shape.warps, shape.fragments, shape.depth,
                    shape.staging == kernels::FewStreamsStaging::rows ? " X by rows" : "",
                    shape == kernels::few_streams_shape_for<F>() ? " (the engine's)" : "");
    for (const int splits : split_counts) {
      if (splits > groups) continue;
      report_few(c, kernel, splits, time([&](const std::byte* w, cudaStream_t s) {
        const kernels::MatmulTarget target{w, rows, ys, nullptr};
        kernels::matmul_few_streams_with<F>(shape, std::span(&target, 1), cols, xh, tokens, streams.workspace(),
                                            device, s, splits);
      }));
    }
  }
}

}  // namespace

void time_prefill(std::vector<PrefillCase>& cases, const TimingPlan& plan, const kernels::DeviceInfo& device,
                  cudaStream_t stream) {
  check_plan_against_kernel(cases);
  std::uint64_t pool_bytes = 0, x_elements = 0, y_elements = 0;
  for (PrefillCase& c : cases) {
    if (!c.skipped.empty()) continue;
    c.copies = copies_for(padded(c.weight_bytes), plan.footprint_bytes, plan.max_copies);
    pool_bytes = std::max(pool_bytes, static_cast<std::uint64_t>(c.copies) * padded(c.weight_bytes));
    x_elements = std::max(x_elements, std::uint64_t{c.tokens} * c.projection.cols);
    y_elements = std::max(y_elements, std::uint64_t{c.tokens} * c.projection.rows);
  }
  if (pool_bytes == 0) return;
  // One pool of random weight bytes for every case (f16 scales among them may
  // be NaN or inf: the time does not depend on the values); X in [-1, 1), as
  // f32 for matmul_q_streams and rounded to f16 for matmul_mma_streams.
  DeviceBuffer pool(pool_bytes, "prefill weight copies");
  bench::fill_pseudo_random(pool.data(), pool_bytes, 13, stream);
  std::vector<float> host_x(x_elements);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& v : host_x) v = uniform(rng);
  DeviceBuffer x32(x_elements * sizeof(float), "prefill x (f32)"), x16(x_elements * sizeof(__half), "prefill x (f16)");
  DeviceBuffer y(y_elements * sizeof(float), "prefill y");
  check_cuda(cudaMemcpyAsync(x32.data(), host_x.data(), x32.size(), cudaMemcpyHostToDevice, stream),
             "cudaMemcpyAsync", "prefill x");
  const auto* xs = reinterpret_cast<const float*>(x32.data());
  const auto* xh = reinterpret_cast<const __half*>(x16.data());
  kernels::to_half(xs, reinterpret_cast<__half*>(x16.data()), x_elements, stream);
  check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "prefill inputs");
  auto* ys = reinterpret_cast<float*>(y.data());
  const int multiprocessors = device.multiprocessors();
  // The engine's tensor-core GEMM here: wgmma where it runs, else mma.sync (both timed where both run).
  const bool wgmma = device.wgmma();

  for (PrefillCase& c : cases) {
    if (!c.skipped.empty()) continue;
    const std::uint64_t stride = padded(c.weight_bytes);
    const std::size_t rows = c.projection.rows, cols = c.projection.cols, tokens = c.tokens;
    const auto tflops = [&](double us) { return prefill_tflops(tokens, rows, cols, us); };
    const std::string format(gguf::name_of(c.format));
    const auto time = [&](auto launch) {
      const auto enqueue = [&](cudaStream_t s, int i) {
        launch(pool.data() + static_cast<std::uint64_t>(i) * stride, s);
      };
      enqueue(stream, 0);  // outside the capture: the launcher's one-time attribute set-up and device query
      return median_microseconds_per_launch(stream, c.copies, plan.samples, enqueue);
    };
    quant::visit_field_stream_format(c.format, [&](auto tag) {
      using F = typename decltype(tag)::type;
      const auto mma = [&](const kernels::MmaPolicy* forced) {
        return time([&, forced](const std::byte* w, cudaStream_t s) {
          const kernels::MatmulTarget target{w, rows, ys, nullptr};
          kernels::matmul_mma_streams<F>(std::span(&target, 1), cols, xh, tokens, device, s, forced);
        });
      };
      // Each tile policy on stderr and in the JSON (the evidence
      // select_mma_policy waits for); the table has the one it selects.
      for (const kernels::MmaPolicy& policy : kernels::mma_policies) {
        const MmaPolicyTime forced{mma_policy_label(policy), mma(&policy)};
        std::fprintf(stderr, "pagoda-kernel-bench: prefill %s %s %s M=%zu, %s forced: %.2f us (%.1f TFLOP/s)\n",
                     c.shape.c_str(), c.projection.name.c_str(), format.c_str(), tokens, forced.policy.c_str(),
                     forced.microseconds, tflops(forced.microseconds));
        c.mma_forced.push_back(forced);
      }
      c.mma_microseconds = mma(nullptr);
      c.mma_policy = mma_policy_label(kernels::select_mma_policy(tokens, rows, multiprocessors));
      if (wgmma) {
        const auto wg = [&](const kernels::WgmmaPolicy* forced) {
          return time([&, forced](const std::byte* w, cudaStream_t s) {
            const kernels::MatmulTarget target{w, rows, ys, nullptr};
            kernels::matmul_wgmma_streams<F>(std::span(&target, 1), cols, xh, tokens, device, s, forced);
          });
        };
        for (const kernels::WgmmaPolicy& policy : kernels::wgmma_policies) {
          const MmaPolicyTime forced{wgmma_policy_label(policy), wg(&policy)};
          std::fprintf(stderr, "pagoda-kernel-bench: prefill %s %s %s M=%zu, %s forced: %.2f us (%.1f TFLOP/s)\n",
                       c.shape.c_str(), c.projection.name.c_str(), format.c_str(), tokens, forced.policy.c_str(),
                       forced.microseconds, tflops(forced.microseconds));
          c.mma_forced.push_back(forced);
        }
        std::fprintf(stderr, "pagoda-kernel-bench: prefill %s %s %s M=%zu: mma.sync (its selector) %.2f us (%.1f TFLOP/s)\n",
                     c.shape.c_str(), c.projection.name.c_str(), format.c_str(), tokens, c.mma_microseconds,
                     tflops(c.mma_microseconds));
        c.mma_microseconds = wg(nullptr);
        c.mma_policy = wgmma_policy_label(kernels::select_wgmma_policy(tokens, rows, multiprocessors));
      }
      c.matmul_q_microseconds = time([&](const std::byte* w, cudaStream_t s) {
        kernels::matmul_q_streams<F>(w, rows, cols, xs, tokens, ys, nullptr, device, s);
      });
      if (tokens <= kernels::matmul_mma_few_max_tokens) time_few<F>(c, time, xh, ys, device);
    });
    std::fprintf(stderr,
                 "pagoda-kernel-bench: prefill %s %s %s M=%zu: tensor cores %.2f us (%.1f TFLOP/s, %s), "
                 "matmul_q_streams %.2f us (%.1f TFLOP/s) (%d copies)\n",
                 c.shape.c_str(), c.projection.name.c_str(), format.c_str(), tokens, c.mma_microseconds,
                 tflops(c.mma_microseconds), c.mma_policy.c_str(), c.matmul_q_microseconds,
                 tflops(c.matmul_q_microseconds), c.copies);
  }
}

}  // namespace pagoda::kernel_bench
