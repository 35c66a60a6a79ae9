#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/text/tokenizer.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda::text;
using testing::id_of;
using Ids = std::vector<std::int32_t>;

TEST_CASE("Tokenizer picks the algorithm from the vocabulary kind once") {
  const Tokenizer bpe(testing::tiny_bpe({}));
  CHECK(bpe.kind() == TokenizerKind::ByteLevelBpe);
  CHECK(bpe.vocab_size() == 256 + 4);
  CHECK(bpe.token_text(' ') == "Ġ");
  const Tokenizer spm(testing::tiny_spm({{"▁", -1}}));
  CHECK(spm.kind() == TokenizerKind::SentencePiece);
  CHECK(spm.token_text(3 + 0x41) == "<0x41>");
}

TEST_CASE("add_special adds BOS and EOS only as the vocabulary's flags say") {
  Vocabulary v = testing::tiny_bpe({});
  const std::int32_t bos = *v.bos_id;
  const std::int32_t eos = *v.eos_id;
  {
    const Tokenizer t(v);  // byte-level defaults: neither
    CHECK(t.encode("a", true, false) == Ids{'a'});
  }
  v.add_bos = true;
  v.add_eos = true;
  const Tokenizer t(v);
  CHECK(t.encode("a", true, false) == Ids{bos, 'a', eos});
  CHECK(t.encode("a", false, false) == Ids{'a'});
  CHECK(t.encode("", true, false) == Ids{bos, eos});
}

TEST_CASE("end of generation: EOS, EOT and control tokens spelled like an end of turn") {
  const Vocabulary v = testing::tiny_bpe({});
  const Tokenizer t(v);
  CHECK(t.eos() == id_of(v, "<|im_end|>"));
  CHECK(t.eot() == id_of(v, "<|im_end|>"));  // inferred from its spelling
  CHECK(t.is_end_of_generation(id_of(v, "<|im_end|>")));
  CHECK(t.is_end_of_generation(id_of(v, "<|endoftext|>")));
  CHECK_FALSE(t.is_end_of_generation(id_of(v, "<|im_start|>")));
  CHECK_FALSE(t.is_end_of_generation('a'));

  const Vocabulary gemma_like = testing::tiny_spm({});
  const Tokenizer g(gemma_like);
  CHECK(g.eot() == id_of(gemma_like, "<end_of_turn>"));
  CHECK(g.is_end_of_generation(id_of(gemma_like, "<end_of_turn>")));
  CHECK(g.is_end_of_generation(id_of(gemma_like, "</s>")));  // its EOS
  CHECK_FALSE(g.is_end_of_generation(id_of(gemma_like, "<start_of_turn>")));
}

TEST_CASE("an explicit eot_token_id wins over spellings") {
  Vocabulary v = testing::tiny_bpe({});
  v.eot_id = id_of(v, "<|endoftext|>");
  const Tokenizer t(v);
  CHECK(t.eot() == id_of(v, "<|endoftext|>"));
  CHECK(t.is_end_of_generation(id_of(v, "<|im_end|>")));  // still EOS
}

TEST_CASE("decoding an id outside the vocabulary is an error naming it") {
  const Tokenizer t(testing::tiny_bpe({}));
  const std::string message = testing::error_of([&] { (void)t.decode(Ids{'a', 99999}); });
  CHECK(message.find("token id 99999 is out of range") != std::string::npos);
  CHECK(message.find("tiny-bpe") != std::string::npos);
  CHECK_FALSE(testing::error_of([&] { (void)t.token_text(-1); }).empty());
}

TEST_CASE("find_token finds a token by its exact spelling") {
  const Vocabulary v = testing::tiny_bpe({"a b"});
  const Tokenizer t(v);
  CHECK(t.find_token("ab") == id_of(v, "ab"));
  CHECK_FALSE(t.find_token("zz").has_value());
}

TEST_CASE("a rendered chat that writes BOS as text is encoded with add_special = false: BOS once") {
  Vocabulary v = testing::tiny_spm({{"▁", -1}, {"u", -2}, {"s", -3}, {"e", -4}, {"r", -5}, {"H", -6}, {"i", -7}}, false);
  testing::add_token(v, "<bos>", TokenType::Control);
  v.bos_id = id_of(v, "<bos>");
  const Tokenizer t(v);
  const std::string prompt = "<bos><start_of_turn>user\nHi<end_of_turn>\n";
  const Ids ids = t.encode(prompt, /*add_special=*/false, /*parse_special=*/true);
  CHECK(ids.front() == *v.bos_id);
  CHECK(std::count(ids.begin(), ids.end(), *v.bos_id) == 1);
  CHECK(t.decode(ids, true) == prompt);
}
