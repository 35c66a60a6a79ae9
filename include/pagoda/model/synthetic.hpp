// Synthetic GGUF models: random quantized weights at the published shapes of
// real models (or custom ones), with valid metadata and a tokenizer section,
// so that pagoda, its benchmarks and any other GGUF engine can load them.
// Decode speed does not depend on weight values, so a synthetic 8B or 70B
// stands in for the real one in benchmarks; magnitudes are realistic enough
// (matrices ~0.02 std, norms ~1) that activations and logits stay finite.
//
// Every block's bytes come from a counter-based RNG keyed by (seed, tensor,
// block): the file is a pure function of the spec, whatever the thread count,
// and it streams through gguf::Writer's fill callbacks, so RAM stays small.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pagoda/gguf/tensor_type.hpp"
#include "pagoda/gguf/writer.hpp"
#include "pagoda/text/vocabulary.hpp"

namespace pagoda::model {

// Which family's tokenizer section a synthetic file carries: the control
// tokens, tokenizer.ggml.pre and the chat template of that family.
enum class TokenizerStyle {
  smollm,  // byte-level BPE, pre "smollm", ChatML with SmolLM2's default system prompt
  llama3,  // byte-level BPE, pre "llama-bpe", Llama 3 header template
  qwen2,   // byte-level BPE, pre "qwen2", ChatML with Qwen's default system prompt
  gemma,   // SentencePiece-style (scores, <0xNN> byte tokens), Gemma turn template
};

[[nodiscard]] std::string_view name_of(TokenizerStyle style);

struct SyntheticShape {
  std::string name;                  // "llama-3-8b", or "custom"
  std::string architecture = "llama";  // general.architecture: llama, qwen2 or gemma3
  std::uint32_t n_layers = 0;
  std::uint32_t d_model = 0;
  std::uint32_t n_heads = 0;
  std::uint32_t n_kv_heads = 0;
  std::uint32_t head_dim = 0;        // 0: d_model / n_heads
  std::uint32_t d_ffn = 0;
  std::uint32_t vocab = 0;
  std::uint32_t context = 4096;
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;          // no output.weight: logits use token_embd
  bool qkv_bias = false;             // qwen2: attn_{q,k,v}.bias
  float llama3_rope_factor = 0.0f;   // > 0: rope_freqs.weight as Llama 3.1+ scaling writes it
  std::uint32_t sliding_window = 0;  // gemma3: attention.sliding_window
  TokenizerStyle tokenizer = TokenizerStyle::llama3;

  [[nodiscard]] std::uint32_t effective_head_dim() const { return head_dim != 0 ? head_dim : d_model / n_heads; }
  [[nodiscard]] bool is_gemma3() const { return architecture == "gemma3"; }
};

// The named shapes, with the real models' published hyperparameters.
[[nodiscard]] std::span<const SyntheticShape> named_shapes();
// The named shape, or a pagoda::Error listing the names.
[[nodiscard]] const SyntheticShape& find_shape(std::string_view name);
// "layers=2,d=64,heads=4,kv=2,ffn=128,vocab=512[,head_dim=..,ctx=..,rope=..,eps=..,tied=0|1,
// arch=llama|qwen2|gemma3,tokenizer=llama3|smollm|qwen2|gemma]"; errors name the key and what it allows.
[[nodiscard]] SyntheticShape parse_custom_shape(std::string_view spec);
// Throws pagoda::Error naming the inconsistency (heads not dividing, vocab too small, ...).
void validate(const SyntheticShape& shape);

// How tensors are quantized. Norms, biases and rope factors always stay F32.
struct QuantRecipe {
  enum class Kind {
    uniform,  // every matrix in `format` (output.weight in output_format when set)
    q4_k_m,   // llama.cpp's Q4_K_M mix: Q4_K, with Q6_K for output.weight (and a tied
              // token_embd) and for attn_v / ffn_down in the layers use_more_bits picks
  };
  Kind kind = Kind::uniform;
  gguf::TensorType format = gguf::TensorType::Q4_0;
  // uniform only: output.weight (or a tied token_embd) in this format instead —
  // llama.cpp's own Q4_0 / Q8_0 files keep output.weight in Q6_K.
  std::optional<gguf::TensorType> output_format;

