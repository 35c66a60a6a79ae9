// The CPU reference forward pass of every supported architecture: one
// pre-norm transformer block whose variations are the architecture's facts
// (model/architecture.hpp) and each layer's LayerSpec — RMSNorm, optional QKV
// bias, optional per-head QK norm, RoPE as the metadata says, grouped-query
// attention over an f32 KV cache (global or sliding-window), optional
// post-norms, a gated FFN (SwiGLU or GeGLU), tied or separate output matrix.
// Float32 throughout, multi-threaded over output rows and heads. It is the
// oracle: correctness over speed. It holds one KV cache per sequence
// (runtime/sequence_step.hpp) over one copy of the weights and one thread
// pool; the calls without a sequence are sequence 0's.
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
  // allocates `sequences` KV caches (at least one) of `context_size` positions
  // each (0: the model's trained context length). threads == 0: one per
  // hardware thread.
  ReferenceModel(const gguf::File& file, std::uint32_t context_size = 0, unsigned threads = 0,
                 std::uint32_t sequences = 1);

  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  [[nodiscard]] std::uint32_t context_size() const { return context_size_; }
  [[nodiscard]] std::uint32_t sequences() const { return static_cast<std::uint32_t>(caches_.size()); }
  // Tokens held in a sequence's KV cache; its next token goes at this position.
  [[nodiscard]] std::uint32_t position(std::uint32_t sequence) const;
  [[nodiscard]] std::uint32_t position() const { return position(0); }
  [[nodiscard]] unsigned threads() const { return pool_.size(); }

  // Throws pagoda::Error unless sequence < sequences().
  void check_sequence(std::uint32_t sequence) const;
  // Throws what forward(sequence, tokens) would refuse — no such sequence, no
  // tokens, a context that would overflow, a token id out of range — and runs nothing.
  void check_forward(std::uint32_t sequence, std::span<const std::int32_t> tokens) const;

  // Runs `tokens` at positions position(sequence) ... and appends them to that
  // sequence's cache. Returns the logits of every token ((n, vocab) row-major)
  // when all_logits, else of the last token only. Throws, leaving the cache
  // unchanged, for what check_forward refuses.
  std::vector<float> forward(std::uint32_t sequence, std::span<const std::int32_t> tokens, bool all_logits = false);
  std::vector<float> forward(std::span<const std::int32_t> tokens, bool all_logits = false) {
    return forward(0, tokens, all_logits);
  }

  // Forgets a sequence's cache from position `keep` on (0: all).
  void rewind(std::uint32_t sequence, std::uint32_t keep);
  void rewind(std::uint32_t keep = 0) { rewind(0, keep); }

private:
  // A layer's small tensors (norms, biases) as f32; empty where the architecture has none.
  struct LayerVectors {
    std::vector<float> attn_norm, ffn_norm, q_bias, k_bias, v_bias, q_norm, k_norm, post_attn_norm, post_ffn_norm;
  };

  // One sequence's KV cache: per layer (context, kv_dim) keys and values.
  struct SequenceCache {
    std::vector<std::vector<float>> keys, values;
    std::uint32_t position = 0;
  };

  void attention(const SequenceCache& cache, std::uint32_t layer, std::size_t n_tokens, std::span<const float> q,
                 std::span<float> out);

  const gguf::File& file_;
  model::ModelConfig config_;
  model::ModelWeights weights_;
  std::uint32_t context_size_;
  ThreadPool pool_;
  std::vector<float> output_norm_;
  std::vector<LayerVectors> layer_vectors_;
  std::vector<SequenceCache> caches_;  // one per sequence
};

}  // namespace pagoda::cpu
