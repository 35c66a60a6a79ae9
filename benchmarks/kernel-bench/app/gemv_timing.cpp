#include <algorithm>
#include <cstdio>
#include <random>

#include "graph_timer.hpp"
#include "kernel_timing.hpp"
#include "pagoda/kernels/gemv_q.cuh"
#include "pagoda/kernels/gemv_streams.cuh"
#include "pagoda/quant/field_streams.hpp"
#include "pagoda/quant/format_list.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda_bench/random_fill.hpp"

namespace pagoda::kernel_bench {

namespace {

// Copies start 256-byte aligned, as a GGUF tensor at the default alignment or better.
constexpr std::uint64_t copy_alignment = 256;

std::uint64_t padded(std::uint64_t bytes) { return (bytes + copy_alignment - 1) / copy_alignment * copy_alignment; }

}  // namespace

void time_gemv(std::vector<GemvCase>& cases, const TimingPlan& plan, const kernels::DeviceInfo& device,
               cudaStream_t stream) {
  std::uint64_t pool_bytes = 0, max_rows = 0, max_cols = 0;
  for (GemvCase& c : cases) {
    if (!c.skipped.empty()) continue;
    c.copies = copies_for(padded(c.weight_bytes), plan.footprint_bytes, plan.max_copies);
    pool_bytes = std::max(pool_bytes, static_cast<std::uint64_t>(c.copies) * padded(c.weight_bytes));
    max_rows = std::max(max_rows, c.projection.rows);
    max_cols = std::max(max_cols, c.projection.cols);
  }
  if (pool_bytes == 0) return;
  // One pool for every case, filled once: each case's copies are its first slices.
  pagoda::DeviceBuffer pool(pool_bytes, "gemv weight copies");
  bench::fill_pseudo_random(pool.data(), pool_bytes, 11, stream);
  std::vector<float> host_x(max_cols);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& v : host_x) v = uniform(rng);
  pagoda::DeviceBuffer x(max_cols * sizeof(float), "gemv x"), y(max_rows * sizeof(float), "gemv y");
  pagoda::check_cuda(cudaMemcpyAsync(x.data(), host_x.data(), x.size(), cudaMemcpyHostToDevice, stream),
                      "cudaMemcpyAsync", "gemv x");
  const auto* xs = reinterpret_cast<const float*>(x.data());
  auto* ys = reinterpret_cast<float*>(y.data());

  for (GemvCase& c : cases) {
    if (!c.skipped.empty()) continue;
    const std::uint64_t stride = padded(c.weight_bytes);
    const auto rows = c.projection.rows, cols = c.projection.cols;
    const auto time_with = [&](auto launch) {
      const auto enqueue = [&](cudaStream_t s, int i) {
        launch(pool.data() + static_cast<std::uint64_t>(i) * stride, rows, cols, xs, ys, nullptr, device, s);
      };
      enqueue(stream, 0);  // outside the capture: the launcher's one-time shared-memory opt-in
      c.microseconds = median_microseconds_per_launch(stream, c.copies, plan.samples, enqueue);
    };
    if (c.layout == quant::WeightLayout::field_streams)
      quant::visit_field_stream_format(c.format, [&](auto tag) {
        using F = typename decltype(tag)::type;
        // Each launch shape the tuning could pick, on stderr (the evidence
        // behind tuning::select_streams); the table has the one it picks.
        for (const kernels::GemvPolicy policy : kernels::gemv_streams_policies) {
          time_with([policy](const std::byte* w, std::size_t r, std::size_t k, const float* in, float* out,
                             const float* residual, const kernels::DeviceInfo& on, cudaStream_t s) {
            kernels::gemv_streams_with<F>(policy, w, r, k, in, out, residual, on, s);
          });
          std::fprintf(stderr, "pagoda-kernel-bench: gemv %s %s %s field-streams, %d threads x %d rows: %.2f us\n",
                       c.shape.c_str(), c.projection.name.c_str(), std::string(gguf::name_of(c.format)).c_str(),
                       policy.threads, policy.rows_per_block, c.microseconds);
        }
        time_with(&kernels::gemv_streams<F>);
      });
    else
      quant::visit_format(c.format, [&](auto tag) { time_with(&kernels::gemv_q<typename decltype(tag)::type>); });
    std::fprintf(stderr, "pagoda-kernel-bench: gemv %s %s %s %s: %.2f us (%d copies)\n", c.shape.c_str(),
                 c.projection.name.c_str(), std::string(gguf::name_of(c.format)).c_str(),
                 std::string(quant::name_of(c.layout)).c_str(), c.microseconds, c.copies);
  }
}

}  // namespace pagoda::kernel_bench
