#include "pagoda/model/weights.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "pagoda/core/error.hpp"
#include "pagoda/quant/dequantize.hpp"
#include "pagoda/quant/format_list.hpp"

namespace pagoda::model {

namespace {

std::string supported_format_names() {
  std::string names;
  for_each_type(quant::formats{}, [&](auto tag) {
    if (!names.empty()) names += ", ";
    names += decltype(tag)::type::name;
  });
  return names;
}

class Binder {
public:
  explicit Binder(const gguf::File& file) : file_(file) {}

  // The tensor `name` with exactly `shape` (GGUF order), of a computable type.
  const gguf::TensorInfo* bind(const std::string& name, std::vector<std::uint64_t> shape) const {
    const gguf::TensorInfo& tensor = file_.tensor(name);
    if (tensor.dims != shape)
      fail("{}: tensor '{}' has shape [{}] but the metadata implies [{}]", file_.name(), name,
           fmt::join(tensor.dims, ", "), fmt::join(shape, ", "));
    if (!quant::is_supported(tensor.type))
      fail("{}: tensor '{}' has type {}, which pagoda cannot compute (supported: {})", file_.name(), name,
           gguf::name_of(tensor.type), supported_format_names());
    return &tensor;
  }

private:
  const gguf::File& file_;
};

}  // namespace

ModelWeights bind_weights(const gguf::File& file, const ModelConfig& c) {
  const Binder binder(file);
  ModelWeights weights{};
  weights.token_embedding = binder.bind("token_embd.weight", {c.d_model, c.vocab_size});
  weights.output_norm = binder.bind("output_norm.weight", {c.d_model});
  weights.output = c.tied_output ? weights.token_embedding : binder.bind("output.weight", {c.d_model, c.vocab_size});
  weights.layers.reserve(c.n_layers);
  const Architecture& arch = c.architecture;
  for (std::uint32_t i = 0; i < c.n_layers; ++i) {
    const auto name = [i](std::string_view part) { return fmt::format("blk.{}.{}.weight", i, part); };
    const auto bias = [i](std::string_view part) { return fmt::format("blk.{}.{}.bias", i, part); };
    LayerWeights& layer = weights.layers.emplace_back(LayerWeights{
        .attn_norm = binder.bind(name("attn_norm"), {c.d_model}),
        .wq = binder.bind(name("attn_q"), {c.d_model, c.q_dim()}),
        .wk = binder.bind(name("attn_k"), {c.d_model, c.kv_dim()}),
        .wv = binder.bind(name("attn_v"), {c.d_model, c.kv_dim()}),
        .wo = binder.bind(name("attn_output"), {c.q_dim(), c.d_model}),
        .ffn_norm = binder.bind(name("ffn_norm"), {c.d_model}),
        .w_gate = binder.bind(name("ffn_gate"), {c.d_model, c.d_ffn}),
        .w_up = binder.bind(name("ffn_up"), {c.d_model, c.d_ffn}),
        .w_down = binder.bind(name("ffn_down"), {c.d_ffn, c.d_model}),
    });
    if (arch.qkv_bias) {
      layer.q_bias = binder.bind(bias("attn_q"), {c.q_dim()});
      layer.k_bias = binder.bind(bias("attn_k"), {c.kv_dim()});
      layer.v_bias = binder.bind(bias("attn_v"), {c.kv_dim()});
    }
    if (arch.qk_norm) {
      layer.q_norm = binder.bind(name("attn_q_norm"), {c.head_dim});
      layer.k_norm = binder.bind(name("attn_k_norm"), {c.head_dim});
    }
    if (arch.post_norms) {
      layer.post_attn_norm = binder.bind(name("post_attention_norm"), {c.d_model});
      layer.post_ffn_norm = binder.bind(name("post_ffw_norm"), {c.d_model});
    }
  }
  return weights;
}

void check_norms_finite(const gguf::File& file, const ModelWeights& weights) {
  std::vector<float> values;
  const auto check = [&](const gguf::TensorInfo* tensor) {
    if (tensor == nullptr) return;
    values.resize(tensor->element_count);
    quant::dequantize_row(tensor->type, tensor->bytes, values);
    for (std::size_t i = 0; i < values.size(); ++i)
      if (!std::isfinite(values[i]))
        fail("{}: norm weight '{}' holds {} at element {}: the file is damaged (every answer would be NaN)",
             file.name(), tensor->name, values[i], i);
  };
  check(weights.output_norm);
  for (const LayerWeights& layer : weights.layers)
    for (const auto* norm : {layer.attn_norm, layer.ffn_norm, layer.q_norm, layer.k_norm, layer.post_attn_norm,
                             layer.post_ffn_norm})
      check(norm);
}

}  // namespace pagoda::model
