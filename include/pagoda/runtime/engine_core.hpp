// The forward pass on the GPU for every supported architecture, given a bound
// DeviceModel: the CPU oracle's block, with the architecture's facts and each
// layer's LayerSpec (model/config.hpp) deciding its optional steps; prefill in chunks on tensor cores, and a one-token decode step
// captured once as a CUDA graph and replayed. Within a step nothing waits for
// the host; the only synchronisation is reading the sampled token at the end
// (with the sampler's note of a non-finite logit, an error naming the position).
// Policy-free: Engine<Policy> (engine.hpp) owns the weights' placement.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pagoda/kernels/sampling.cuh"
#include "pagoda/model/config.hpp"
#include "pagoda/runtime/cuda_graph.hpp"
#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/runtime/device_model.hpp"
#include "pagoda/runtime/kv_cache.hpp"
#include "pagoda/runtime/engine_options.hpp"
#include "pagoda/runtime/sampling_params.hpp"

namespace pagoda::runtime {

class EngineCore {
public:
  EngineCore(const model::ModelConfig& config, DeviceModel model, const EngineOptions& options);

  // Runs `tokens` after what the cache holds; returns the sampled next token.
  std::int32_t prefill(std::span<const std::int32_t> tokens);
  // Runs one token; returns the sampled next token.
  std::int32_t decode(std::int32_t token);
  // The logits of the last token run (vocab values).
  [[nodiscard]] std::vector<float> logits() const;
  // Teacher forcing: runs `tokens` and returns every token's logits, (n, vocab).
  std::vector<float> forward_all_logits(std::span<const std::int32_t> tokens);

  [[nodiscard]] std::uint32_t position() const { return position_; }
  [[nodiscard]] std::uint32_t context_size() const { return kv_.context(); }
  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  [[nodiscard]] const DeviceModel& model() const { return model_; }
  // Forgets the cache from `keep` on; the sampler's penalty history follows.
  void rewind(std::uint32_t keep = 0);
  void set_sampling(const SamplingParams& params);
  // VRAM the engine allocated beyond the weights: KV cache, activations, norms.
  [[nodiscard]] std::size_t working_vram_bytes() const;

private:
  void require_room(std::size_t tokens) const;
  void enqueue_layers(std::size_t tokens, const std::int32_t* positions, std::uint32_t start, bool decode);
  void enqueue_decode_step(cudaStream_t stream);
  // Token rows of the first `tokens` ids in tokens_ into x_, scaled as the architecture says.
  void embed(std::size_t tokens, cudaStream_t stream);
  // The sampler's step and the download of its results into staging_.
  void enqueue_sample(cudaStream_t stream);
  std::int32_t sample_and_read();
  // The downloaded token, once the stream is done; a logit that was NaN or
  // infinite stops generation with an error naming the position instead.
  [[nodiscard]] std::int32_t sampled_token() const;

  model::ModelConfig config_;
  DeviceModel model_;
  EngineOptions options_;
  CudaStream stream_;
  KvCache kv_;
  kernels::Sampler sampler_;
  std::uint32_t position_ = 0;
  std::vector<std::int32_t> history_;  // tokens in the cache, for the sampler's penalties on rewind

  // Activations, sized for max_batch tokens; x and residual ping-pong.
  DeviceBuffer x_, x_next_, normed_, q_, k_, v_, attended_, gate_, up_, logits_, all_logits_;
  DeviceBuffer x16_;  // a prefill product's input rounded to f16 (DeviceMatrix::multiply_tokens)
  DeviceBuffer normed16_;  // the FFN's normed input in f16 where gate and up run fused (x16_ takes their output)
  DeviceBuffer tokens_, positions_, attention_workspace_, sampled_;
  PinnedBuffer staging_;  // host side of token/position uploads and the sampled token
  CudaGraph decode_graph_;
};

}  // namespace pagoda::runtime
