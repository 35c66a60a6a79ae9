// The named shapes of synthetic models (the real models' published
// hyperparameters) and the parser of custom ones.
#include <algorithm>
#include <array>
#include <charconv>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "pagoda/core/error.hpp"
#include "pagoda/model/synthetic.hpp"

namespace pagoda::model {
namespace {

SyntheticShape llama(std::string name, std::uint32_t layers, std::uint32_t d, std::uint32_t heads, std::uint32_t kv,
                     std::uint32_t ffn, std::uint32_t vocab, std::uint32_t context, float rope_base, bool tied) {
  SyntheticShape s;
  s.name = std::move(name);
  s.n_layers = layers;
  s.d_model = d;
  s.n_heads = heads;
  s.n_kv_heads = kv;
  s.d_ffn = ffn;
  s.vocab = vocab;
  s.context = context;
  s.rope_base = rope_base;
  s.tied_output = tied;
  return s;
}

std::vector<SyntheticShape> make_named_shapes() {
  std::vector<SyntheticShape> shapes;
  // HuggingFaceTB/SmolLM2-135M: head_dim 64, rms eps 1e-5.
  auto smollm = llama("smollm2-135m", 30, 576, 9, 3, 1536, 49152, 8192, 100000.0f, true);
  smollm.tokenizer = TokenizerStyle::smollm;
  shapes.push_back(smollm);
  // meta-llama/Llama-3.2-1B: Llama 3.1-style RoPE scaling (factor 32) stored as rope_freqs.weight.
  auto llama_1b = llama("llama-3.2-1b", 16, 2048, 32, 8, 8192, 128256, 131072, 500000.0f, true);
  llama_1b.llama3_rope_factor = 32.0f;
  shapes.push_back(llama_1b);
  shapes.push_back(llama("llama-3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, 500000.0f, false));
  // Qwen/Qwen2.5-14B: biases on Q, K and V; RoPE over halves (qwen2 in llama.cpp).
  auto qwen = llama("qwen2.5-14b", 48, 5120, 40, 8, 13824, 152064, 131072, 1000000.0f, false);
  qwen.architecture = "qwen2";
  qwen.qkv_bias = true;
  qwen.tokenizer = TokenizerStyle::qwen2;
  shapes.push_back(qwen);
  // Qwen/Qwen2.5-0.5B: the small Qwen2 of the family, tied embeddings, rms eps 1e-6.
  auto qwen_small = llama("qwen2.5-0.5b", 24, 896, 14, 2, 4864, 151936, 32768, 1000000.0f, true);
  qwen_small.architecture = "qwen2";
  qwen_small.qkv_bias = true;
  qwen_small.rms_eps = 1e-6f;
  qwen_small.tokenizer = TokenizerStyle::qwen2;
  shapes.push_back(qwen_small);
  shapes.push_back(llama("llama-3-70b", 80, 8192, 64, 8, 28672, 128256, 8192, 500000.0f, false));
  // google/gemma-3-270m, as its GGUF metadata states: head_dim 256 (not 640 / 4),
  // QK norms and post-norms, sliding-window layers of 512.
  auto gemma = llama("gemma-3-270m", 18, 640, 4, 1, 2048, 262144, 32768, 1000000.0f, true);
  gemma.architecture = "gemma3";
  gemma.head_dim = 256;
  gemma.rms_eps = 1e-6f;
  gemma.sliding_window = 512;
  gemma.tokenizer = TokenizerStyle::gemma;
  shapes.push_back(gemma);
  return shapes;
}

constexpr std::array architectures{std::string_view("llama"), std::string_view("qwen2"), std::string_view("gemma3")};
constexpr std::array tokenizer_styles{TokenizerStyle::smollm, TokenizerStyle::llama3, TokenizerStyle::qwen2,
                                      TokenizerStyle::gemma};

std::uint32_t parse_count(std::string_view key, std::string_view value) {
  std::uint32_t out = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (error != std::errc{} || end != value.data() + value.size())
    fail("--custom: {}={} is not a non-negative integer", key, value);
  return out;
}

float parse_positive_float(std::string_view key, std::string_view value) {
  std::string text(value);
  std::size_t used = 0;
  float out = 0.0f;
  try {
    out = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(out > 0.0f)) fail("--custom: {}={} is not a positive number", key, value);
  return out;
}

TokenizerStyle parse_style(std::string_view value) {
  for (const auto style : tokenizer_styles)
    if (name_of(style) == value) return style;
  fail("--custom: tokenizer={} is not a tokenizer style; allowed: smollm, llama3, qwen2, gemma", value);
}

}  // namespace

std::string_view name_of(TokenizerStyle style) {
  switch (style) {
    case TokenizerStyle::smollm: return "smollm";
    case TokenizerStyle::llama3: return "llama3";
    case TokenizerStyle::qwen2: return "qwen2";
    case TokenizerStyle::gemma: return "gemma";
  }
  return "unknown";
}

std::span<const SyntheticShape> named_shapes() {
  static const std::vector<SyntheticShape> shapes = make_named_shapes();
  return shapes;
}

const SyntheticShape& find_shape(std::string_view name) {
  for (const auto& shape : named_shapes())
    if (shape.name == name) return shape;
  std::vector<std::string_view> names;
  for (const auto& shape : named_shapes()) names.push_back(shape.name);
  fail("'{}' is not a named shape; allowed: {}", name, fmt::join(names, ", "));
}

SyntheticShape parse_custom_shape(std::string_view spec) {
  SyntheticShape s;
  s.name = "custom";
  bool style_given = false;
  std::vector<std::string> seen;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    const std::size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string_view item = spec.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) fail("--custom: '{}' is not key=value", item);
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) fail("--custom: {} is given twice", key);
    seen.emplace_back(key);
    if (key == "layers") s.n_layers = parse_count(key, value);
    else if (key == "d") s.d_model = parse_count(key, value);
    else if (key == "heads") s.n_heads = parse_count(key, value);
    else if (key == "kv") s.n_kv_heads = parse_count(key, value);
    else if (key == "head_dim") s.head_dim = parse_count(key, value);
    else if (key == "ffn") s.d_ffn = parse_count(key, value);
    else if (key == "vocab") s.vocab = parse_count(key, value);
    else if (key == "ctx") s.context = parse_count(key, value);
    else if (key == "rope") s.rope_base = parse_positive_float(key, value);
    else if (key == "eps") s.rms_eps = parse_positive_float(key, value);
    else if (key == "tied") {
      if (value != "0" && value != "1") fail("--custom: tied={} must be 0 or 1", value);
      s.tied_output = value == "1";
    } else if (key == "arch") {
      if (std::find(architectures.begin(), architectures.end(), value) == architectures.end())
        fail("--custom: arch={} is not an architecture the generator writes; allowed: {}", value,
             fmt::join(architectures, ", "));
      s.architecture = std::string(value);
    } else if (key == "tokenizer") {
      s.tokenizer = parse_style(value);
      style_given = true;
    } else {
      fail("--custom: unknown key '{}'; allowed: layers, d, heads, kv, ffn, vocab (required), head_dim, ctx, rope, "
           "eps, tied, arch, tokenizer",
           key);
    }
  }
  for (const std::string_view required : {"layers", "d", "heads", "ffn", "vocab"})
    if (std::find(seen.begin(), seen.end(), required) == seen.end())
      fail("--custom: {}= is required (layers, d, heads, ffn and vocab are)", required);
  if (std::find(seen.begin(), seen.end(), "kv") == seen.end()) s.n_kv_heads = s.n_heads;
  if (s.architecture == "qwen2") {
    s.qkv_bias = true;
    if (!style_given) s.tokenizer = TokenizerStyle::qwen2;
  } else if (s.architecture == "gemma3") {
    s.sliding_window = 512;
    if (!style_given) s.tokenizer = TokenizerStyle::gemma;
  }
  validate(s);
  return s;
}

