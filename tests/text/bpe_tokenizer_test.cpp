#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/text/tokenizer.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda::text;
using testing::id_of;
using Ids = std::vector<std::int32_t>;

namespace {

Ids encode(const Tokenizer& t, std::string_view text, bool parse_special = false) {
  return t.encode(text, /*add_special=*/false, parse_special);
}

}  // namespace

TEST_CASE("BPE merges the lowest-ranked pair first") {
  const Vocabulary ab_first = testing::tiny_bpe({"a b", "b c", "ab c"});
  const Tokenizer t1(ab_first);
  CHECK(encode(t1, "abc") == Ids{id_of(ab_first, "abc")});  // a+b (rank 0), then ab+c (rank 2)
  CHECK(encode(t1, "abx") == Ids{id_of(ab_first, "ab"), 'x'});

  const Vocabulary bc_first = testing::tiny_bpe({"b c", "a b", "ab c"});
  const Tokenizer t2(bc_first);
  CHECK(encode(t2, "abc") == Ids{'a', id_of(bc_first, "bc")});  // b+c wins; a+bc is no merge
}

TEST_CASE("BPE breaks ties between equal pairs leftmost first") {
  const Vocabulary v = testing::tiny_bpe({"a a"});
  const Tokenizer t(v);
  const std::int32_t aa = id_of(v, "aa");
  CHECK(encode(t, "aaa") == Ids{aa, 'a'});
  CHECK(encode(t, "aaaa") == Ids{aa, aa});
  CHECK(encode(t, "aaaaa") == Ids{aa, aa, 'a'});
}

TEST_CASE("BPE merges never cross a pre-tokenizer boundary") {
  // "Ġ" is the byte-level spelling of a space.
  const Vocabulary v = testing::tiny_bpe({"Ġ a", "Ġa b", "b Ġ"});
  const Tokenizer t(v);
  // gpt2 splits "ab ab" into "ab" and " ab": the space joins the second word, never "b ".
  CHECK(encode(t, "ab ab") == Ids{'a', 'b', id_of(v, "Ġab")});
}

TEST_CASE("BPE: a long word merges in O(n log n) and stays exact") {
  const Vocabulary v = testing::tiny_bpe({"Ġ Ġ", "ĠĠ ĠĠ"});
  const Tokenizer t(v);
  const std::string spaces(10001, ' ');  // one word: whitespace run
  const Ids ids = encode(t, spaces);
  CHECK(ids.size() == 2501);  // 2500 four-space tokens and one single space
  CHECK(t.decode(ids) == spaces);
}

TEST_CASE("Llama 3's ignore_merges takes a word that is itself a token whole") {
  Vocabulary v = testing::tiny_bpe({"a b"}, "llama-bpe");
  testing::add_token(v, "abc", TokenType::Normal);  // reachable by no merge
  const Tokenizer llama(v);
  CHECK(encode(llama, "abc") == Ids{id_of(v, "abc")});
  v.pretokenizer = "gpt2";
  const Tokenizer gpt2(v);
  CHECK(encode(gpt2, "abc") == Ids{id_of(v, "ab"), 'c'});
}

TEST_CASE("BPE: control tokens are matched whole only with parse_special, user-defined always") {
  const Vocabulary v = testing::tiny_bpe({"a b"});
  const Tokenizer t(v);
  const std::int32_t start = id_of(v, "<|im_start|>");
  const std::int32_t end = id_of(v, "<|im_end|>");
  CHECK(encode(t, "<|im_start|>ab<|im_end|>", true) == Ids{start, id_of(v, "ab"), end});

  const Ids spelled = encode(t, "<|im_start|>ab", false);
  CHECK(std::find(spelled.begin(), spelled.end(), start) == spelled.end());
  CHECK(t.decode(spelled) == "<|im_start|>ab");

  const std::int32_t tool = id_of(v, "<tool>");
  CHECK(encode(t, "x<tool>y", false) == Ids{'x', tool, 'y'});
}

TEST_CASE("BPE: the longest special token wins where two start at the same place") {
  Vocabulary v = testing::tiny_bpe({});
  testing::add_token(v, "<|im", TokenType::Control);
  const Tokenizer t(v);
  CHECK(encode(t, "<|im_end|>", true) == Ids{id_of(v, "<|im_end|>")});
  CHECK(encode(t, "<|imx", true) == Ids{id_of(v, "<|im"), 'x'});
}

TEST_CASE("BPE: decode(encode(x)) == x for tricky strings and for bytes that are not UTF-8") {
  const Vocabulary v = testing::tiny_bpe({"Ġ t", "h e", "Ġt he", "Ã ©", "ä ¸"});
  const Tokenizer t(v);
  for (const std::string& text : testing::tricky_strings()) {
    CHECK_MESSAGE(t.decode(encode(t, text)) == text, text);
  }
  for (const std::string& text : {std::string("\xFF\xFE raw"), std::string("cut \xE6\x97"), std::string("\xE2\x96\x81")}) {
    CHECK(t.decode(encode(t, text)) == text);
  }
}

TEST_CASE("BPE: control tokens decode to their text only when asked") {
  const Vocabulary v = testing::tiny_bpe({"a b"});
  const Tokenizer t(v);
  const Ids ids = encode(t, "<|im_start|>ab<tool><|im_end|>", true);
  CHECK(t.decode(ids) == "ab<tool>");  // user-defined text is ordinary text
  CHECK(t.decode(ids, /*with_special=*/true) == "<|im_start|>ab<tool><|im_end|>");
}

TEST_CASE("BPE refuses a merge over tokens the vocabulary lacks") {
  Vocabulary v = testing::tiny_bpe({"a b"});
  v.merges.push_back("a zz");
  const std::string message = testing::error_of([&] { Tokenizer t(v); });
  CHECK(message.find("tiny-bpe") != std::string::npos);
  CHECK(message.find("tokenizer.ggml.merges[1] = 'a zz'") != std::string::npos);
}
