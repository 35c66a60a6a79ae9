// What pagoda-kernel-bench times, as plain values: the GEMVs of one decode
// step of each named model shape (rows = outputs, cols = inputs), in each
// format, attention decode at several KV depths, the prefill matmuls of the
// same projections at several token counts, prefill attention at several
// prompt lengths, and the sampler under each block_top_k policy; with the
// results the CUDA app fills in. Host-only, so the plan and the arithmetic are
// tested on the CPU (tests/bench).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pagoda/gguf/tensor_type.hpp"
#include "pagoda/kernels/tuning/matmul_mma.hpp"
#include "pagoda/kernels/tuning/matmul_wgmma.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/quant/layout.hpp"
#include "pagoda/runtime/sampling_params.hpp"
#include "pagoda_bench/link_measurement.hpp"

namespace pagoda::kernel_bench {

// One weight matrix of a decode step: y (rows) = W (rows, cols) x (cols).
struct Projection {
  std::string name;  // attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down, output
  std::uint64_t rows = 0;
  std::uint64_t cols = 0;
};

// The eight projections of a llama-style shape, in forward order.
[[nodiscard]] std::vector<Projection> projections_of(const model::SyntheticShape& shape);

struct GemvCase {
  std::string shape;
  Projection projection;
  gguf::TensorType format{};
  quant::WeightLayout layout = quant::WeightLayout::gguf_blocks;  // field streams: gemv_streams
  std::uint64_t weight_bytes = 0;  // rows * cols / block_elements * block_bytes
  std::string skipped;             // non-empty: why it cannot run (cols not whole blocks)
  // Filled by the app:
  double microseconds = 0;         // median per GEMV
  int copies = 0;                  // weight copies a timed replay walks through
};

// Every (shape, projection, format), and the format's field-streams layout
// beside its GGUF one where it has it; cases whose cols are not whole blocks
// of the format are kept, marked skipped with the reason.
[[nodiscard]] std::vector<GemvCase> plan_gemv(const std::vector<std::string>& shapes,
                                              const std::vector<gguf::TensorType>& formats);

struct AttentionCase {
  std::string shape;
  std::uint32_t n_heads = 0;
  std::uint32_t n_kv_heads = 0;
  std::uint32_t head_dim = 0;
  std::uint32_t depth = 0;        // positions attended (the cache's live length)
  std::uint64_t kv_bytes = 0;     // f16 K and V of those positions: 4 * depth * kv_dim
  std::uint32_t target_blocks = 0;  // the grid aimed at; 0: the policy's
  bool direct = false;              // attention_decode_direct (one launch, a block per query head)
  // Filled by the app:
  double microseconds = 0;
  int copies = 0;
};

// A case per depth and grid target (none given: the policy's alone), and,
// with `direct`, one more per depth for attention_decode_direct.
[[nodiscard]] std::vector<AttentionCase> plan_attention(const std::string& shape,
                                                        const std::vector<std::uint32_t>& depths,
                                                        const std::vector<std::uint32_t>& target_blocks = {},
                                                        bool direct = false);

// Weight copies a timed replay rotates through: enough that together they
// are at least `footprint_bytes` (a few times L2, so no repeat is served from
// it), at least 2, at most `max_copies`.
[[nodiscard]] int copies_for(std::uint64_t bytes, std::uint64_t footprint_bytes, int max_copies);

// GB/s (1e9 B/s) of moving `bytes` in `microseconds`, and as a share of a measured read.
[[nodiscard]] double gb_per_second(std::uint64_t bytes, double microseconds);
[[nodiscard]] double percent_of(double gb_s, const std::optional<bench::LinkMeasurement>& device_read);

// matmul_mma_streams under one forced tile policy.
struct MmaPolicyTime {
  std::string policy;  // mma_policy_label
  double microseconds = 0;
};

// One prefill product Y (tokens, rows) = X (tokens, cols) W^T over a matrix in
// the field-streams layout, timed with the tensor-core kernel
// (kernels::matmul_mma_streams, f16 X) and the one before it
// (kernels::matmul_q_streams, f32 X) on the same weights.
struct PrefillCase {
  std::string shape;
  Projection projection;
  gguf::TensorType format{};
  std::uint32_t tokens = 0;        // M
  std::uint64_t weight_bytes = 0;  // rows * cols / block_elements * block_bytes (either layout)
  std::string skipped;             // non-empty: why matmul_mma_streams cannot take the matrix
  // Filled by the app:
  double mma_microseconds = 0;             // the engine's tensor-core GEMM (wgmma where it runs, else
                                           // matmul_mma_streams), the tile policy it selects
  std::string mma_policy;                  // which GEMM and tile that was (mma_policy_label, wgmma_policy_label)
  std::vector<MmaPolicyTime> mma_forced;   // each of kernels::mma_policies (and wgmma_policies), forced
  double matmul_q_microseconds = 0;        // matmul_q_streams
  int copies = 0;                          // weight copies a timed replay walks through
};

// Every (shape, projection but the output one, format with a field-streams
// layout, tokens): prefill computes the vocabulary's logits for one token
// only, and the formats without the layout have no streams kernel. Cases
// matmul_mma_streams cannot take are kept, marked skipped with the reason.
[[nodiscard]] std::vector<PrefillCase> plan_prefill(const std::vector<std::string>& shapes,
                                                    const std::vector<gguf::TensorType>& formats,
                                                    const std::vector<std::uint32_t>& tokens);

// Why kernels::matmul_mma_streams refuses a (format, cols) matrix, or "" when
// it takes it: the rule of kernels::matmul_mma_takes (matmul_mma_streams.cuh,
// which host-only code cannot include), restated from quant::FieldStreams;
// the app checks the two agree on every case before it times any.
[[nodiscard]] std::string mma_refusal(gguf::TensorType format, std::uint64_t cols);

// "mma.sync 128x128 tile, 2x4 warps", "wgmma 128x128 tile, 2 warpgroups": a tile policy as the report names it.
[[nodiscard]] std::string mma_policy_label(const kernels::MmaPolicy& policy);
[[nodiscard]] std::string wgmma_policy_label(const kernels::WgmmaPolicy& policy);

// TFLOP/s (1e12 FLOP/s) of one product: 2 * tokens * rows * cols FLOPs in
// `microseconds`; and as a share of a tensor-core peak (0 when none is given).
[[nodiscard]] double prefill_tflops(std::uint64_t tokens, std::uint64_t rows, std::uint64_t cols,
                                    double microseconds);
[[nodiscard]] double percent_of_peak(double tflops, double peak_tflops);

// kernels::attention_prefill over a prompt of `tokens` tokens from position 0
// (start 0, a cache of exactly `tokens` rows, no window): q (tokens, n_heads *
// head_dim) f32, K and V (tokens, n_kv_heads * head_dim) f16, out as q.
struct PrefillAttentionCase {
  std::string shape;
  std::uint32_t n_heads = 0;
  std::uint32_t n_kv_heads = 0;
  std::uint32_t head_dim = 0;
  std::uint32_t tokens = 0;
  std::uint64_t input_bytes = 0;  // q, K and V of one copy: tokens * (4 * q_dim + 2 * 2 * kv_dim)
  // Filled by the app:
  std::string kernel;             // which kernel the launcher takes for head_dim (tensor cores or f32)
  double microseconds = 0;
  int copies = 0;
};

[[nodiscard]] std::vector<PrefillAttentionCase> plan_prefill_attention(const std::string& shape,
                                                                       const std::vector<std::uint32_t>& tokens);

// FLOPs of causal attention over `tokens` tokens from position 0: QK^T and PV,
// 2 * 2 * n_heads * head_dim per (query, key) pair, sum_{t=1..tokens} t pairs.
[[nodiscard]] double prefill_attention_flops(std::uint32_t n_heads, std::uint32_t head_dim, std::uint64_t tokens);
// TFLOP/s of `flops` in `microseconds` (0 for no time).
[[nodiscard]] double tflops_of(double flops, double microseconds);

// kernels::SamplingPolicy as plain values (sampling.cuh is for CUDA builds
// only): block shapes of the prefilter rounds and of the final block.
struct SamplerPolicy {
  int prefilter_threads = 0;
  int prefilter_items = 0;
  int final_threads = 0;
  int final_items = 0;
  int max_prefilter_k = 0;
  [[nodiscard]] constexpr int final_capacity() const { return final_threads * final_items; }
  friend constexpr bool operator==(const SamplerPolicy&, const SamplerPolicy&) = default;
};

// "prefilter 256x4 / final 256x4" (no comma: it is a CSV cell as it is).
[[nodiscard]] std::string sampler_policy_label(const SamplerPolicy& policy);

// Named sampling parameters the sampling section times (tests/gpu/sampling_test.cpp's names).
struct NamedSamplingParams {
  std::string name;
  runtime::SamplingParams params;
};
// defaults, greedy, defaults+penalties, top_k=0 top_p=0.9 (device_sort at a
// large vocabulary), top_k=256 top_p=0.98 (the largest block_top_k top_k).
[[nodiscard]] const std::vector<NamedSamplingParams>& sampling_parameter_sets();
// The three of them that take block_top_k, where the policy matters.
inline constexpr const char* block_top_k_parameter_sets[] = {"defaults", "defaults+penalties", "top_k=256 top_p=0.98"};

// One kernels::Sampler::sample() over `vocab` logits, as a decode step runs it.
struct SamplingCase {
  std::string parameters;          // a name of sampling_parameter_sets()
  runtime::SamplingParams params;
  SamplerPolicy policy;
  bool default_policy = false;     // policy is kernels::sampling_policy
  std::uint64_t vocab = 0;
  // Filled by the app:
  std::string path;                // greedy, block_top_k or device_sort (Sampler::path)
  double stream_microseconds = 0;  // one sample() launched on a stream, between two events
  double graph_microseconds = 0;   // one replay of a CUDA graph holding one sample()
};

// policies.front() is the default one: every parameter set under it at
// `vocab`; then under every policy (the default included) the block_top_k
// sets at `vocab` not planned yet, and "defaults" at the policy's final-block
// capacity (the final block alone). Throws pagoda::Error for no policy.
[[nodiscard]] std::vector<SamplingCase> plan_sampling(std::uint64_t vocab, const std::vector<SamplerPolicy>& policies);

struct KernelReport {
  std::string device_name;
  int compute_major = 0;
  int compute_minor = 0;
  std::uint64_t l2_bytes = 0;
  std::uint64_t footprint_bytes = 0;  // what the copies of each case add up to, at least
  std::uint64_t prefill_footprint_bytes = 0;  // the same for the prefill matmul and attention cases
  double tc_peak_tflops = 0;          // --tc-peak-tflops; 0: not given, no percentages
  std::optional<bench::LinkMeasurement> device_read;
  int samples = 0;
  std::vector<GemvCase> gemv;
  std::vector<AttentionCase> attention;
  std::vector<PrefillCase> prefill;
  std::vector<PrefillAttentionCase> prefill_attention;
  std::vector<SamplingCase> sampling;
};

}  // namespace pagoda::kernel_bench
