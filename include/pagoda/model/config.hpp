// A model's hyperparameters, read once from GGUF metadata and validated. The
// architecture (general.architecture) selects how keys are prefixed and what
// the layers do; what pagoda supports is listed in model/architecture.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/model/architecture.hpp"

namespace pagoda::model {

struct RopeConfig {
  RopeLayout layout = RopeLayout::interleaved;
  std::uint32_t dimensions = 0;        // rotated dimensions per head (<= head_dim)
  float freq_base = 10000.0f;
  float linear_scale = 1.0f;           // positions are divided by this (rope.scaling.type = linear)
  std::vector<float> freq_factors;     // per rotated pair; empty = all 1 (Llama 3.1+ rope_freqs.weight)
};

// What one layer's attention does that may differ from its neighbours: how far
// back it looks and how it rotates (Gemma 3 interleaves sliding-window layers
// with a local RoPE base and global layers with the model's).
struct LayerSpec {
  std::uint32_t sliding_window = 0;  // > 0: a token sees the last `sliding_window` positions, itself included; 0: all
  RopeConfig rope;

  [[nodiscard]] bool is_sliding() const { return sliding_window != 0; }
  // The first position visible to a token at `position`.
  [[nodiscard]] std::uint32_t first_visible(std::uint32_t position) const {
    return sliding_window != 0 && position >= sliding_window ? position - sliding_window + 1 : 0;
  }
};

struct ModelConfig {
  Architecture architecture{};
  std::string name;                    // general.name, for reports
  std::uint32_t n_layers = 0;
  std::uint32_t d_model = 0;           // embedding length
  std::uint32_t n_heads = 0;
  std::uint32_t n_kv_heads = 0;
  std::uint32_t head_dim = 0;          // key/value length per head
  std::uint32_t d_ffn = 0;
  std::uint32_t vocab_size = 0;
  std::uint32_t context_length = 0;    // what the model was trained for
  float rms_norm_eps = 1e-5f;
  RopeConfig rope;                     // of global layers; layers[l].rope is what layer l uses
  bool tied_output = false;            // no output.weight: logits use token_embd
  float embedding_scale = 1.0f;        // token embeddings are multiplied by this (Gemma: sqrt(d_model))
  float attention_scale = 0.0f;        // applied to q.k before the softmax: 1 / sqrt(head_dim)
  std::vector<LayerSpec> layers;       // n_layers entries

  [[nodiscard]] std::uint32_t q_dim() const { return n_heads * head_dim; }
  [[nodiscard]] std::uint32_t kv_dim() const { return n_kv_heads * head_dim; }
  [[nodiscard]] std::uint32_t heads_per_kv_head() const { return n_heads / n_kv_heads; }
};

// Reads and validates the hyperparameters; throws pagoda::Error naming the
// file and key for anything missing, inconsistent or unsupported.
[[nodiscard]] ModelConfig read_config(const gguf::File& file);

}  // namespace pagoda::model
