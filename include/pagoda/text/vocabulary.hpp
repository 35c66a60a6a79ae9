// A tokenizer vocabulary as plain data: what a GGUF file's tokenizer.ggml.*
// keys hold, copied out of the file so it outlives the mapping. Tests build
// small ones by hand; vocabulary_from_gguf() reads a real one. validate()
// checks the invariants every tokenizer relies on (parallel arrays agree,
// special ids are in range) and names the GGUF key at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pagoda::gguf {
class File;
}

namespace pagoda::text {

// tokenizer.ggml.model: which algorithm the vocabulary was made for.
enum class TokenizerKind {
  ByteLevelBpe,   // "gpt2": GPT-2 byte table, regex pre-tokenizer, merges by rank
  SentencePiece,  // "llama": U+2581 for space, merges by score, <0xNN> byte fallback
};

[[nodiscard]] std::string_view gguf_name_of(TokenizerKind kind);  // "gpt2" / "llama"

// GGUF token_type values (llama.cpp's llama_token_type).
enum class TokenType : std::int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,      // <|im_start|>, <bos>: matched in text only when asked, decoded only when asked
  UserDefined = 4,  // added pieces matched whole in any text, decoded as their text
  Unused = 5,
  Byte = 6,         // SentencePiece <0xNN>
};

struct Vocabulary {
  std::string source;             // where it came from (a file name), for error messages
  TokenizerKind kind = TokenizerKind::ByteLevelBpe;
  std::string pretokenizer;       // tokenizer.ggml.pre: "smollm", "llama-bpe", ...
  std::vector<std::string> tokens;
  std::vector<float> scores;           // empty, or one per token (SentencePiece merge priority)
  std::vector<TokenType> token_types;  // empty (all Normal), or one per token
  std::vector<std::string> merges;     // "left right", best first (byte-level BPE)
  std::optional<std::int32_t> bos_id;
  std::optional<std::int32_t> eos_id;
  std::optional<std::int32_t> unk_id;
  std::optional<std::int32_t> pad_id;
  std::optional<std::int32_t> eot_id;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SentencePiece: prepend "▁" to text that starts a prompt

  [[nodiscard]] std::size_t size() const { return tokens.size(); }
  [[nodiscard]] TokenType type_of(std::int32_t id) const {
    return token_types.empty() ? TokenType::Normal : token_types[static_cast<std::size_t>(id)];
  }
  [[nodiscard]] float score_of(std::int32_t id) const {
    return scores.empty() ? 0.0f : scores[static_cast<std::size_t>(id)];
  }
  [[nodiscard]] bool contains(std::int32_t id) const {
    return id >= 0 && static_cast<std::size_t>(id) < tokens.size();
  }
};

// Throws pagoda::Error, naming vocabulary.source and the GGUF key, when the
// arrays disagree in length, an id or token type is out of range, the vocabulary
// is empty, or a byte-level vocabulary names an unsupported pre-tokenizer.
void validate(const Vocabulary& vocabulary);

// Reads and validates the tokenizer.ggml.* keys of a GGUF file. Defaults for
// absent flags follow llama.cpp: SentencePiece adds BOS and a space prefix,
// byte-level BPE adds neither.
[[nodiscard]] Vocabulary vocabulary_from_gguf(const gguf::File& file);

}  // namespace pagoda::text