  [[nodiscard]] static QuantRecipe uniform(gguf::TensorType format, std::optional<gguf::TensorType> output = {}) {
    return {Kind::uniform, format, output};
  }
  [[nodiscard]] static QuantRecipe q4_k_m() { return {Kind::q4_k_m, gguf::TensorType::Q4_K, {}}; }
  [[nodiscard]] std::string name() const;  // "Q4_0", "Q4_K_M", "Q4_0 (output Q6_K)"
};

// "Q4_K_M" or a format name of quant::formats (case-insensitive); errors list them all.
[[nodiscard]] QuantRecipe parse_recipe(std::string_view name);
// A format name of quant::formats (case-insensitive), for output_format.
[[nodiscard]] gguf::TensorType parse_format(std::string_view name);
// The names parse_recipe accepts, in list order, Q4_K_M last.
[[nodiscard]] std::vector<std::string> recipe_names();
// use_more_bits of llama.cpp's Q4_K_M: the first and last eighth of the layers
// and every third layer in between get Q6_K for attn_v and ffn_down.
[[nodiscard]] bool q4_k_m_uses_more_bits(std::uint32_t layer, std::uint32_t n_layers);

// A tensor whose rows are not whole blocks of the recipe's format is stored
// in another format, as llama.cpp's quantizer does; each such case is reported.
struct QuantFallback {
  std::string tensor;
  gguf::TensorType wanted;
  gguf::TensorType used;
  std::uint64_t row_length;
};
[[nodiscard]] std::string describe(const QuantFallback& fallback);

// What a weight's values look like: matrices ~N(0, std), norms ~1 + small noise.
struct ValueModel {
  float mean = 0.0f;
  float std = 0.02f;
};

struct PlannedTensor {
  std::string name;
  std::vector<std::uint64_t> dims;  // dims[0] contiguous, as GGUF stores them
  gguf::TensorType type;
  ValueModel values;
  std::vector<float> fixed_values;  // non-empty: these exact F32 values (rope_freqs.weight)
};

struct SyntheticPlan {
  std::vector<PlannedTensor> tensors;
  std::vector<QuantFallback> fallbacks;
  std::uint64_t parameter_count = 0;
};

struct SyntheticSpec {
  SyntheticShape shape;
  QuantRecipe recipe;
  std::uint64_t seed = 1;
  unsigned threads = 0;  // generator threads; 0: one per hardware thread. Never changes the bytes.
  // Called after each streamed chunk with the tensor bytes done and their total.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

// Every tensor with its name, shape and format; no bytes yet.
[[nodiscard]] SyntheticPlan plan_tensors(const SyntheticShape& shape, const QuantRecipe& recipe);

// The tokenizer section: exactly shape.vocab tokens (byte tokens, synthetic
// merged tokens, the family's control tokens), and the chat template text.
struct SyntheticTokenizer {
  text::Vocabulary vocabulary;
  std::string chat_template;
};
[[nodiscard]] SyntheticTokenizer synthetic_tokenizer(const SyntheticShape& shape);
// The smallest vocab a style can hold: its byte tokens and control tokens (and base pieces).
[[nodiscard]] std::uint32_t minimum_vocab(TokenizerStyle style);

struct SyntheticReport {
  std::uint64_t file_bytes = 0;
  std::uint64_t tensor_bytes = 0;  // the tensors alone, as llama-bench's "size" column counts them
  std::size_t tensor_count = 0;
  std::uint64_t parameter_count = 0;
  std::vector<QuantFallback> fallbacks;
  double seconds = 0.0;  // write_synthetic only
};

// A Writer holding the metadata and every tensor as a fill callback; the
// bytes are generated when it writes. `report` (optional) receives the plan's summary.
[[nodiscard]] gguf::Writer synthetic_writer(const SyntheticSpec& spec, SyntheticReport* report = nullptr);
// The whole file in memory (tests and small shapes).
[[nodiscard]] std::vector<std::byte> synthetic_bytes(const SyntheticSpec& spec);
// Streams the file to `path` (via a temporary renamed over it).
SyntheticReport write_synthetic(const SyntheticSpec& spec, const std::filesystem::path& path);

}  // namespace pagoda::model
