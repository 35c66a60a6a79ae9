#include <cmath>
#include <cstdio>

#include "graph_timer.hpp"
#include "kernel_timing.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/kernels/attention_prefill.cuh"
#include "pagoda/kernels/attention_prefill_mma.cuh"
#include "pagoda_bench/random_fill.hpp"

namespace pagoda::kernel_bench {

void time_prefill_attention(std::vector<PrefillAttentionCase>& cases, const TimingPlan& plan,
                            const kernels::DeviceInfo& device, cudaStream_t stream) {
  for (PrefillAttentionCase& c : cases) {
    c.kernel = kernels::attention_prefill_mma_takes(c.head_dim) ? "tensor cores (mma.sync)" : "f32 FMA";
    // Each copy: the prompt's q (tokens, q_dim) f32 and one layer's K and V
    // caches of exactly `tokens` rows, f16, all in [-1, 1); one out for all.
    const std::uint64_t q_elements = std::uint64_t{c.tokens} * c.n_heads * c.head_dim;
    const std::uint64_t kv_elements = std::uint64_t{c.tokens} * c.n_kv_heads * c.head_dim;
    c.copies = copies_for(c.input_bytes, plan.footprint_bytes, plan.max_copies);
    const auto copies = static_cast<std::uint64_t>(c.copies);
    DeviceBuffer queries(copies * q_elements * sizeof(float), "prefill attention q copies");
    DeviceBuffer keys(copies * kv_elements * sizeof(__half), "prefill attention K copies");
    DeviceBuffer values(copies * kv_elements * sizeof(__half), "prefill attention V copies");
    DeviceBuffer out(q_elements * sizeof(float), "prefill attention out");
    auto* q = reinterpret_cast<float*>(queries.data());
    auto* k = reinterpret_cast<__half*>(keys.data());
    auto* v = reinterpret_cast<__half*>(values.data());
    bench::fill_uniform_float(q, copies * q_elements, 31, stream);
    bench::fill_uniform_half(k, copies * kv_elements, 32, stream);
    bench::fill_uniform_half(v, copies * kv_elements, 33, stream);
    check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "prefill attention inputs");

    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    const auto enqueue = [&](cudaStream_t s, int i) {
      const auto copy = static_cast<std::uint64_t>(i);
      kernels::attention_prefill(q + copy * q_elements, k + copy * kv_elements, v + copy * kv_elements,
                                 reinterpret_cast<float*>(out.data()), c.n_heads, c.n_kv_heads, c.head_dim, c.tokens,
                                 scale, 0, c.tokens, device, s);
    };
    enqueue(stream, 0);  // outside the capture: the launcher's one-time attribute set-up
    c.microseconds = median_microseconds_per_launch(stream, c.copies, plan.samples, enqueue);
    std::fprintf(stderr,
                 "pagoda-kernel-bench: prefill attention %s, %u tokens from 0, %s: %.2f us (%.1f TFLOP/s, %d copies)\n",
                 c.shape.c_str(), c.tokens, c.kernel.c_str(), c.microseconds,
                 tflops_of(prefill_attention_flops(c.n_heads, c.head_dim, c.tokens), c.microseconds), c.copies);
  }
}

}  // namespace pagoda::kernel_bench
