// Hyperparameters from GGUF metadata. Keys are "<architecture>.<name>", as the
// GGUF specification's llama section lays them out.
#include "pagoda/model/config.hpp"
#include "pagoda/core/escape.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::model {

namespace {

class KeyReader {
public:
  KeyReader(const gguf::File& file, std::string_view prefix) : file_(file), prefix_(prefix) {}

  [[nodiscard]] std::string key(std::string_view name) const { return fmt::format("{}.{}", prefix_, name); }

  template <class T>
  [[nodiscard]] T required(std::string_view name) const { return file_.get<T>(key(name)); }
  template <class T>
  [[nodiscard]] std::optional<T> optional(std::string_view name) const { return file_.get_optional<T>(key(name)); }

  // A positive count, refusing zero with the key's name.
  [[nodiscard]] std::uint32_t positive(std::string_view name, std::optional<std::uint32_t> fallback = {}) const {
    const auto value = fallback ? optional<std::uint32_t>(name).value_or(*fallback) : required<std::uint32_t>(name);
    if (value == 0) fail("{}: metadata '{}' must be positive", file_.name(), key(name));
    return value;
  }

private:
  const gguf::File& file_;
  std::string_view prefix_;
};

std::vector<float> read_rope_freq_factors(const gguf::File& file, std::uint32_t rotated_pairs) {
  const auto* tensor = file.find_tensor("rope_freqs.weight");
  if (!tensor) return {};
  if (tensor->type != gguf::TensorType::F32 || tensor->element_count != rotated_pairs)
    fail("{}: tensor 'rope_freqs.weight' must be F32 with {} elements (one per rotated pair), found {} with {}",
         file.name(), rotated_pairs, gguf::name_of(tensor->type), tensor->element_count);
  std::vector<float> factors(rotated_pairs);
  std::memcpy(factors.data(), tensor->bytes.data(), rotated_pairs * sizeof(float));
  return factors;
}

// Keys of features pagoda does not compute: refused by name rather than ignored.
void refuse_unsupported_keys(const KeyReader& keys, const gguf::File& file) {
  for (const std::string_view name : {"attn_logit_softcapping", "final_logit_softcapping"})
    if (file.find(keys.key(name)))
      fail("{}: '{}' is set, and pagoda does not implement logit soft-capping", file.name(), keys.key(name));
}

// Every layer's attention span and rotation, from the architecture's sliding-window pattern.
std::vector<LayerSpec> layer_specs(const ModelConfig& config, const KeyReader& keys) {
  const SlidingWindowPattern& pattern = config.architecture.sliding;
  const std::uint32_t window = pattern.period != 0 ? keys.positive("attention.sliding_window") : 0;
  std::vector<LayerSpec> layers(config.n_layers, LayerSpec{.sliding_window = 0, .rope = config.rope});
  if (pattern.period == 0) return layers;
  for (std::uint32_t l = 0; l < config.n_layers; ++l) {
    if ((l + 1) % pattern.period == 0) continue;  // global
    layers[l].sliding_window = window;
    layers[l].rope.freq_base = pattern.local_rope_base;
    layers[l].rope.linear_scale = 1.0f;  // scaling stretches the global layers' long context only
  }
  return layers;
}

}  // namespace

ModelConfig read_config(const gguf::File& file) {
  ModelConfig config;
  config.architecture = find_architecture(file.get<std::string_view>("general.architecture"), file.name());
  const KeyReader keys(file, config.architecture.name);
  config.name = std::string(file.get_or<std::string_view>("general.name", "unnamed"));

  config.n_layers = keys.positive("block_count");
  config.d_model = keys.positive("embedding_length");
  if (const auto* ffn = file.find(keys.key("feed_forward_length")); ffn && ffn->type() == gguf::ValueType::ARRAY)
    fail("{}: per-layer '{}' is not supported", file.name(), keys.key("feed_forward_length"));
  config.d_ffn = keys.positive("feed_forward_length");
  config.n_heads = keys.positive("attention.head_count");
  config.n_kv_heads = keys.positive("attention.head_count_kv", config.n_heads);
  if (config.n_heads % config.n_kv_heads != 0)
    fail("{}: {} attention heads cannot be grouped over {} KV heads", file.name(), config.n_heads, config.n_kv_heads);
  if (config.d_model % config.n_heads != 0 && !keys.optional<std::uint32_t>("attention.key_length"))
    fail("{}: embedding length {} is not a multiple of the head count {}", file.name(), config.d_model, config.n_heads);
  config.head_dim = keys.positive("attention.key_length", config.d_model / config.n_heads);
  if (keys.positive("attention.value_length", config.head_dim) != config.head_dim)
    fail("{}: key and value head lengths differ, which pagoda does not support", file.name());
  config.context_length = keys.positive("context_length");
  config.rms_norm_eps = keys.required<float>("attention.layer_norm_rms_epsilon");
  if (!(config.rms_norm_eps > 0.0f)) fail("{}: '{}' must be positive", file.name(), keys.key("attention.layer_norm_rms_epsilon"));

  const auto* tokens = file.find("tokenizer.ggml.tokens");
  const auto* embedding = file.find_tensor("token_embd.weight");
  const std::uint32_t vocab_fallback =
      tokens && tokens->get_if<gguf::ArrayValue>() ? static_cast<std::uint32_t>(tokens->get_if<gguf::ArrayValue>()->size())
      : embedding && embedding->dims.size() == 2  ? static_cast<std::uint32_t>(embedding->dims[1])
                                                  : 0;
  config.vocab_size = keys.positive("vocab_size", vocab_fallback);

  config.rope.layout = config.architecture.rope_layout;
  config.rope.freq_base = keys.optional<float>("rope.freq_base").value_or(10000.0f);
  config.rope.dimensions = keys.positive("rope.dimension_count", config.head_dim);
  if (config.rope.dimensions > config.head_dim || config.rope.dimensions % 2 != 0)
    fail("{}: RoPE dimension count {} must be even and at most the head length {}", file.name(),
         config.rope.dimensions, config.head_dim);
  const auto scaling = keys.optional<std::string_view>("rope.scaling.type").value_or("none");
  if (scaling == "linear") {
    config.rope.linear_scale = keys.required<float>("rope.scaling.factor");
    if (!(config.rope.linear_scale > 0.0f)) fail("{}: RoPE scaling factor must be positive", file.name());
  } else if (scaling != "none") {
    fail("{}: RoPE scaling type '{}' is not supported (supported: none, linear, and rope_freqs.weight factors)",
         file.name(), escaped(scaling));
  }
  config.rope.freq_factors = read_rope_freq_factors(file, config.rope.dimensions / 2);
  config.tied_output = file.find_tensor("output.weight") == nullptr;
  config.embedding_scale = config.architecture.scaled_embedding ? std::sqrt(static_cast<float>(config.d_model)) : 1.0f;
  config.attention_scale = 1.0f / std::sqrt(static_cast<float>(config.head_dim));
  refuse_unsupported_keys(keys, file);
  config.layers = layer_specs(config, keys);
  return config;
}

}  // namespace pagoda::model
