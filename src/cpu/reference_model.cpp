#include "pagoda/cpu/reference_model.hpp"

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/cpu/ops.hpp"

namespace pagoda::cpu {

namespace {

std::vector<float> floats_of(const gguf::TensorInfo* tensor) {
  return tensor ? dequantize_tensor(*tensor) : std::vector<float>{};
}

// RMSNorm of each of the (tokens, width) rows of `x` into `out`.
void rms_norm_rows(std::span<const float> x, std::span<const float> weight, float eps, std::size_t width,
                   std::span<float> out) {
  for (std::size_t row = 0; row < x.size() / width; ++row)
    rms_norm(x.subspan(row * width, width), weight, eps, out.subspan(row * width, width));
}

// In place: every head_dim slice of `heads` (QK norm normalises each head alone).
void rms_norm_heads(std::span<float> heads, std::span<const float> weight, float eps) {
  rms_norm_rows(heads, weight, eps, weight.size(), heads);
}

void add_into(std::span<float> x, std::span<const float> delta) {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += delta[i];
}

// "sequence 2: " where several sequences exist; nothing for a single-sequence model.
std::string sequence_prefix(std::uint32_t sequence, std::uint32_t sequences) {
  return sequences > 1 ? fmt::format("sequence {}: ", sequence) : std::string{};
}

}  // namespace

ReferenceModel::ReferenceModel(const gguf::File& file, std::uint32_t context_size, unsigned threads,
                               std::uint32_t sequences)
    : file_(file),
      config_(model::read_config(file)),
      weights_(model::bind_weights(file, config_)),
      context_size_(context_size == 0 ? config_.context_length : context_size),
      pool_(threads) {
  if (sequences == 0) fail("the engine needs at least one sequence (EngineOptions::sequences is 0)");
  model::check_norms_finite(file, weights_);
  output_norm_ = dequantize_tensor(*weights_.output_norm);
  for (const auto& layer : weights_.layers) {
    layer_vectors_.push_back(LayerVectors{
        .attn_norm = floats_of(layer.attn_norm),
        .ffn_norm = floats_of(layer.ffn_norm),
        .q_bias = floats_of(layer.q_bias),
        .k_bias = floats_of(layer.k_bias),
        .v_bias = floats_of(layer.v_bias),
        .q_norm = floats_of(layer.q_norm),
        .k_norm = floats_of(layer.k_norm),
        .post_attn_norm = floats_of(layer.post_attn_norm),
        .post_ffn_norm = floats_of(layer.post_ffn_norm),
    });
  }
  const std::size_t cache_values = std::size_t{context_size_} * config_.kv_dim();
  caches_.resize(sequences);
  for (auto& cache : caches_) {
    cache.keys.assign(config_.n_layers, std::vector<float>(cache_values));
    cache.values.assign(config_.n_layers, std::vector<float>(cache_values));
  }
}

void ReferenceModel::check_sequence(std::uint32_t sequence) const {
  if (sequence >= caches_.size())
    fail("sequence {} does not exist: the engine holds {} sequence{}", sequence, caches_.size(),
         caches_.size() == 1 ? "" : "s");
}

std::uint32_t ReferenceModel::position(std::uint32_t sequence) const {
  check_sequence(sequence);
  return caches_[sequence].position;
}

void ReferenceModel::rewind(std::uint32_t sequence, std::uint32_t keep) {
  check_sequence(sequence);
  auto& cache = caches_[sequence];
  if (keep > cache.position)
    fail("{}cannot rewind to position {}: only {} tokens are cached", sequence_prefix(sequence, sequences()), keep,
         cache.position);
  cache.position = keep;
}

void ReferenceModel::check_forward(std::uint32_t sequence, std::span<const std::int32_t> tokens) const {
  check_sequence(sequence);
  const auto& cache = caches_[sequence];
  const auto prefix = sequence_prefix(sequence, sequences());
  if (tokens.empty()) fail("{}forward needs at least one token", prefix);
  if (cache.position + tokens.size() > context_size_)
    fail("{}the context is full: {} cached tokens + {} new exceed the context size of {}", prefix, cache.position,
         tokens.size(), context_size_);
  for (const auto token : tokens)
    if (token < 0 || static_cast<std::uint32_t>(token) >= config_.vocab_size)
      fail("{}token id {} is outside the vocabulary (size {})", prefix, token, config_.vocab_size);
}

void ReferenceModel::attention(const SequenceCache& cache, std::uint32_t layer, std::size_t n_tokens,
                               std::span<const float> q, std::span<float> out) {
  const auto& c = config_;
  const model::LayerSpec& spec = c.layers[layer];
  const float scale = c.attention_scale;
  const auto& keys = cache.keys[layer];
  const auto& values = cache.values[layer];
  pool_.parallel_for(n_tokens * c.n_heads, [&](std::size_t begin, std::size_t end) {
    std::vector<float> scores;
    for (std::size_t job = begin; job < end; ++job) {
      const std::size_t t = job / c.n_heads;
      const std::size_t head = job % c.n_heads;
      const std::size_t kv_head = head / c.heads_per_kv_head();
      // Causal: keys up to this token's own position; a sliding layer also
      // forgets those more than its window behind.
      const auto position = static_cast<std::uint32_t>(cache.position + t);
      const std::size_t first = spec.first_visible(position);
      const std::size_t visible = position + 1 - first;
      const float* query = q.data() + t * c.q_dim() + head * c.head_dim;
      scores.assign(visible, 0.0f);
      for (std::size_t p = 0; p < visible; ++p) {
        const float* key = keys.data() + (first + p) * c.kv_dim() + kv_head * c.head_dim;
        float dot = 0.0f;
        for (std::size_t i = 0; i < c.head_dim; ++i) dot += query[i] * key[i];
        scores[p] = dot * scale;
      }
      softmax(scores);
      float* result = out.data() + t * c.q_dim() + head * c.head_dim;
      std::fill(result, result + c.head_dim, 0.0f);
      for (std::size_t p = 0; p < visible; ++p) {
        const float* value = values.data() + (first + p) * c.kv_dim() + kv_head * c.head_dim;
        for (std::size_t i = 0; i < c.head_dim; ++i) result[i] += scores[p] * value[i];
      }
    }
  });
}

std::vector<float> ReferenceModel::forward(std::uint32_t sequence, std::span<const std::int32_t> tokens,
                                           bool all_logits) {
  check_forward(sequence, tokens);
  auto& cache = caches_[sequence];
  const auto& c = config_;
  const auto& arch = c.architecture;
  const std::size_t n = tokens.size();

  std::vector<float> x(n * c.d_model);  // the residual stream, (n, d_model)
  for (std::size_t t = 0; t < n; ++t)
    dequantize_row(*weights_.token_embedding, static_cast<std::uint64_t>(tokens[t]),
                   std::span(x).subspan(t * c.d_model, c.d_model));
  if (arch.scaled_embedding)
    for (float& value : x) value *= c.embedding_scale;

  std::vector<float> normed(n * c.d_model), q(n * c.q_dim()), k(n * c.kv_dim()), v(n * c.kv_dim());
  std::vector<float> attended(n * c.q_dim()), projected(n * c.d_model);
  std::vector<float> gate(n * c.d_ffn), up(n * c.d_ffn);

  for (std::uint32_t l = 0; l < c.n_layers; ++l) {
    const auto& w = weights_.layers[l];
    const LayerVectors& lv = layer_vectors_[l];
    const model::LayerSpec& spec = c.layers[l];

    rms_norm_rows(x, lv.attn_norm, c.rms_norm_eps, c.d_model, normed);
    matmul(*w.wq, normed, n, q, pool_);
    matmul(*w.wk, normed, n, k, pool_);
    matmul(*w.wv, normed, n, v, pool_);
    if (arch.qkv_bias) {
      add_bias(q, lv.q_bias);
      add_bias(k, lv.k_bias);
      add_bias(v, lv.v_bias);
    }
    if (arch.qk_norm) {
      rms_norm_heads(q, lv.q_norm, c.rms_norm_eps);
      rms_norm_heads(k, lv.k_norm, c.rms_norm_eps);
    }
    for (std::size_t t = 0; t < n; ++t) {
      const auto position = static_cast<std::uint32_t>(cache.position + t);
      for (std::uint32_t h = 0; h < c.n_heads; ++h)
        apply_rope(std::span(q).subspan(t * c.q_dim() + h * c.head_dim, c.head_dim), position, spec.rope);
      for (std::uint32_t h = 0; h < c.n_kv_heads; ++h)
        apply_rope(std::span(k).subspan(t * c.kv_dim() + h * c.head_dim, c.head_dim), position, spec.rope);
      std::copy_n(k.begin() + t * c.kv_dim(), c.kv_dim(), cache.keys[l].begin() + position * c.kv_dim());
      std::copy_n(v.begin() + t * c.kv_dim(), c.kv_dim(), cache.values[l].begin() + position * c.kv_dim());
    }
    attention(cache, l, n, q, attended);
    matmul(*w.wo, attended, n, projected, pool_);
    if (arch.post_norms) rms_norm_rows(projected, lv.post_attn_norm, c.rms_norm_eps, c.d_model, projected);
    add_into(x, projected);

    rms_norm_rows(x, lv.ffn_norm, c.rms_norm_eps, c.d_model, normed);
    matmul(*w.w_gate, normed, n, gate, pool_);
    matmul(*w.w_up, normed, n, up, pool_);
    gated_activation(arch.ffn_activation, gate, up);
    matmul(*w.w_down, gate, n, projected, pool_);
    if (arch.post_norms) rms_norm_rows(projected, lv.post_ffn_norm, c.rms_norm_eps, c.d_model, projected);
    add_into(x, projected);
  }

  const std::size_t first = all_logits ? 0 : n - 1;
  const std::size_t rows = n - first;
  rms_norm_rows(std::span(x).subspan(first * c.d_model), output_norm_, c.rms_norm_eps, c.d_model, normed);
  std::vector<float> logits(rows * c.vocab_size);
  matmul(*weights_.output, std::span(normed).first(rows * c.d_model), rows, logits, pool_);
  cache.position += static_cast<std::uint32_t>(n);
  return logits;
}

}  // namespace pagoda::cpu