void validate(const SyntheticShape& s) {
  const auto positive = [&](std::uint32_t value, std::string_view what) {
    if (value == 0) fail("shape '{}': {} must be positive", s.name, what);
  };
  positive(s.n_layers, "layers");
  positive(s.d_model, "d");
  positive(s.n_heads, "heads");
  positive(s.n_kv_heads, "kv");
  positive(s.d_ffn, "ffn");
  positive(s.vocab, "vocab");
  positive(s.context, "ctx");
  if (std::find(architectures.begin(), architectures.end(), s.architecture) == architectures.end())
    fail("shape '{}': architecture '{}' is not one the generator writes ({})", s.name, s.architecture,
         fmt::join(architectures, ", "));
  if (s.n_heads % s.n_kv_heads != 0)
    fail("shape '{}': {} heads cannot be grouped over {} KV heads", s.name, s.n_heads, s.n_kv_heads);
  if (s.head_dim == 0 && s.d_model % s.n_heads != 0)
    fail("shape '{}': d={} is not a multiple of heads={} (give head_dim)", s.name, s.d_model, s.n_heads);
  if (s.effective_head_dim() % 2 != 0)
    fail("shape '{}': head_dim {} must be even for RoPE", s.name, s.effective_head_dim());
  if (!(s.rope_base > 0.0f) || !(s.rms_eps > 0.0f)) fail("shape '{}': rope base and rms eps must be positive", s.name);
  if (s.vocab < minimum_vocab(s.tokenizer))
    fail("shape '{}': vocab={} is too small for the {} tokenizer (at least {})", s.name, s.vocab,
         name_of(s.tokenizer), minimum_vocab(s.tokenizer));
}

}  // namespace pagoda::model
