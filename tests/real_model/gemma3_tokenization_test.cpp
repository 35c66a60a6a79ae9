// pagoda's SentencePiece-style tokenizer on the real Gemma 3 vocabulary
// (262144 tokens, no space prefix, user-defined whitespace runs), against
// transformers' tokenizer built from the same GGUF vocabulary
// (tests/data/reference/gemma3_tokens.json).
#include <doctest/doctest.h>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/text/tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"
#include "reference_data.hpp"

using namespace pagoda;

TEST_CASE("Gemma 3: token ids of the reference prompt set equal transformers' ids, with <bos> as the file asks") {
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  const text::Tokenizer tokenizer(text::vocabulary_from_gguf(file->gguf()));
  const auto reference = test::load_reference("gemma3_tokens.json");
  REQUIRE(tokenizer.vocab_size() == reference["vocab_size"].get<std::size_t>());
  REQUIRE(tokenizer.bos() == reference["bos_id"].get<std::int32_t>());
  CHECK_FALSE(tokenizer.vocabulary().add_space_prefix);
  CHECK(tokenizer.eot() == tokenizer.find_token("<end_of_turn>"));

  const auto& cases = reference["cases"];
  REQUIRE(cases.size() >= 40);
  std::size_t equal = 0;
  for (const auto& c : cases) {
    const auto name = c["name"].get<std::string>();
    const auto text = c["text"].get<std::string>();
    const bool parse_special = c["parse_special"].get<bool>();
    const auto expected = c["ids"].get<std::vector<std::int32_t>>();
    const auto ids = tokenizer.encode(text, /*add_special=*/false, parse_special);
    CHECK_MESSAGE(ids == expected, "case '" << name << "'");
    if (ids == expected) ++equal;
    auto with_bos = expected;
    with_bos.insert(with_bos.begin(), *tokenizer.bos());
    CHECK_MESSAGE(tokenizer.encode(text, /*add_special=*/true, parse_special) == with_bos, "case '" << name << "'");
    CHECK_MESSAGE(tokenizer.decode(ids, /*with_special=*/true) == text, "round trip of case '" << name << "'");
  }
  MESSAGE(equal << " of " << cases.size() << " prompts tokenized identically to the reference");
}
