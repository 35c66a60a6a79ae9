// The model's tensors, bound by name and checked against the hyperparameters:
// a missing tensor, a shape that disagrees with the metadata, or a tensor type
// pagoda cannot compute is an error naming the tensor, before any math runs.
// Shapes follow GGUF: dims[0] is the contiguous (input) length of a row.
#pragma once

#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/model/config.hpp"

namespace pagoda::model {

// The tensors after "optional" are bound exactly when the architecture says
// its layers have them (model/architecture.hpp), and are nullptr otherwise.
struct LayerWeights {
  const gguf::TensorInfo* attn_norm;  // (d_model)
  const gguf::TensorInfo* wq;         // (d_model) x q_dim rows
  const gguf::TensorInfo* wk;         // (d_model) x kv_dim rows
  const gguf::TensorInfo* wv;         // (d_model) x kv_dim rows
  const gguf::TensorInfo* wo;         // (q_dim) x d_model rows
  const gguf::TensorInfo* ffn_norm;   // (d_model)
  const gguf::TensorInfo* w_gate;     // (d_model) x d_ffn rows
  const gguf::TensorInfo* w_up;       // (d_model) x d_ffn rows
  const gguf::TensorInfo* w_down;     // (d_ffn) x d_model rows
  // optional:
  const gguf::TensorInfo* q_bias = nullptr;          // (q_dim), qkv_bias
  const gguf::TensorInfo* k_bias = nullptr;          // (kv_dim), qkv_bias
  const gguf::TensorInfo* v_bias = nullptr;          // (kv_dim), qkv_bias
  const gguf::TensorInfo* q_norm = nullptr;          // (head_dim), qk_norm
  const gguf::TensorInfo* k_norm = nullptr;          // (head_dim), qk_norm
  const gguf::TensorInfo* post_attn_norm = nullptr;  // (d_model), post_norms
  const gguf::TensorInfo* post_ffn_norm = nullptr;   // (d_model), post_norms
};

struct ModelWeights {
  const gguf::TensorInfo* token_embedding;  // (d_model) x vocab rows
  const gguf::TensorInfo* output_norm;      // (d_model)
  const gguf::TensorInfo* output;           // (d_model) x vocab rows; token_embedding when tied
  std::vector<LayerWeights> layers;
};

[[nodiscard]] ModelWeights bind_weights(const gguf::File& file, const ModelConfig& config);

// Every norm weight (a few KB in all) is finite: a NaN or infinity there turns
// every later activation into NaN, which would otherwise surface as an empty
// answer. Throws naming the tensor and the element.
void check_norms_finite(const gguf::File& file, const ModelWeights& weights);

}  // namespace pagoda::model
