// Which tensors a synthetic model has and which format each is stored in:
// the recipe (one format, or llama.cpp's Q4_K_M mix) and, where a row is not
// whole blocks of that format, llama.cpp's per-tensor fallback — reported.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pagoda/core/error.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/quant/format_list.hpp"

namespace pagoda::model {
namespace {

using gguf::TensorType;

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// What a tensor is, for the recipe's choice of format.
enum class Role { embedding, output, attn_v, ffn_down, matrix };

TensorType wanted_type(const QuantRecipe& recipe, Role role, std::uint32_t layer, const SyntheticShape& shape) {
  // llama.cpp quantizes a tied token_embd as the output matrix it also is.
  const bool is_output = role == Role::output || (role == Role::embedding && shape.tied_output);
  if (recipe.kind == QuantRecipe::Kind::uniform)
    return is_output && recipe.output_format ? *recipe.output_format : recipe.format;
  if (is_output) return TensorType::Q6_K;
  if ((role == Role::attn_v || role == Role::ffn_down) && q4_k_m_uses_more_bits(layer, shape.n_layers))
    return TensorType::Q6_K;
  return TensorType::Q4_K;
}

// llama.cpp's replacement for a type whose block does not divide the row
// (convert_incompatible_tensor); IQ4_NL, its choice for Q2_K / Q3_K, is not a
// format pagoda computes with, so those take Q4_0 instead.
TensorType fallback_for(TensorType type) {
  switch (type) {
    case TensorType::Q2_K:
    case TensorType::Q3_K: return TensorType::Q4_0;
    case TensorType::Q4_K: return TensorType::Q5_0;
    case TensorType::Q5_K: return TensorType::Q5_1;
    case TensorType::Q6_K: return TensorType::Q8_0;
    default: return TensorType::F16;
  }
}

bool divides(TensorType type, std::uint64_t row_length) {
  return row_length % gguf::geometry_of(type).block_elements == 0;
}

// The llama3-type RoPE scaling factors convert_hf_to_gguf.py stores as
// rope_freqs.weight (low_freq_factor 1, high_freq_factor 4, original context 8192).
std::vector<float> llama3_rope_factors(const SyntheticShape& shape) {
  constexpr double low_freq_factor = 1.0, high_freq_factor = 4.0, original_context = 8192.0;
  const double factor = shape.llama3_rope_factor;
  const std::uint32_t head_dim = shape.effective_head_dim();
  std::vector<float> factors;
  for (std::uint32_t i = 0; i < head_dim; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(shape.rope_base), static_cast<double>(i) / head_dim);
    const double wavelength = 2.0 * std::numbers::pi / freq;
    if (wavelength < original_context / high_freq_factor) {
      factors.push_back(1.0f);
    } else if (wavelength > original_context / low_freq_factor) {
      factors.push_back(static_cast<float>(factor));
    } else {
      const double smooth = (original_context / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / factor + smooth)));
    }
  }
  return factors;
}

class Planner {
public:
  Planner(const SyntheticShape& shape, const QuantRecipe& recipe) : shape_(shape), recipe_(recipe) {}

  void matrix(std::string name, std::uint64_t cols, std::uint64_t rows, Role role, std::uint32_t layer = 0) {
    const TensorType wanted = wanted_type(recipe_, role, layer, shape_);
    TensorType used = wanted;
    if (!divides(used, cols)) {
      used = fallback_for(used);
      if (!divides(used, cols)) used = TensorType::F16;
      plan_.fallbacks.push_back({name, wanted, used, cols});
    }
    add({std::move(name), {cols, rows}, used, ValueModel{0.0f, 0.02f}, {}});
  }
  void norm(std::string name, std::uint64_t length) {
    add({std::move(name), {length}, TensorType::F32, ValueModel{1.0f, 0.05f}, {}});
  }
  void bias(std::string name, std::uint64_t length) {
    add({std::move(name), {length}, TensorType::F32, ValueModel{0.0f, 0.02f}, {}});
  }
  void fixed(std::string name, std::vector<float> values) {
    const std::uint64_t length = values.size();
    add({std::move(name), {length}, TensorType::F32, ValueModel{}, std::move(values)});
  }
  SyntheticPlan take() { return std::move(plan_); }

private:
  void add(PlannedTensor tensor) {
    std::uint64_t elements = 1;
    for (const auto dim : tensor.dims) elements *= dim;
    plan_.parameter_count += elements;
    plan_.tensors.push_back(std::move(tensor));
  }

  const SyntheticShape& shape_;
  const QuantRecipe& recipe_;
  SyntheticPlan plan_;
};

}  // namespace

