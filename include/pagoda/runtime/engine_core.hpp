// The forward pass on the GPU for every supported architecture, given a bound
// DeviceModel: the CPU oracle's block, with the architecture's facts and each
// layer's LayerSpec (model/config.hpp) deciding its optional steps; prefill
// in chunks on tensor cores, and a one-token decode step captured once as a
// CUDA graph and replayed. Within a step nothing waits for
// the host; the only synchronisation is reading the sampled token at the end
// (with the sampler's note of a non-finite logit, an error naming the position).
// Several sequences (EngineOptions::sequences, sequence_step.hpp) share the
// weights, each with its own KV cache, sampler and decode graph; step() runs
// their one-token items as one batched forward (engine_core_step.cpp).
// Policy-free: Engine<Policy> (engine.hpp) owns the weights' placement.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pagoda/kernels/sampling.cuh"
#include "pagoda/model/config.hpp"
#include "pagoda/runtime/cuda_graph.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/runtime/device_model.hpp"
#include "pagoda/runtime/kv_cache.hpp"
#include "pagoda/runtime/engine_options.hpp"
#include "pagoda/runtime/persistent_step.hpp"
#include "pagoda/runtime/sampling_params.hpp"
#include "pagoda/runtime/sequence_step.hpp"

namespace pagoda::runtime {

class EngineCore {
public:
  EngineCore(const model::ModelConfig& config, DeviceModel model, const EngineOptions& options);

  // Runs `tokens` after what the cache holds; returns the sampled next token.
  std::int32_t prefill(std::span<const std::int32_t> tokens) { return prefill_sequence(0, tokens); }
  // Runs one token; returns the sampled next token.
  std::int32_t decode(std::int32_t token) { return decode_sequence(0, token); }
  // The logits sequence 0's last token was sampled from (vocab values).
  [[nodiscard]] std::vector<float> logits() const;
  // Teacher forcing: runs `tokens` and returns every token's logits, (n, vocab).
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens);

  [[nodiscard]] std::uint32_t position() const { return sequence_position(0); }
  [[nodiscard]] std::uint32_t context_size() const { return kv_.context(); }
  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  [[nodiscard]] const DeviceModel& model() const { return model_; }
  // Forgets the cache from `keep` on; the sampler's penalty history follows.
  void rewind(std::uint32_t keep = 0) { rewind_sequence(0, keep); }
  void set_sampling(const SamplingParams& params) { set_sequence_sampling(0, params); }
  // How a one-token step runs (EngineOptions::decode) and why: one line for the load report.
  [[nodiscard]] const std::string& decode_path() const { return decode_path_; }
  [[nodiscard]] bool persistent_decode() const { return persistent_.has_value(); }
  [[nodiscard]] unsigned persistent_grid_limit() const { return persistent_ ? persistent_->max_grid() : 0; }
  // The last one-token step's profile (EngineOptions::persistent_profile), one line per op kind.
  [[nodiscard]] std::string decode_profile() const;
  // VRAM the engine allocated beyond the weights: KV cache, activations, norms.
  [[nodiscard]] std::size_t working_vram_bytes() const;

  // Several sequences (sequence_step.hpp).
  [[nodiscard]] std::uint32_t sequences() const { return static_cast<std::uint32_t>(sequences_.size()); }
  void step(std::span<SequenceStep> steps);
  void rewind_sequence(std::uint32_t sequence, std::uint32_t keep);
  void set_sequence_sampling(std::uint32_t sequence, const SamplingParams& params);
  [[nodiscard]] std::uint32_t sequence_position(std::uint32_t sequence) const {
    return sequences_.at(sequence).position;
  }
  // The logits the sequence's last token was sampled from (vocab values), while
  // the engine still holds them: a later prefill, decode or step (or a later
  // item of the same step) that reuses their buffer makes this an error.
  [[nodiscard]] std::vector<float> sequence_logits(std::uint32_t sequence) const;

  // Fewest one-token items of a step that run as one batched forward; fewer
  // run one by one, each through its sequence's decode graph (the GEMVs).
  // H100, pagoda-batch-bench, 8B Q4_0 at depth 128, aggregate t/s batched /
  // one by one: 2 rows 361 / 402, 3 rows 535 / 401, 4 rows 709 / 401.
  static constexpr std::size_t batched_step_min_rows = 3;

private:
  // What a forward over `tokens` rows is: one token of one sequence (the
  // decode GEMVs), a prompt chunk of one sequence (the prefill GEMMs and
  // attention), or one token of each of several sequences (the batched step:
  // matmul_few_streams, attention_decode_batch).
  enum class Pass { decode, prompt, batch };
  struct Sequence {
    kernels::Sampler sampler;
    std::uint32_t position = 0;
    std::vector<std::int32_t> history;  // tokens in the cache, for the sampler's penalties on rewind
    // This sequence's one-token step, captured on its first decode at each
    // kind: [1] with attention in one launch (direct_attention), [0] split and merged.
    std::array<CudaGraph, 2> decode_graphs;
    const float* last_logits = nullptr; // device: what its last token was sampled from, until overwritten
  };
  // (count, vocab) logits at `rewritten` are about to be rewritten: no sequence's last logits any more.
  void forget_logits(const float* rewritten, std::size_t count);

