// The tokenizer section of synthetic models. Byte-level styles: the 256
// GPT-2 byte symbols, then merged tokens, each the concatenation of two
// earlier ones with its "left right" merge (rank = creation order), then the
// family's control tokens. The gemma style is SentencePiece-like: control
// tokens, <0xNN> byte tokens, single characters, then merged pieces scored by
// creation order. Merged tokens are built from letters (and a leading space)
// so real text merges into them; the vocabulary depends only on the shape.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/model/synthetic_blocks.hpp"
#include "pagoda/text/byte_level.hpp"
#include "pagoda/text/spm_tokenizer.hpp"

namespace pagoda::model {
namespace {

using text::TokenType;

constexpr std::size_t max_token_bytes = 24;
constexpr std::uint32_t llama3_special_count = 256;  // Llama 3 reserves ids 128000..128255

const std::vector<std::string>& named_controls(TokenizerStyle style) {
  static const std::vector<std::string> smollm{"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  static const std::vector<std::string> llama3{
      "<|begin_of_text|>",        "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
      "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
      "<|eom_id|>",               "<|eot_id|>",      "<|python_tag|>"};
  static const std::vector<std::string> qwen2{
      "<|endoftext|>",  "<|im_start|>", "<|im_end|>",     "<|object_ref_start|>", "<|object_ref_end|>",
      "<|box_start|>",  "<|box_end|>",  "<|quad_start|>", "<|quad_end|>",         "<|vision_start|>",
      "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"};
  static const std::vector<std::string> gemma{"<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "<start_of_turn>",
                                              "<end_of_turn>"};
  switch (style) {
    case TokenizerStyle::smollm: return smollm;
    case TokenizerStyle::llama3: return llama3;
    case TokenizerStyle::qwen2: return qwen2;
    case TokenizerStyle::gemma: return gemma;
  }
  return llama3;
}

// Llama 3 pads its control tokens with reserved ones up to 256, where the
// vocabulary is large enough for that to leave room for merged tokens.
std::vector<std::string> controls_for(const SyntheticShape& shape) {
  std::vector<std::string> controls = named_controls(shape.tokenizer);
  if (shape.tokenizer == TokenizerStyle::llama3 && shape.vocab >= 256 + llama3_special_count + 1024) {
    for (std::size_t i = controls.size(); i < llama3_special_count; ++i)
      controls.push_back(fmt::format("<|reserved_special_token_{}|>", i - 8));
  }
  return controls;
}

// The characters SentencePiece-style vocabularies start from, after "▁".
constexpr std::string_view spm_base_characters =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()";

constexpr std::string_view smollm_template =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
constexpr std::string_view qwen2_template =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\n"
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
constexpr std::string_view llama3_template =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
    "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
constexpr std::string_view gemma_template =
    "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else "
    "message['role'] %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";

// Grows a vocabulary by concatenating pairs of existing pieces. `left` and
// `right` are the candidate pools (indices into tokens); new pieces join both
// pools unless they start with `word_start`, which only begins a word.
class PieceGrower {
public:
  PieceGrower(std::vector<std::string>& tokens, std::unordered_set<std::string>& taken, std::string word_start,
              std::uint64_t seed)
      : tokens_(tokens), taken_(taken), word_start_(std::move(word_start)), rng_(synth::mix64(seed)) {}

  void add_seed_piece(std::int32_t id) {
    left_.push_back(id);
    if (!tokens_[static_cast<std::size_t>(id)].starts_with(word_start_)) right_.push_back(id);
  }

