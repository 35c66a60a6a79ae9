// pagoda's tokenizer on the real SmolLM2 vocabulary, against Hugging Face
// `tokenizers` built from the same GGUF vocabulary with SmolLM2's published
// pre-tokenizer pipeline (tests/data/reference/smollm2_tokens.json).
#include <doctest/doctest.h>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/text/tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"
#include "reference_data.hpp"

using namespace pagoda;

TEST_CASE("token ids of the reference prompt set equal Hugging Face tokenizers' ids") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const text::Tokenizer tokenizer(text::vocabulary_from_gguf(file->gguf()));
  const auto reference = test::load_reference("smollm2_tokens.json");
  const auto& cases = reference["cases"];
  REQUIRE(cases.size() >= 20);
  std::size_t equal = 0;
  for (const auto& c : cases) {
    const auto text = c["text"].get<std::string>();
    const auto expected = c["ids"].get<std::vector<std::int32_t>>();
    const auto ids = tokenizer.encode(text, /*add_special=*/true, c["parse_special"].get<bool>());
    CHECK_MESSAGE(ids == expected, "case '" << c["name"].get<std::string>() << "'");
    if (ids == expected) ++equal;
    // Decoding gives the text back, special tokens included.
    CHECK_MESSAGE(tokenizer.decode(ids, /*with_special=*/true) == text, "round trip of case '" << c["name"].get<std::string>() << "'");
  }
  MESSAGE(equal << " of " << cases.size() << " prompts tokenized identically to the reference");
}
