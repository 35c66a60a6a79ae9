// The architectures pagoda runs, as data: each is a name (general.architecture)
// plus the few facts in which its layers differ from a plain llama block. The
// forward passes (CPU oracle and GPU engine) read these facts; none of them
// is a copy per model. Adding an architecture is a row in
// supported_architectures and, only when its layers do something new, one
// more fact here and its step in the forward passes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pagoda::model {

// How RoPE pairs the dimensions of a head: adjacent pairs (2i, 2i+1), as in
// llama-family GGUFs whose converter permuted Q/K, or halves (i, i + d/2), as
// GPT-NeoX, Qwen2 and Gemma do.
enum class RopeLayout { interleaved, neox };

// The gated feed-forward block computes down(act(gate(x)) * up(x)); act is:
enum class FfnActivation {
  silu,       // SwiGLU: g / (1 + exp(-g)) (llama, qwen2)
  gelu_tanh,  // GeGLU: 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))) (gemma, "gelu_pytorch_tanh")
};

[[nodiscard]] std::string_view name_of(FfnActivation activation);

// Layers that attend over a sliding window of recent positions instead of the
// whole context. With period p, layer l (from 0) is global when (l + 1) % p
// == 0 and sliding otherwise (Gemma 3: five sliding layers, then one global).
// The window size comes from "<arch>.attention.sliding_window"; sliding layers
// rotate with their own RoPE base and no RoPE scaling.
struct SlidingWindowPattern {
  std::uint32_t period = 0;    // 0: every layer is global
  float local_rope_base = 0;   // RoPE base of the sliding layers
};

struct Architecture {
  std::string_view name;  // general.architecture, also the metadata key prefix
  RopeLayout rope_layout = RopeLayout::interleaved;
  FfnActivation ffn_activation = FfnActivation::silu;
  bool qkv_bias = false;           // attn_{q,k,v}.bias added after the projections
  bool qk_norm = false;            // attn_{q,k}_norm: RMSNorm of every head of Q and K before RoPE
  bool post_norms = false;         // post_attention_norm / post_ffw_norm on each block's output, before the residual add
  bool scaled_embedding = false;   // token embeddings multiplied by sqrt(d_model)
  SlidingWindowPattern sliding{};
  std::string_view chat_template;  // template by name when the file has no tokenizer.chat_template; empty: none
};

inline constexpr std::array supported_architectures{
    Architecture{.name = "llama", .rope_layout = RopeLayout::interleaved},
    Architecture{.name = "qwen2", .rope_layout = RopeLayout::neox, .qkv_bias = true, .chat_template = "chatml"},
    // GGUF converters fold Gemma's (1 + weight) RMSNorm into the stored norm
    // weights, so its norms are plain RMSNorms here. The 1/sqrt(head_dim)
    // attention scale is query_pre_attn_scalar^-0.5 of every size but 27B.
    Architecture{.name = "gemma3",
                 .rope_layout = RopeLayout::neox,
                 .ffn_activation = FfnActivation::gelu_tanh,
                 .qk_norm = true,
                 .post_norms = true,
                 .scaled_embedding = true,
                 .sliding = {.period = 6, .local_rope_base = 10000.0f},
                 .chat_template = "gemma"},
};

// The architecture called `name`, or an error naming it and listing those pagoda supports.
[[nodiscard]] Architecture find_architecture(std::string_view name, std::string_view file_name);

// "llama, qwen2, gemma3" — for error messages.
[[nodiscard]] std::string supported_architecture_names();

}  // namespace pagoda::model
