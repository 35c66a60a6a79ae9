#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/text/pretokenizer.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda::text;
using Pieces = std::vector<std::string>;

namespace {

Pieces split(std::string_view name, std::string_view text) {
  const Pretokenizer pretokenizer(name);
  Pieces pieces;
  std::string joined;
  for (std::string_view piece : pretokenizer.split(text)) {
    pieces.emplace_back(piece);
    joined += piece;
  }
  CHECK(joined == text);  // nothing is lost or reordered
  return pieces;
}

}  // namespace

TEST_CASE("gpt2 keeps a word's leading space with it and splits contractions") {
  CHECK(split("gpt2", "Hello world's 123 !!") == Pieces{"Hello", " world", "'s", " 123", " !!"});
  CHECK(split("gpt2", "a  b") == Pieces{"a", " ", " b"});  // the last space goes with the word
  CHECK(split("gpt2", "x   ") == Pieces{"x", "   "});
  CHECK(split("gpt2", "line\n\nnext") == Pieces{"line", "\n", "\n", "next"});
  CHECK(split("gpt-2", "a b") == Pieces{"a", " b"});  // llama.cpp's spelling of the name
}

TEST_CASE("gpt2 splits by real Unicode categories: letters, digits, marks, symbols") {
  // CJK and accented letters are \p{L}; emoji are neither letter nor digit.
  CHECK(split("gpt2", "café 日本語 \xF0\x9F\x98\x80\xF0\x9F\x98\x80") ==
        Pieces{"café", " 日本語", " \xF0\x9F\x98\x80\xF0\x9F\x98\x80"});
  // Arabic-Indic digits are \p{N}, so they group like ASCII digits.
  CHECK(split("gpt2", "x \xD9\xA3\xD9\xA4") == Pieces{"x", " \xD9\xA3\xD9\xA4"});
  // A combining mark (\p{Mn}) is not a letter: it splits from its base, as in Hugging Face.
  CHECK(split("gpt2", "e\xCC\x81x") == Pieces{"e", "\xCC\x81", "x"});
  // U+00A0 is whitespace; U+180E is not (Unicode 6.3 removed it; Hugging Face agrees).
  CHECK(split("gpt2", "a\xC2\xA0" "b") == Pieces{"a", "\xC2\xA0", "b"});
  CHECK(split("gpt2", "a\xE1\xA0\x8E" "b") == Pieces{"a", "\xE1\xA0\x8E", "b"});
}

TEST_CASE("smollm puts every digit in a piece of its own before the GPT-2 split") {
  CHECK(split("smollm", "abc 2024!") == Pieces{"abc", " ", "2", "0", "2", "4", "!"});
  CHECK(split("smollm", "\xD9\xA3\xD9\xA4") == Pieces{"\xD9\xA3", "\xD9\xA4"});  // ٣٤
  CHECK(split("smollm", "x\xC2\xBD") == Pieces{"x", "\xC2\xBD"});  // ½ is \p{No}, a digit too
}

TEST_CASE("llama-bpe groups digits in runs of at most three and keeps newlines with punctuation") {
  CHECK(split("llama-bpe", "12345") == Pieces{"123", "45"});
  CHECK(split("llama-bpe", "\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6") == Pieces{"\xD9\xA3\xD9\xA4\xD9\xA5", "\xD9\xA6"});
  CHECK(split("llama-bpe", "Hello, world") == Pieces{"Hello", ",", " world"});
  CHECK(split("llama-bpe", "?!\n\nok") == Pieces{"?!\n\n", "ok"});
  CHECK(split("llama-bpe", "I'M here") == Pieces{"I", "'M", " here"});  // contractions ignore case
  CHECK(split("llama-bpe", "(hello") == Pieces{"(hello"});  // one leading non-letter joins the word
}

TEST_CASE("qwen2 puts every digit in a piece of its own") {
  CHECK(split("qwen2", "x 12345") == Pieces{"x", " ", "1", "2", "3", "4", "5"});
}

TEST_CASE("bytes that are not UTF-8 come back as pieces of their own") {
  CHECK(split("gpt2", "a\xFF" "b") == Pieces{"a", "\xFF", "b"});
  CHECK(split("smollm", "1\xC3") == Pieces{"1", "\xC3"});
}

TEST_CASE("an unknown pre-tokenizer is an error listing the supported ones") {
  const std::string message = testing::error_of([] { Pretokenizer p("bert"); });
  CHECK(message.find("'bert'") != std::string::npos);
  CHECK(message.find("gpt2, gpt-2, smollm, llama-bpe, qwen2") != std::string::npos);
  CHECK(is_supported_pretokenizer("smollm"));
  CHECK_FALSE(is_supported_pretokenizer("default"));
}
