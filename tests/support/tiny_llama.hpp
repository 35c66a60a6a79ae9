// A tiny llama-architecture GGUF with seeded random weights in a mix of
// formats (F32 norms, Q8_0 embedding, Q4_0 attention, F16 output projection,
// Q8_0 FFN), built in memory with gguf::Writer. Small enough for exhaustive
// oracle checks; odd enough (GQA 4:2, 2 layers) to catch indexing slips.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "pagoda/gguf/writer.hpp"
#include "pagoda/quant/half.hpp"

namespace pagoda::test {

struct TinyLlamaShape {
  std::uint32_t n_layers = 2, d_model = 64, n_heads = 4, n_kv_heads = 2, d_ffn = 96, vocab = 128, context = 64;
  bool tied_output = false;
  float rope_base = 10000.0f;
  std::string omit_tensor;                                  // leave this tensor out (error tests)
  std::string retype_tensor;                                // store this tensor as `retype_to` instead
  gguf::TensorType retype_to = gguf::TensorType::Q8_0;
};

// Random weights of `type` for a (cols) x rows tensor: values ~ N(0, scale)
// for float types; random codes with an f16 scale d = `scale` / 4 at the start
// of every block for Q4_0 / Q8_0 (their block layout begins with d).
inline std::vector<std::byte> random_tensor_bytes(gguf::TensorType type, std::uint64_t cols, std::uint64_t rows,
                                                  float scale, std::mt19937& rng) {
  const auto geometry = gguf::geometry_of(type);
  const std::uint64_t blocks = cols * rows / geometry.block_elements;
  std::vector<std::byte> bytes(blocks * geometry.block_bytes);
  std::normal_distribution<float> normal(0.0f, scale);
  std::uniform_int_distribution<int> byte(0, 255);
  if (type == gguf::TensorType::F32) {
    for (std::uint64_t i = 0; i < cols * rows; ++i) {
      const float v = normal(rng);
      std::memcpy(bytes.data() + i * 4, &v, 4);
    }
  } else if (type == gguf::TensorType::F16) {
    for (std::uint64_t i = 0; i < cols * rows; ++i) {
      const auto h = quant::f32_to_f16(normal(rng));
      std::memcpy(bytes.data() + i * 2, &h, 2);
    }
  } else {
    for (auto& b : bytes) b = static_cast<std::byte>(byte(rng));
    const auto d = quant::f32_to_f16(scale / 4.0f);
    for (std::uint64_t i = 0; i < blocks; ++i) std::memcpy(bytes.data() + i * geometry.block_bytes, &d, 2);
  }
  return bytes;
}

inline gguf::Writer tiny_llama_writer(const TinyLlamaShape& s, std::uint32_t seed = 1) {
  std::mt19937 rng(seed);
  gguf::Writer w;
  const std::uint32_t head_dim = s.d_model / s.n_heads;
  w.add("general.architecture", std::string_view("llama"));
  w.add("general.name", std::string_view("tiny-llama"));
  w.add("llama.block_count", s.n_layers);
  w.add("llama.embedding_length", s.d_model);
  w.add("llama.feed_forward_length", s.d_ffn);
  w.add("llama.attention.head_count", s.n_heads);
  w.add("llama.attention.head_count_kv", s.n_kv_heads);
  w.add("llama.context_length", s.context);
  w.add("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.add("llama.rope.freq_base", s.rope_base);
  w.add("llama.rope.dimension_count", head_dim);
  w.add("llama.vocab_size", s.vocab);

  const auto add = [&](const std::string& name, std::vector<std::uint64_t> dims, gguf::TensorType type, float scale) {
    if (name == s.omit_tensor) return;
    if (name == s.retype_tensor) type = s.retype_to;
    const auto bytes = random_tensor_bytes(type, dims[0], dims.size() > 1 ? dims[1] : 1, scale, rng);
    w.add_tensor(name, std::move(dims), type, bytes);
  };
  const auto add_norm = [&](const std::string& name) {
    std::vector<float> ones(s.d_model);
    for (auto& v : ones) v = 1.0f + std::normal_distribution<float>(0.0f, 0.1f)(rng);
    w.add_tensor(name, {s.d_model}, gguf::TensorType::F32, std::as_bytes(std::span(ones)));
  };
  using T = gguf::TensorType;
  add("token_embd.weight", {s.d_model, s.vocab}, T::Q8_0, 1.0f);
  add_norm("output_norm.weight");
  if (!s.tied_output) add("output.weight", {s.d_model, s.vocab}, T::F16, 0.1f);
  for (std::uint32_t l = 0; l < s.n_layers; ++l) {
    const auto name = [l](const char* part) { return fmt::format("blk.{}.{}.weight", l, part); };
    add_norm(name("attn_norm"));
    add(name("attn_q"), {s.d_model, s.n_heads * head_dim}, T::Q4_0, 0.2f);
    add(name("attn_k"), {s.d_model, s.n_kv_heads * head_dim}, T::Q4_0, 0.2f);
    add(name("attn_v"), {s.d_model, s.n_kv_heads * head_dim}, T::Q8_0, 0.2f);
    add(name("attn_output"), {s.n_heads * head_dim, s.d_model}, T::F16, 0.1f);
    add_norm(name("ffn_norm"));
    add(name("ffn_gate"), {s.d_model, s.d_ffn}, T::Q8_0, 0.2f);
    add(name("ffn_up"), {s.d_model, s.d_ffn}, T::Q8_0, 0.2f);
    add(name("ffn_down"), {s.d_ffn, s.d_model}, T::F32, 0.1f);
  }
  return w;
}

}  // namespace pagoda::test