  std::int32_t prefill_sequence(std::uint32_t sequence, std::span<const std::int32_t> tokens);
  std::int32_t decode_sequence(std::uint32_t sequence, std::int32_t token);
  // One forward over the one-token items of a step (at most batch_rows_), and their sampling.
  void step_batch(std::span<SequenceStep* const> items);
  void check_tokens(std::uint32_t sequence, std::span<const std::int32_t> tokens) const;
  // The batched pass's rows beside their positions: where each row's K and V
  // go (sequence * context + position) and which cache it attends to.
  struct BatchRows {  // (no member initialisers: GCC cannot then default the argument below)
    const std::int32_t* kv_rows;
    const std::int32_t* sequences;
  };
  // direct_attention (a decode pass): attention in one launch, for a step
  // that sees few rows (takes_direct_attention below).
  void enqueue_layers(std::size_t tokens, const std::int32_t* positions, std::uint32_t start, Pass pass,
                      std::uint32_t sequence, BatchRows batch_rows = {}, bool direct_attention = false);
  void enqueue_decode_step(cudaStream_t stream, std::uint32_t sequence, bool direct_attention);
  // Whether the graph's one-token step at `position` takes attention in one
  // launch (EngineOptions::direct_attention_rows).
  [[nodiscard]] bool takes_direct_attention(std::uint32_t position) const;
  [[nodiscard]] std::uint32_t direct_attention_rows() const;
  // The batched step's forward up to the logits of every row (batch_logits_).
  void enqueue_batch_forward(std::size_t rows, cudaStream_t stream);
  // Token rows of the first `count` ids at `ids` into x_, scaled as the architecture says.
  void embed(const std::int32_t* ids, std::size_t count, cudaStream_t stream);
  // The sampler's step and the download of its results into staging_.
  void enqueue_sample(cudaStream_t stream, std::uint32_t sequence);
  std::int32_t sample_and_read(std::uint32_t sequence);
  // The downloaded token, once the stream is done; a logit that was NaN or
  // infinite stops generation with an error naming the position instead.
  [[nodiscard]] std::int32_t sampled_token(std::uint32_t sequence) const;
  [[noreturn]] void fail_non_finite(std::uint32_t sequence, const float* logits, std::int32_t bad) const;

  model::ModelConfig config_;
  DeviceModel model_;
  EngineOptions options_;
  CudaStream stream_;
  KvCache kv_;
  std::vector<Sequence> sequences_;

  // Activations, sized for max_batch tokens; x and residual ping-pong.
  DeviceBuffer x_, x_next_, normed_, q_, k_, v_, attended_, gate_, up_, logits_, all_logits_;
  DeviceBuffer x16_;  // a prefill product's input rounded to f16 (DeviceMatrix::multiply_tokens)
  DeviceBuffer normed16_;  // the FFN's normed input in f16 where gate and up run fused (x16_ takes their output)
  DeviceBuffer tokens_, positions_, attention_workspace_, sampled_;
  PinnedBuffer staging_;  // host side of token/position uploads and the sampled token

  // The batched step (sequences > 1): at most batch_rows_ rows a forward.
  std::size_t batch_rows_ = 0;
  DeviceBuffer batch_inputs_;   // (4, batch_rows_) ids: tokens, positions, KV rows, sequences
  DeviceBuffer batch_logits_;   // (batch_rows_, vocab)
  DeviceBuffer batch_sampled_;  // (batch_rows_, 2): each row's token and non-finite report
  PinnedBuffer batch_staging_;  // host side of batch_inputs_, then of batch_sampled_
  DeviceBuffer split_partials_, split_arrivals_;  // matmul_few_streams' workspace
  kernels::SplitWorkspace split_workspace_{};
  std::vector<CudaGraph> batch_graphs_;  // per row count: the forward, captured on its second use
  std::vector<unsigned> batch_runs_;     // per row count: forwards run so far
  // Each row's sampler runs on its own stream, side by side (a sampler is a
  // chain of small launches that a GPU finishes in a few microseconds but
  // that ran one after another, ~10 us a launch), joined back to stream_.
  std::vector<CudaStream> sampling_streams_;
  std::vector<CudaEvent> sampling_done_;
  std::optional<CudaEvent> batch_logits_ready_;

  // The one-token step as one persistent launch (EngineOptions::decode), or the graph of kernels.
  std::optional<PersistentStep> persistent_;
  std::string decode_path_;
  void choose_decode_path();
};

}  // namespace pagoda::runtime
