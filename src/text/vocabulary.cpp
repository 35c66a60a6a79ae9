// Vocabulary invariants, checked once so the tokenizers can index freely.
#include "pagoda/text/vocabulary.hpp"
#include "pagoda/core/escape.hpp"

#include <fmt/ranges.h>

#include "pagoda/core/error.hpp"
#include "pagoda/text/pretokenizer.hpp"

namespace pagoda::text {
namespace {

void check_id(const Vocabulary& v, std::string_view source, const std::optional<std::int32_t>& id,
              std::string_view key) {
  if (id && !v.contains(*id)) {
    fail("{}: {} = {} is out of range (the vocabulary has {} tokens)", source, key, *id, v.size());
  }
}

}  // namespace

std::string_view gguf_name_of(TokenizerKind kind) {
  switch (kind) {
    case TokenizerKind::ByteLevelBpe: return "gpt2";
    case TokenizerKind::SentencePiece: return "llama";
  }
  return "?";
}

void validate(const Vocabulary& v) {
  const std::string_view source = v.source.empty() ? std::string_view("vocabulary") : std::string_view(v.source);
  if (v.tokens.empty()) fail("{}: tokenizer.ggml.tokens is empty", source);
  if (v.tokens.size() > static_cast<std::size_t>(INT32_MAX)) {
    fail("{}: tokenizer.ggml.tokens has {} entries, more than 32-bit token ids can address", source, v.size());
  }
  if (!v.scores.empty() && v.scores.size() != v.size()) {
    fail("{}: tokenizer.ggml.scores has {} entries but tokenizer.ggml.tokens has {}", source, v.scores.size(), v.size());
  }
  if (!v.token_types.empty() && v.token_types.size() != v.size()) {
    fail("{}: tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}", source,
         v.token_types.size(), v.size());
  }
  for (std::size_t i = 0; i < v.token_types.size(); ++i) {
    const auto type = static_cast<std::int32_t>(v.token_types[i]);
    if (type < 0 || type > static_cast<std::int32_t>(TokenType::Byte)) {
      fail("{}: tokenizer.ggml.token_type[{}] = {} is not a token type (0..6)", source, i, type);
    }
  }
  check_id(v, source, v.bos_id, "tokenizer.ggml.bos_token_id");
  check_id(v, source, v.eos_id, "tokenizer.ggml.eos_token_id");
  check_id(v, source, v.unk_id, "tokenizer.ggml.unknown_token_id");
  check_id(v, source, v.pad_id, "tokenizer.ggml.padding_token_id");
  check_id(v, source, v.eot_id, "tokenizer.ggml.eot_token_id");
  if (v.kind == TokenizerKind::ByteLevelBpe && !is_supported_pretokenizer(v.pretokenizer)) {
    fail("{}: tokenizer.ggml.pre = '{}' is not a pre-tokenizer pagoda implements (supported: {})", source,
         escaped(v.pretokenizer), fmt::join(supported_pretokenizers(), ", "));
  }
}

}  // namespace pagoda::text
