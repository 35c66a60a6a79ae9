#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "graph_timer.hpp"
#include "kernel_timing.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/kernels/sampling.cuh"
#include "pagoda_bench/statistics.hpp"
#include "pagoda_bench/timing_event.hpp"

namespace pagoda::kernel_bench {

namespace {

constexpr kernels::SamplingPolicy to_kernel(const SamplerPolicy& p) {
  return {{p.prefilter_threads, p.prefilter_items}, {p.final_threads, p.final_items}, p.max_prefilter_k};
}

constexpr SamplerPolicy from_kernel(const kernels::SamplingPolicy& p) {
  return {p.prefilter.threads, p.prefilter.items, p.final_block.threads, p.final_block.items, p.max_prefilter_k};
}

// `count` distinct logits from N(0, 2), shuffled: no ties for the sorts to meet.
std::vector<float> distinct_logits(std::size_t count) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(count);
  for (float& x : logits) x = normal(rng);
  std::ranges::sort(logits);
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] <= logits[i - 1]) logits[i] = std::nextafter(logits[i - 1], INFINITY);
  std::ranges::shuffle(logits, rng);
  return logits;
}

// 64 recent token ids with repeats (every third one repeats the one before),
// so the penalties see counts above one.
std::vector<std::int32_t> recent_tokens(std::uint64_t vocab) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
  std::vector<std::int32_t> tokens(64);
  for (auto& t : tokens) t = id(rng);
  for (std::size_t i = 1; i < tokens.size(); i += 3) tokens[i] = tokens[i - 1];
  return tokens;
}

// Median µs of `samples` calls of enqueue(), each between two events on
// `stream` (launch latency included), after 10 untimed ones.
template <class Enqueue>
double median_stream_microseconds(cudaStream_t stream, std::uint32_t samples, Enqueue&& enqueue) {
  for (int i = 0; i < 10; ++i) enqueue();
  bench::TimingEvent start, stop;
  std::vector<double> microseconds;
  microseconds.reserve(samples);
  for (std::uint32_t s = 0; s < samples; ++s) {
    start.record(stream);
    enqueue();
    stop.record(stream);
    microseconds.push_back(1000.0 * stop.milliseconds_since(start));
  }
  return bench::summarize(microseconds).median;
}

}  // namespace

std::vector<SamplerPolicy> sampling_policies() {
  std::vector<SamplerPolicy> policies{from_kernel(kernels::sampling_policy)};
  const int k = kernels::sampling_policy.max_prefilter_k;
  for (const kernels::BlockShape& prefilter : kernels::sampling_prefilter_shapes)
    for (const kernels::BlockShape& final_block : kernels::sampling_final_shapes) {
      // The Sampler's own rule (SamplingPolicy::max_prefilter_k): rounds shrink >= 4x, the final block holds top_k.
      if (k > prefilter.capacity() / 4 || k > final_block.capacity()) continue;
      const SamplerPolicy p = from_kernel({prefilter, final_block, k});
      if (std::ranges::find(policies, p) == policies.end()) policies.push_back(p);
    }
  return policies;
}

void time_sampling(std::vector<SamplingCase>& cases, std::uint32_t samples, cudaStream_t stream) {
  std::uint64_t max_vocab = 0;
  for (const SamplingCase& c : cases) max_vocab = std::max(max_vocab, c.vocab);
  if (max_vocab == 0) return;
  // One buffer of logits for every case: a case over n logits reads the first n.
  const std::vector<float> host_logits = distinct_logits(max_vocab);
  DeviceBuffer logits(max_vocab * sizeof(float), "sampling logits"), token(sizeof(std::int32_t), "sampled token");
  check_cuda(cudaMemcpyAsync(logits.data(), host_logits.data(), logits.size(), cudaMemcpyHostToDevice, stream),
             "cudaMemcpyAsync", "sampling logits");
  check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "sampling logits");
  const auto* l = reinterpret_cast<const float*>(logits.data());
  auto* t = reinterpret_cast<std::int32_t*>(token.data());

  for (SamplingCase& c : cases) {
    kernels::Sampler sampler(c.vocab, c.params, stream, to_kernel(c.policy));
    sampler.reset(recent_tokens(c.vocab));
    c.path = kernels::sampling_path_name(sampler.path());
    c.stream_microseconds = median_stream_microseconds(stream, samples, [&] { sampler.sample(l, t, stream); });
    c.graph_microseconds =
        median_microseconds_per_launch(stream, 1, samples, [&](cudaStream_t s, int) { sampler.sample(l, t, s); });
    std::int32_t chosen = -1;
    check_cuda(cudaMemcpyAsync(&chosen, t, sizeof(chosen), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync",
               "sampled token");
    check_cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize", "sampled token");
    if (chosen < 0 || static_cast<std::uint64_t>(chosen) >= c.vocab)
      fail("sampling {} under {}: the sampler chose token {} of a {}-token vocabulary", c.parameters,
           sampler_policy_label(c.policy), chosen, c.vocab);
    std::fprintf(stderr, "pagoda-kernel-bench: sampling %s [%s], %s, vocab %llu: %.2f us (stream), %.2f us (graph)\n",
                 c.parameters.c_str(), c.path.c_str(), sampler_policy_label(c.policy).c_str(),
                 static_cast<unsigned long long>(c.vocab), c.stream_microseconds, c.graph_microseconds);
  }
}

}  // namespace pagoda::kernel_bench