  // Appends one new piece; returns the ids it was made of.
  std::pair<std::int32_t, std::int32_t> grow() {
    for (int attempt = 0;; ++attempt) {
      // Squaring the draw favours early (short, frequent) pieces, as real merges do;
      // after many collisions, draw uniformly to reach the rarer combinations.
      const auto pick = [&](const std::vector<std::int32_t>& pool) {
        const float u = rng_.unit();
        const float biased = attempt < 32 ? u * u : u;
        return pool[std::min(pool.size() - 1, static_cast<std::size_t>(biased * static_cast<float>(pool.size())))];
      };
      const std::int32_t a = pick(left_);
      const std::int32_t b = pick(right_);
      std::string piece = tokens_[static_cast<std::size_t>(a)] + tokens_[static_cast<std::size_t>(b)];
      if (piece.size() > max_token_bytes || taken_.contains(piece)) continue;
      taken_.insert(piece);
      tokens_.push_back(std::move(piece));
      add_seed_piece(static_cast<std::int32_t>(tokens_.size() - 1));
      return {a, b};
    }
  }

private:
  std::vector<std::string>& tokens_;
  std::unordered_set<std::string>& taken_;
  std::string word_start_;
  synth::SplitMix64 rng_;
  std::vector<std::int32_t> left_, right_;
};

void byte_level_tokens(const SyntheticShape& shape, text::Vocabulary& v) {
  const auto controls = controls_for(shape);
  std::unordered_set<std::string> taken(controls.begin(), controls.end());
  const std::string space = text::byte_level::symbol_of(' ');
  PieceGrower grower(v.tokens, taken, space, 0x5eed0001u + static_cast<std::uint64_t>(shape.tokenizer));
  for (unsigned byte = 0; byte < 256; ++byte) {
    v.tokens.push_back(text::byte_level::symbol_of(static_cast<std::uint8_t>(byte)));
    taken.insert(v.tokens.back());
    const bool letter = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z');
    if (letter || byte == ' ') grower.add_seed_piece(static_cast<std::int32_t>(byte));
  }
  const std::size_t merged = shape.vocab - 256 - controls.size();
  v.merges.reserve(merged);
  for (std::size_t i = 0; i < merged; ++i) {
    const auto [a, b] = grower.grow();
    v.merges.push_back(v.tokens[static_cast<std::size_t>(a)] + " " + v.tokens[static_cast<std::size_t>(b)]);
  }
  v.token_types.assign(v.tokens.size(), TokenType::Normal);
  for (const auto& control : controls) {
    v.tokens.push_back(control);
    v.token_types.push_back(TokenType::Control);
  }
}

void sentencepiece_tokens(const SyntheticShape& shape, text::Vocabulary& v) {
  const auto& controls = named_controls(TokenizerStyle::gemma);
  std::unordered_set<std::string> taken;
  for (const auto& control : controls) {
    v.tokens.push_back(control);
    v.token_types.push_back(control == "<unk>" ? TokenType::Unknown : TokenType::Control);
  }
  for (unsigned byte = 0; byte < 256; ++byte) {
    v.tokens.push_back(fmt::format("<0x{:02X}>", byte));
    v.token_types.push_back(TokenType::Byte);
  }
  taken.insert(v.tokens.begin(), v.tokens.end());
  v.scores.assign(v.tokens.size(), 0.0f);
  PieceGrower grower(v.tokens, taken, std::string(text::spm_space), 0x5eed0002u);
  const auto add_piece = [&](std::string piece) {
    taken.insert(piece);
    v.tokens.push_back(std::move(piece));
    grower.add_seed_piece(static_cast<std::int32_t>(v.tokens.size() - 1));
  };
  add_piece(std::string(text::spm_space));
  for (const char c : spm_base_characters) add_piece(std::string(1, c));
  while (v.tokens.size() < shape.vocab) (void)grower.grow();
  // Higher score merges first: earlier (shorter) pieces win, as in trained vocabularies.
  for (std::size_t i = v.scores.size(); i < v.tokens.size(); ++i) v.scores.push_back(-static_cast<float>(i));
  v.token_types.resize(v.tokens.size(), TokenType::Normal);
}

std::int32_t id_of(const text::Vocabulary& v, std::string_view token) {
  for (std::size_t i = v.tokens.size(); i-- > 0;)
    if (v.tokens[i] == token) return static_cast<std::int32_t>(i);
  fail("synthetic vocabulary: no token '{}'", token);
}

}  // namespace

std::uint32_t minimum_vocab(TokenizerStyle style) {
  const auto controls = static_cast<std::uint32_t>(named_controls(style).size());
  const auto base_pieces = 1 + static_cast<std::uint32_t>(spm_base_characters.size());  // "▁" and the characters
  if (style == TokenizerStyle::gemma) return controls + 256 + base_pieces;
  return 256 + controls;
}

SyntheticTokenizer synthetic_tokenizer(const SyntheticShape& shape) {
  validate(shape);
  SyntheticTokenizer out;
  text::Vocabulary& v = out.vocabulary;
  v.source = fmt::format("synthetic {}", shape.name);
  v.tokens.reserve(shape.vocab);
  switch (shape.tokenizer) {
    case TokenizerStyle::smollm:
      v.pretokenizer = "smollm";
      byte_level_tokens(shape, v);
      v.bos_id = id_of(v, "<|im_start|>");
      v.eos_id = id_of(v, "<|im_end|>");
      v.unk_id = id_of(v, "<|endoftext|>");
      v.pad_id = id_of(v, "<|im_end|>");
      out.chat_template = smollm_template;
      break;
    case TokenizerStyle::llama3:
      v.pretokenizer = "llama-bpe";
      byte_level_tokens(shape, v);
      v.bos_id = id_of(v, "<|begin_of_text|>");
      v.eos_id = id_of(v, "<|eot_id|>");
      v.eot_id = id_of(v, "<|eot_id|>");
      v.add_bos = true;
      out.chat_template = llama3_template;
      break;
    case TokenizerStyle::qwen2:
      v.pretokenizer = "qwen2";
      byte_level_tokens(shape, v);
      v.bos_id = id_of(v, "<|endoftext|>");
      v.eos_id = id_of(v, "<|im_end|>");
      v.pad_id = id_of(v, "<|endoftext|>");
      out.chat_template = qwen2_template;
      break;
    case TokenizerStyle::gemma:
      v.kind = text::TokenizerKind::SentencePiece;
      v.pretokenizer = "default";
      sentencepiece_tokens(shape, v);
      v.bos_id = id_of(v, "<bos>");
      v.eos_id = id_of(v, "<eos>");
      v.unk_id = id_of(v, "<unk>");
      v.pad_id = id_of(v, "<pad>");
      v.add_bos = true;
      v.add_space_prefix = false;  // as Gemma 3's GGUF states
      out.chat_template = gemma_template;
      break;
  }
  if (v.tokens.size() != shape.vocab)
    fail("synthetic vocabulary for '{}' has {} tokens, expected {}", shape.name, v.tokens.size(), shape.vocab);
  return out;
}

}  // namespace pagoda::model
