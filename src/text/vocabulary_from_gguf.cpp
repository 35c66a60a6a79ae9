// Reads a GGUF file's tokenizer.ggml.* keys into a Vocabulary. Strings are
// copied out of the file (the Vocabulary must outlive the mapping); every
// error names the file and the key.
#include <fmt/ranges.h>

#include <cstdint>
#include <limits>

#include "pagoda/core/error.hpp"
#include "pagoda/core/escape.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/text/pretokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"

namespace pagoda::text {
namespace {

constexpr std::string_view key_model = "tokenizer.ggml.model";
constexpr std::string_view key_pre = "tokenizer.ggml.pre";
constexpr std::string_view key_tokens = "tokenizer.ggml.tokens";
constexpr std::string_view key_scores = "tokenizer.ggml.scores";
constexpr std::string_view key_token_type = "tokenizer.ggml.token_type";
constexpr std::string_view key_merges = "tokenizer.ggml.merges";

void require_element_type(const gguf::File& file, std::string_view key, const gguf::ArrayValue& array,
                          bool want_strings) {
  const bool is_string = array.element_type() == gguf::ValueType::STRING;
  const bool is_nested = array.element_type() == gguf::ValueType::ARRAY;
  if (want_strings != is_string || is_nested) {
    fail("{}: {} is an array of {}, expected an array of {}", file.name(), key, gguf::name_of(array.element_type()),
         want_strings ? "strings" : "numbers");
  }
}

std::vector<std::string> strings_of(const gguf::File& file, std::string_view key) {
  const auto array = file.get<gguf::ArrayValue>(key);
  require_element_type(file, key, array, true);
  std::vector<std::string> out;
  out.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) out.emplace_back(array.string_at(i));
  return out;
}

std::vector<float> scores_of(const gguf::File& file) {
  const auto array = file.get_optional<gguf::ArrayValue>(key_scores);
  if (!array) return {};
  require_element_type(file, key_scores, *array, false);
  std::vector<float> out;
  out.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) out.push_back(static_cast<float>(array->at(i).as_double()));
  return out;
}

std::vector<TokenType> token_types_of(const gguf::File& file) {
  const auto array = file.get_optional<gguf::ArrayValue>(key_token_type);
  if (!array) return {};
  require_element_type(file, key_token_type, *array, false);
  std::vector<TokenType> out;
  out.reserve(array->size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    const gguf::Value value = array->at(i);
    if (!value.is_integer()) {
      fail("{}: {}[{}] is a {}, expected an integer token type", file.name(), key_token_type, i,
           gguf::name_of(value.type()));
    }
    const std::int64_t type = value.as_int64();
    if (type < 0 || type > static_cast<std::int64_t>(TokenType::Byte)) {
      fail("{}: {}[{}] = {} is not a token type (0..6)", file.name(), key_token_type, i, type);
    }
    out.push_back(static_cast<TokenType>(type));
  }
  return out;
}

std::optional<std::int32_t> token_id_of(const gguf::File& file, std::string_view key) {
  const auto id = file.get_optional<std::int64_t>(key);
  if (!id) return std::nullopt;
  if (*id < 0 || *id > std::numeric_limits<std::int32_t>::max()) {
    fail("{}: {} = {} is not a valid token id", file.name(), key, *id);
  }
  return static_cast<std::int32_t>(*id);
}

}  // namespace

Vocabulary vocabulary_from_gguf(const gguf::File& file) {
  Vocabulary v;
  v.source = file.name();

  const auto model = file.get<std::string_view>(key_model);
  if (model == "gpt2") {
    v.kind = TokenizerKind::ByteLevelBpe;
  } else if (model == "llama") {
    v.kind = TokenizerKind::SentencePiece;
  } else {
    fail("{}: {} = '{}' is not a tokenizer pagoda implements (supported: gpt2 = byte-level BPE, "
         "llama = SentencePiece-style)",
         file.name(), key_model, escaped(model));
  }

  const auto pre = file.get_optional<std::string_view>(key_pre);
  if (v.kind == TokenizerKind::ByteLevelBpe) {
    if (!pre) {
      fail("{}: {} is missing; byte-level BPE needs a pre-tokenizer (supported: {})", file.name(), key_pre,
           fmt::join(supported_pretokenizers(), ", "));
    }
    v.pretokenizer = std::string(*pre);
  } else {
    // SentencePiece-style vocabularies have no regex stage; llama.cpp ignores the key too.
    v.pretokenizer = std::string(pre.value_or("default"));
  }

  v.tokens = strings_of(file, key_tokens);
  v.scores = scores_of(file);
  v.token_types = token_types_of(file);
  if (v.kind == TokenizerKind::ByteLevelBpe) v.merges = strings_of(file, key_merges);

  v.bos_id = token_id_of(file, "tokenizer.ggml.bos_token_id");
  v.eos_id = token_id_of(file, "tokenizer.ggml.eos_token_id");
  v.unk_id = token_id_of(file, "tokenizer.ggml.unknown_token_id");
  v.pad_id = token_id_of(file, "tokenizer.ggml.padding_token_id");
  v.eot_id = token_id_of(file, "tokenizer.ggml.eot_token_id");

  const bool spm = v.kind == TokenizerKind::SentencePiece;
  v.add_bos = file.get_or<bool>("tokenizer.ggml.add_bos_token", spm);
  v.add_eos = file.get_or<bool>("tokenizer.ggml.add_eos_token", false);
  v.add_space_prefix = file.get_or<bool>("tokenizer.ggml.add_space_prefix", spm);

  validate(v);
  return v;
}

}  // namespace pagoda::text
