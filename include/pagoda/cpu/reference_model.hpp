// The CPU reference forward pass of every supported architecture: one
// pre-norm transformer block whose variations are the architecture's facts
// (model/architecture.hpp) and each layer's LayerSpec — RMSNorm, optional QKV
// bias, optional per-head QK norm, RoPE as the metadata says, grouped-query
// attention over an f32 KV cache (global or sliding-window), optional
// post-norms, a gated FFN (SwiGLU or GeGLU), tied or separate output matrix.
// Float32 throughout, multi-threaded over output rows and heads. It is the
// oracle: correctness over speed.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pagoda/cpu/thread_pool.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/weights.hpp"

namespace pagoda::cpu {

class ReferenceModel {
public:
  // Binds and checks the weights of `file` (which must outlive the model) and
  // allocates a KV cache of `context_size` positions (0: the model's trained
  // context length). threads == 0: one per hardware thread.
  ReferenceModel(const gguf::File& file, std::uint32_t context_size = 0, unsigned threads = 0);

  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  [[nodiscard]] std::uint32_t context_size() const { return context_size_; }
  // Tokens held in the KV cache; the next token goes at this position.
  [[nodiscard]] std::uint32_t position() const { return position_; }
  [[nodiscard]] unsigned threads() const { return pool_.size(); }

  // Runs `tokens` at positions position() ... and appends them to the cache.
  // Returns the logits of every token ((n, vocab) row-major) when all_logits,
  // else of the last token only. Throws, leaving the cache unchanged, when the
  // context would overflow or a token id is out of range.
  std::vector<float> forward(std::span<const std::int32_t> tokens, bool all_logits = false);

  // Forgets the cache from position `keep` on (0: all).
  void rewind(std::uint32_t keep = 0);

private:
  // A layer's small tensors (norms, biases) as f32; empty where the architecture has none.
  struct LayerVectors {
    std::vector<float> attn_norm, ffn_norm, q_bias, k_bias, v_bias, q_norm, k_norm, post_attn_norm, post_ffn_norm;
  };

  void attention(std::uint32_t layer, std::size_t n_tokens, std::span<const float> q, std::span<float> out);

  const gguf::File& file_;
  model::ModelConfig config_;
  model::ModelWeights weights_;
  std::uint32_t context_size_;
  std::uint32_t position_ = 0;
  ThreadPool pool_;
  std::vector<float> output_norm_;
  std::vector<LayerVectors> layer_vectors_;
  std::vector<std::vector<float>> key_cache_;    // per layer: (context, kv_dim)
  std::vector<std::vector<float>> value_cache_;  // per layer: (context, kv_dim)
};

}  // namespace pagoda::cpu
