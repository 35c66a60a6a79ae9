#include <cmath>
#include <cstdio>
#include <random>

#include "graph_timer.hpp"
#include "kernel_timing.hpp"
#include "pagoda/kernels/attention_decode.cuh"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda_bench/random_fill.hpp"

namespace pagoda::kernel_bench {

void time_attention(std::vector<AttentionCase>& cases, const TimingPlan& plan, const kernels::DeviceInfo& device,
                    cudaStream_t stream) {
  for (AttentionCase& c : cases) {
    const kernels::AttentionShape shape{c.n_heads, c.n_kv_heads, c.head_dim, c.depth,
                                        1.0f / std::sqrt(static_cast<float>(c.head_dim))};
    // Each copy: one layer's K and V cache of exactly `depth` positions, all live.
    const std::uint64_t elements = std::uint64_t{c.depth} * c.n_kv_heads * c.head_dim;
    c.copies = copies_for(c.kv_bytes, plan.footprint_bytes, plan.max_copies);
    const std::uint64_t pool_elements = elements * static_cast<std::uint64_t>(c.copies);
    pagoda::DeviceBuffer keys(pool_elements * sizeof(__half), "attention K copies");
    pagoda::DeviceBuffer values(pool_elements * sizeof(__half), "attention V copies");
    auto* k = reinterpret_cast<__half*>(keys.data());
    auto* v = reinterpret_cast<__half*>(values.data());
    bench::fill_uniform_half(k, pool_elements, 21, stream);
    bench::fill_uniform_half(v, pool_elements, 22, stream);

    const std::size_t q_count = std::size_t{c.n_heads} * c.head_dim;
    std::vector<float> host_q(q_count);
    std::mt19937 rng(c.depth);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& x : host_q) x = uniform(rng);
    pagoda::DeviceBuffer q(q_count * sizeof(float), "attention q"), out(q_count * sizeof(float), "attention out");
    pagoda::DeviceBuffer workspace(kernels::attention_decode_workspace_bytes(shape, device, 1, c.target_blocks),
                                   "attention workspace");
    pagoda::DeviceBuffer position(sizeof(std::int32_t), "attention position");
    const std::int32_t last = static_cast<std::int32_t>(c.depth) - 1;
    pagoda::check_cuda(cudaMemcpyAsync(q.data(), host_q.data(), q.size(), cudaMemcpyHostToDevice, stream),
                        "cudaMemcpyAsync", "attention q");
    pagoda::check_cuda(cudaMemcpyAsync(position.data(), &last, sizeof(last), cudaMemcpyHostToDevice, stream),
                        "cudaMemcpyAsync", "attention position");
    pagoda::check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "attention inputs");

    const auto enqueue = [&](cudaStream_t s, int i) {
      const std::uint64_t offset = elements * static_cast<std::uint64_t>(i);
      if (c.direct) {
        kernels::attention_decode_direct(reinterpret_cast<const float*>(q.data()), k + offset, v + offset,
                                         reinterpret_cast<float*>(out.data()), shape,
                                         reinterpret_cast<const std::int32_t*>(position.data()), device, s);
        return;
      }
      kernels::attention_decode(reinterpret_cast<const float*>(q.data()), k + offset, v + offset,
                                reinterpret_cast<float*>(out.data()), shape,
                                reinterpret_cast<const std::int32_t*>(position.data()), workspace.data(), device, s,
                                c.target_blocks);
    };
    enqueue(stream, 0);  // outside the capture: module load and any one-time set-up
    c.microseconds = median_microseconds_per_launch(stream, c.copies, plan.samples, enqueue);
    std::fprintf(stderr, "pagoda-kernel-bench: attention decode %s @ %u, %s: %.2f us (%d copies)\n",
                 c.shape.c_str(), c.depth,
                 c.direct                 ? "one launch"
                 : c.target_blocks == 0 ? "blocks aimed: policy"
                                        : ("blocks aimed: " + std::to_string(c.target_blocks)).c_str(),
                 c.microseconds, c.copies);
  }
}

}  // namespace pagoda::kernel_bench
