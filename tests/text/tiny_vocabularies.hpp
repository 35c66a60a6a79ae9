// Hand-made vocabularies small enough to reason about in a test: every
// expected token sequence below can be worked out on paper.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "pagoda/core/error.hpp"
#include "pagoda/text/byte_level.hpp"
#include "pagoda/text/vocabulary.hpp"

namespace pagoda::text::testing {

// The message of the pagoda::Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const pagoda::Error& e) {
    return e.what();
  }
  return "";
}

inline std::int32_t id_of(const Vocabulary& v, std::string_view text) {
  const auto it = std::find(v.tokens.begin(), v.tokens.end(), text);
  REQUIRE_MESSAGE(it != v.tokens.end(), "no token '" << std::string(text) << "'");
  return static_cast<std::int32_t>(it - v.tokens.begin());
}

inline void add_token(Vocabulary& v, std::string text, TokenType type, float score = 0.0f) {
  v.tokens.push_back(std::move(text));
  v.token_types.push_back(type);
  v.scores.push_back(score);
}

// A byte-level BPE vocabulary: the 256 byte symbols (ids 0..255, in byte
// order), then the result of each merge in rank order (merges are written
// in byte-level spelling: "Ġ" for a space), then the special tokens
// <|endoftext|>, <|im_start|>, <|im_end|> (control) and <tool> (user-defined).
inline Vocabulary tiny_bpe(std::vector<std::string> merges, std::string pretokenizer = "gpt2") {
  Vocabulary v;
  v.source = "tiny-bpe";
  v.kind = TokenizerKind::ByteLevelBpe;
  v.pretokenizer = std::move(pretokenizer);
  for (unsigned byte = 0; byte < 256; ++byte) {
    add_token(v, byte_level::symbol_of(static_cast<std::uint8_t>(byte)), TokenType::Normal);
  }
  for (const std::string& merge : merges) {
    const auto space = merge.find(' ', 1);
    std::string joined = merge.substr(0, space) + merge.substr(space + 1);
    if (std::find(v.tokens.begin(), v.tokens.end(), joined) == v.tokens.end()) {
      add_token(v, std::move(joined), TokenType::Normal);
    }
  }
  v.merges = std::move(merges);
  add_token(v, "<|endoftext|>", TokenType::Control);
  add_token(v, "<|im_start|>", TokenType::Control);
  add_token(v, "<|im_end|>", TokenType::Control);
  add_token(v, "<tool>", TokenType::UserDefined);
  v.bos_id = id_of(v, "<|im_start|>");
  v.eos_id = id_of(v, "<|im_end|>");
  v.unk_id = id_of(v, "<|endoftext|>");
  return v;
}

// A SentencePiece-style vocabulary in Llama 2's layout: <unk>, <s>, </s>,
// the 256 <0xNN> byte tokens, then scored pieces, then Gemma-like control
// tokens <start_of_turn> / <end_of_turn> and a user-defined "<br>".
struct ScoredPiece {
  std::string text;
  float score;
};

inline Vocabulary tiny_spm(const std::vector<ScoredPiece>& pieces, bool add_space_prefix = true) {
  Vocabulary v;
  v.source = "tiny-spm";
  v.kind = TokenizerKind::SentencePiece;
  v.pretokenizer = "default";
  add_token(v, "<unk>", TokenType::Unknown);
  add_token(v, "<s>", TokenType::Control);
  add_token(v, "</s>", TokenType::Control);
  for (unsigned byte = 0; byte < 256; ++byte) {
    static constexpr char hex[] = "0123456789ABCDEF";
    add_token(v, std::string("<0x") + hex[byte >> 4] + hex[byte & 15] + ">", TokenType::Byte);
  }
  for (const ScoredPiece& p : pieces) add_token(v, p.text, TokenType::Normal, p.score);
  add_token(v, "<start_of_turn>", TokenType::Control);
  add_token(v, "<end_of_turn>", TokenType::Control);
  add_token(v, "<br>", TokenType::UserDefined);
  v.unk_id = 0;
  v.bos_id = 1;
  v.eos_id = 2;
  v.add_bos = true;
  v.add_space_prefix = add_space_prefix;
  return v;
}

// Strings that have broken tokenizers before: accents (composed and
// combining), CJK, emoji with modifiers and joiners, Unicode digits, odd
// whitespace, contractions, and empty / all-space text.
inline const std::vector<std::string>& tricky_strings() {
  static const std::vector<std::string> strings = {
      "",
      " ",
      "   ",
      "Hello world",
      "  two leading spaces and trailing  ",
      "tabs\tand\nnew\r\nlines\n\n",
      "café naïve Ünïcödé",
      "e\xCC\x81 combining acute, a\xCC\x88 combining diaeresis",
      "日本語のテキスト、中文",
      "emoji \xF0\x9F\x98\x80 thumbs \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD family "
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
      "Arabic-Indic \xD9\xA3\xD9\xA4 and 12345 and \xC2\xBD",
      "it's don't we'll THEY'RE",
      "code: def f(x):\n    return x**2  # ok",
      "\xC2\xA0no-break\xE2\x80\x83" "em space\xE3\x80\x80ideographic",
  };
  return strings;
}

}  // namespace pagoda::text::testing
