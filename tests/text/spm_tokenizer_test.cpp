#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/text/tokenizer.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda::text;
using testing::id_of;
using Ids = std::vector<std::int32_t>;

namespace {

// Byte tokens follow <unk>, <s>, </s>: <0xNN> has id 3 + NN.
std::int32_t byte_token(unsigned char byte) { return 3 + byte; }

Vocabulary hello_vocabulary(bool add_space_prefix = true) {
  // Scores decide the merge order: "he" (-6) before "ll" (-7) before "hell" ...
  return testing::tiny_spm({{"▁", -1}, {"h", -2}, {"e", -3}, {"l", -4}, {"o", -5}, {"he", -6},
                            {"ll", -7}, {"hell", -8}, {"hello", -9}, {"▁hello", -10}, {"▁w", -11},
                            {"u", -12}, {"s", -13}, {"r", -14}},
                           add_space_prefix);
}

}  // namespace

TEST_CASE("SPM merges the highest-scoring pair first") {
  const Vocabulary ab_first = testing::tiny_spm({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -2}, {"bc", -3}}, false);
  const Tokenizer t1(ab_first);
  CHECK(t1.encode("abc", false, false) == Ids{id_of(ab_first, "ab"), id_of(ab_first, "c")});

  const Vocabulary bc_first = testing::tiny_spm({{"a", -1}, {"b", -1}, {"c", -1}, {"ab", -3}, {"bc", -2}}, false);
  const Tokenizer t2(bc_first);
  CHECK(t2.encode("abc", false, false) == Ids{id_of(bc_first, "a"), id_of(bc_first, "bc")});

  // Equal scores: the leftmost pair.
  const Vocabulary tie = testing::tiny_spm({{"a", -1}, {"aa", -2}}, false);
  const Tokenizer t3(tie);
  CHECK(t3.encode("aaa", false, false) == Ids{id_of(tie, "aa"), id_of(tie, "a")});
}

TEST_CASE("SPM turns spaces into ▁, prefixes one, and adds BOS as the vocabulary says") {
  const Vocabulary v = hello_vocabulary();
  const Tokenizer t(v);
  CHECK(t.encode("hello", /*add_special=*/true, false) == Ids{1, id_of(v, "▁hello")});
  CHECK(t.encode("hello hello", false, false) == Ids{id_of(v, "▁hello"), id_of(v, "▁hello")});
  CHECK(t.decode(t.encode("hello hello", true, false)) == "hello hello");  // prefix removed again

  const Vocabulary no_prefix = hello_vocabulary(false);
  const Tokenizer u(no_prefix);
  CHECK(u.encode("hello", false, false) == Ids{id_of(no_prefix, "hello")});
  CHECK(u.decode(u.encode(" hello", false, false)) == " hello");
}

TEST_CASE("SPM falls back to <0xNN> byte tokens for characters that are no piece") {
  const Vocabulary v = hello_vocabulary(false);
  const Tokenizer t(v);
  // "é" is C3 A9; the emoji is F0 9F 98 80.
  CHECK(t.encode("hé", false, false) == Ids{id_of(v, "h"), byte_token(0xC3), byte_token(0xA9)});
  CHECK(t.encode("\xF0\x9F\x98\x80", false, false) ==
        Ids{byte_token(0xF0), byte_token(0x9F), byte_token(0x98), byte_token(0x80)});
  CHECK(t.decode(t.encode("hé \xF0\x9F\x98\x80", false, false)) == "hé \xF0\x9F\x98\x80");
  // The literal text "<0x41>" is just text: it is spelled out, never read as a byte.
  CHECK(t.decode(t.encode("<0x41>", false, false)) == "<0x41>");
}

TEST_CASE("SPM without byte tokens gives one <unk> per unknown character") {
  Vocabulary v;
  v.source = "no-bytes";
  v.kind = TokenizerKind::SentencePiece;
  testing::add_token(v, "<unk>", TokenType::Unknown);
  testing::add_token(v, "a", TokenType::Normal, -1);
  v.unk_id = 0;
  const Tokenizer t(v);
  CHECK(t.encode("a日a", false, false) == Ids{1, 0, 1});
  CHECK(t.decode(Ids{1, 0, 1}, /*with_special=*/true) == "a<unk>a");
}

TEST_CASE("SPM: control tokens are matched whole with parse_special, user-defined always") {
  const Vocabulary v = hello_vocabulary(false);
  const Tokenizer t(v);
  const std::int32_t start = id_of(v, "<start_of_turn>");
  const std::int32_t end = id_of(v, "<end_of_turn>");
  const Ids ids = t.encode("<start_of_turn>user\nhello<end_of_turn>", false, true);
  REQUIRE(ids.size() > 2);
  CHECK(ids.front() == start);
  CHECK(ids.back() == end);
  CHECK(t.decode(ids) == "user\nhello");
  CHECK(t.decode(ids, true) == "<start_of_turn>user\nhello<end_of_turn>");

  const Ids plain = t.encode("<start_of_turn>", false, false);
  CHECK(std::find(plain.begin(), plain.end(), start) == plain.end());

  CHECK(t.encode("he<br>he", false, false) == Ids{id_of(v, "he"), id_of(v, "<br>"), id_of(v, "he")});
}

TEST_CASE("SPM: decode(encode(x)) == x for tricky strings, with and without a space prefix") {
  for (const bool prefix : {true, false}) {
    const Tokenizer t(hello_vocabulary(prefix));
    for (const std::string& text : testing::tricky_strings()) {
      CHECK_MESSAGE(t.decode(t.encode(text, true, false)) == text, "prefix " << prefix << ": " << text);
    }
  }
}

TEST_CASE("SPM: byte tokens that are not UTF-8 decode to the raw bytes, never to '<0x..>' text") {
  const Tokenizer t(hello_vocabulary());
  CHECK(t.decode(Ids{byte_token(0x0A)}) == "\n");
  CHECK(t.decode(Ids{byte_token(0xFF)}) == "\xFF");
}

TEST_CASE("SPM: user-defined whitespace runs match the raw text, as Gemma's indentation tokens need") {
  // Gemma 3 stores "  ", "\n\n", "\t\t" ... as user-defined pieces with literal
  // whitespace; sentencepiece matches them before spaces become "▁".
  Vocabulary v = hello_vocabulary(false);
  testing::add_token(v, "  ", TokenType::UserDefined);
  testing::add_token(v, "\n\n", TokenType::UserDefined);
  const Tokenizer t(v);
  CHECK(t.encode("he  he\n\nhe", false, false) ==
        Ids{id_of(v, "he"), id_of(v, "  "), id_of(v, "he"), id_of(v, "\n\n"), id_of(v, "he")});
  CHECK(t.decode(t.encode("he  he\n\nhe", false, false)) == "he  he\n\nhe");
}
