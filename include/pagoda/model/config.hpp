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
  RopeConfig rope;
  bool tied_output = false;            // no output.weight: logits use token_embd

  [[nodiscard]] std::uint32_t q_dim() const { return n_heads * head_dim; }
  [[nodiscard]] std::uint32_t kv_dim() const { return n_kv_heads * head_dim; }
  [[nodiscard]] std::uint32_t heads_per_kv_head() const { return n_heads / n_kv_heads; }
};

// Reads and validates the hyperparameters; throws pagoda::Error naming the
// file and key for anything missing, inconsistent or unsupported.
[[nodiscard]] ModelConfig read_config(const gguf::File& file);

}  // namespace pagoda::model
