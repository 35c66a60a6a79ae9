// The tokenizer section of synthetic files: exactly `vocab` tokens, every
// merge producing a token that exists, control tokens where the family puts
// them, and pagoda's tokenizer loading it from the file and round-tripping text.
#include <doctest/doctest.h>

#include <string>
#include <unordered_map>

#include "pagoda/gguf/file.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/text/chat_template.hpp"
#include "pagoda/text/tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"
#include "synth_support.hpp"

using namespace pagoda;

namespace {

constexpr std::string_view sample_text =
    "The quick brown fox jumps over the lazy dog. 12345 times!\n  Unicode: caf\xC3\xA9, \xE6\x97\xA5\xE6\x9C\xAC, "
    "emoji \xF0\x9F\x98\x80 and tabs\tend.";

// The tokenizer section of a synthetic file, as an engine loads it.
text::Tokenizer tokenizer_from_file(const model::SyntheticShape& shape, std::vector<std::byte>& storage,
                                    std::string* chat_template = nullptr) {
  storage = model::synthetic_bytes(test::spec_of(shape, model::parse_recipe("Q8_0")));
  const auto file = gguf::File::parse(storage, shape.name);
  if (chat_template) *chat_template = std::string(file.get<std::string_view>("tokenizer.chat_template"));
  return text::Tokenizer(text::vocabulary_from_gguf(file));
}

model::SyntheticShape small(std::string_view name, std::uint32_t vocab) {
  auto shape = model::find_shape(name);
  shape.n_layers = 1;
  shape.vocab = vocab;
  return shape;
}

}  // namespace

TEST_CASE("byte-level vocabularies at full size: exact count, merges over existing tokens, controls at the end") {
  for (const std::string name : {"smollm2-135m", "llama-3-8b", "qwen2.5-14b"}) {
    INFO(name);
    const auto& shape = model::find_shape(name);
    const auto tokenizer = model::synthetic_tokenizer(shape);
    const auto& v = tokenizer.vocabulary;
    CHECK_NOTHROW(text::validate(v));
    REQUIRE(v.tokens.size() == shape.vocab);
    CHECK(v.token_types.size() == shape.vocab);
    std::unordered_map<std::string_view, std::size_t> id_of;
    std::size_t duplicates = 0;
    for (std::size_t i = 0; i < v.tokens.size(); ++i) duplicates += id_of.emplace(v.tokens[i], i).second ? 0 : 1;
    CHECK(duplicates == 0);
    // Merge rank r makes token 256 + r: merged tokens follow the byte tokens in rank order.
    std::size_t bad_merges = 0;
    for (std::size_t rank = 0; rank < v.merges.size(); ++rank) {
      const std::string_view merge = v.merges[rank];
      const auto space = merge.find(' ');
      const auto left = merge.substr(0, space), right = merge.substr(space + 1);
      const auto merged = id_of.find(std::string(left) + std::string(right));
      const bool ok = space != std::string_view::npos && id_of.contains(left) && id_of.contains(right) &&
                      merged != id_of.end() && merged->second == 256 + rank;
      bad_merges += ok ? 0 : 1;
    }
    CHECK(bad_merges == 0);
    CHECK(v.merges.size() + 256 < shape.vocab);
    CHECK(v.type_of(static_cast<std::int32_t>(shape.vocab - 1)) == text::TokenType::Control);
    CHECK(v.type_of(*v.bos_id) == text::TokenType::Control);
    CHECK(v.type_of(*v.eos_id) == text::TokenType::Control);
  }
  const auto llama = model::synthetic_tokenizer(model::find_shape("llama-3-8b")).vocabulary;
  // As in Llama 3: 256 control tokens, <|begin_of_text|> at 128000 and <|eot_id|> at 128009.
  CHECK(llama.tokens[128000] == "<|begin_of_text|>");
  CHECK(*llama.bos_id == 128000);
  CHECK(*llama.eos_id == 128009);
  CHECK(llama.tokens[128255] == "<|reserved_special_token_247|>");
}

TEST_CASE("the gemma vocabulary is SentencePiece-style: controls, <0xNN> bytes, scored pieces, exact count") {
  const auto& shape = model::find_shape("gemma-3-270m");
  const auto v = model::synthetic_tokenizer(shape).vocabulary;
  CHECK_NOTHROW(text::validate(v));
  CHECK(v.kind == text::TokenizerKind::SentencePiece);
  CHECK(v.tokens.size() == 262144);
  CHECK(v.scores.size() == 262144);
  CHECK(v.tokens[*v.bos_id] == "<bos>");
  CHECK(v.tokens[*v.eos_id] == "<eos>");
  CHECK(v.tokens[7 + 0x41] == "<0x41>");
  CHECK(v.type_of(7 + 0x41) == text::TokenType::Byte);
}

TEST_CASE("every family's tokenizer loads from the synthetic file and round-trips text") {
  const std::vector<std::pair<std::string_view, std::uint32_t>> cases{
      {"smollm2-135m", 3000}, {"llama-3-8b", 3000}, {"qwen2.5-14b", 3000}, {"gemma-3-270m", 3000}};
  for (const auto& [name, vocab] : cases) {
    INFO(name);
    std::vector<std::byte> storage;
    std::string chat_template;
    const auto tokenizer = tokenizer_from_file(small(name, vocab), storage, &chat_template);
    CHECK(tokenizer.vocab_size() == vocab);
    const auto ids = tokenizer.encode(sample_text, /*add_special=*/false, /*parse_special=*/false);
    CHECK(tokenizer.decode(ids) == sample_text);
    CHECK(ids.size() < sample_text.size());  // the merged tokens do get used on English text

    // The chat template is recognised and its control tokens encode as single tokens.
    const auto chat = text::ChatTemplate::from_jinja(chat_template);
    const std::vector<text::ChatMessage> messages{{"user", "Hello there"}};
    const auto prompt = chat.render(messages, /*add_generation_prompt=*/true);
    const auto prompt_ids = tokenizer.encode(prompt, !chat.renders_bos(), /*parse_special=*/true);
    CHECK(tokenizer.decode(prompt_ids, /*with_special=*/true) == prompt);
    CHECK(tokenizer.eot().has_value());
  }
}