std::string QuantRecipe::name() const {
  if (kind == Kind::q4_k_m) return "Q4_K_M";
  if (output_format && *output_format != format)
    return fmt::format("{} (output {})", gguf::name_of(format), gguf::name_of(*output_format));
  return std::string(gguf::name_of(format));
}

std::vector<std::string> recipe_names() {
  std::vector<std::string> names(quant::format_names.begin(), quant::format_names.end());
  names.emplace_back("Q4_K_M");
  return names;
}

TensorType parse_format(std::string_view name) {
  const std::string wanted = upper(name);
  for (const auto& g : gguf::known_tensor_types)
    if (g.name == wanted && quant::is_supported(g.type)) return g.type;
  fail("'{}' is not a format pagoda computes with; allowed: {}", name, fmt::join(quant::format_names, ", "));
}

QuantRecipe parse_recipe(std::string_view name) {
  if (upper(name) == "Q4_K_M") return QuantRecipe::q4_k_m();
  for (const auto& g : gguf::known_tensor_types)
    if (g.name == upper(name) && quant::is_supported(g.type)) return QuantRecipe::uniform(g.type);
  fail("'{}' is not a quantization; allowed: {}", name, fmt::join(recipe_names(), ", "));
}

bool q4_k_m_uses_more_bits(std::uint32_t layer, std::uint32_t n_layers) {
  const auto i = static_cast<std::int64_t>(layer);
  const auto n = static_cast<std::int64_t>(n_layers);
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

std::string describe(const QuantFallback& f) {
  return fmt::format("{}: {} -> {} (rows of {} elements are not whole {}-element blocks)", f.tensor,
                     gguf::name_of(f.wanted), gguf::name_of(f.used), f.row_length,
                     gguf::geometry_of(f.wanted).block_elements);
}

SyntheticPlan plan_tensors(const SyntheticShape& shape, const QuantRecipe& recipe) {
  validate(shape);
  if (recipe.kind == QuantRecipe::Kind::uniform) {
    if (!quant::is_supported(recipe.format))
      fail("recipe format {} is not one pagoda computes with", gguf::name_of(recipe.format));
    if (recipe.output_format && !quant::is_supported(*recipe.output_format))
      fail("output format {} is not one pagoda computes with", gguf::name_of(*recipe.output_format));
  }
  const std::uint64_t d = shape.d_model, ffn = shape.d_ffn, vocab = shape.vocab;
  const std::uint64_t head_dim = shape.effective_head_dim();
  const std::uint64_t q_dim = shape.n_heads * head_dim, kv_dim = shape.n_kv_heads * head_dim;

  Planner p(shape, recipe);
  p.matrix("token_embd.weight", d, vocab, Role::embedding);
  if (shape.llama3_rope_factor > 0.0f) p.fixed("rope_freqs.weight", llama3_rope_factors(shape));
  for (std::uint32_t layer = 0; layer < shape.n_layers; ++layer) {
    const auto name = [layer](std::string_view part) { return fmt::format("blk.{}.{}", layer, part); };
    p.norm(name("attn_norm.weight"), d);
    p.matrix(name("attn_q.weight"), d, q_dim, Role::matrix, layer);
    p.matrix(name("attn_k.weight"), d, kv_dim, Role::matrix, layer);
    p.matrix(name("attn_v.weight"), d, kv_dim, Role::attn_v, layer);
    if (shape.qkv_bias) {
      p.bias(name("attn_q.bias"), q_dim);
      p.bias(name("attn_k.bias"), kv_dim);
      p.bias(name("attn_v.bias"), kv_dim);
    }
    p.matrix(name("attn_output.weight"), q_dim, d, Role::matrix, layer);
    if (shape.is_gemma3()) {
      p.norm(name("attn_q_norm.weight"), head_dim);
      p.norm(name("attn_k_norm.weight"), head_dim);
      p.norm(name("post_attention_norm.weight"), d);
    }
    p.norm(name("ffn_norm.weight"), d);
    p.matrix(name("ffn_gate.weight"), d, ffn, Role::matrix, layer);
    p.matrix(name("ffn_up.weight"), d, ffn, Role::matrix, layer);
    p.matrix(name("ffn_down.weight"), ffn, d, Role::ffn_down, layer);
    if (shape.is_gemma3()) p.norm(name("post_ffw_norm.weight"), d);
  }
  p.norm("output_norm.weight", d);
  if (!shape.tied_output) p.matrix("output.weight", d, vocab, Role::output);
  return p.take();
}

}  // namespace pagoda::model
