// The kernel families pagoda-kernel-bench times. Each fills the device
// inputs with non-zero random data, rotates among copies of them (copies_for)
// and fills in the cases' microseconds and copies; progress on stderr. The
// sampler reads logits a decode step has just written (in L2): no copies.
#pragma once

#include <cstdint>
#include <vector>

#include <cuda_runtime_api.h>

#include "kernel_bench/cases.hpp"
#include "pagoda/kernels/device_info.hpp"

namespace pagoda::kernel_bench {

struct TimingPlan {
  std::uint64_t footprint_bytes = 0;  // the copies of one case add up to at least this
  int max_copies = 2048;              // launches per graph, at most
  std::uint32_t samples = 50;
};

// The launchers run on `device` (made once, in main), as the engine's do.

// kernels::gemv_q<F> over each case's (rows, cols), skipped cases left alone.
void time_gemv(std::vector<GemvCase>& cases, const TimingPlan& plan, const kernels::DeviceInfo& device,
               cudaStream_t stream);

// kernels::attention_decode with the cache's live length = depth.
void time_attention(std::vector<AttentionCase>& cases, const TimingPlan& plan, const kernels::DeviceInfo& device,
                    cudaStream_t stream);

// kernels::matmul_mma_streams<F> (under each tile policy forced, then its own
// choice) and kernels::matmul_q_streams<F> over each case's (tokens, rows,
// cols) on the same weight copies, skipped cases left alone. Throws when the
// plan's skips disagree with kernels::matmul_mma_takes.
void time_prefill(std::vector<PrefillCase>& cases, const TimingPlan& plan, const kernels::DeviceInfo& device,
                  cudaStream_t stream);

// kernels::attention_prefill over each case's prompt from position 0, q, K
// and V in [-1, 1), fills in which kernel the launcher takes for the head size.
void time_prefill_attention(std::vector<PrefillAttentionCase>& cases, const TimingPlan& plan,
                            const kernels::DeviceInfo& device, cudaStream_t stream);

// kernels::sampling_policy, then every other pairing of the block shapes
// sampling.cuh instantiates that the Sampler accepts (same max_prefilter_k).
[[nodiscard]] std::vector<SamplerPolicy> sampling_policies();

// kernels::Sampler::sample() per case on fixed distinct logits, after reset()
// to 64 recent ids: `samples` calls on the stream and `samples` replays of a
// graph holding one call, medians of each; fills in the path it took.
void time_sampling(std::vector<SamplingCase>& cases, std::uint32_t samples, cudaStream_t stream);

}  // namespace pagoda::kernel_bench
