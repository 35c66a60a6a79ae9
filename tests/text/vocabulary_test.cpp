#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/writer.hpp"
#include "pagoda/text/vocabulary.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda;
using namespace pagoda::text;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A GGUF holding a small byte-level vocabulary; tests change one key each.
gguf::Writer tiny_gguf() {
  gguf::Writer w;
  w.add("tokenizer.ggml.model", std::string_view("gpt2"));
  w.add("tokenizer.ggml.pre", std::string_view("smollm"));
  w.add_array("tokenizer.ggml.tokens", std::vector<std::string>{"<|im_end|>", "a", "b", "ab"});
  w.add_array("tokenizer.ggml.token_type", std::vector<std::int32_t>{3, 1, 1, 1});
  w.add_array("tokenizer.ggml.merges", std::vector<std::string>{"a b"});
  w.add("tokenizer.ggml.eos_token_id", std::uint32_t{0});
  w.add("tokenizer.ggml.add_bos_token", false);
  return w;
}

Vocabulary read(const gguf::Writer& w) {
  const std::vector<std::byte> bytes = w.to_bytes();
  return vocabulary_from_gguf(gguf::File::parse(bytes, "tiny.gguf"));
}

std::string read_error(const gguf::Writer& w) {
  return testing::error_of([&] { (void)read(w); });
}

}  // namespace

TEST_CASE("vocabulary_from_gguf reads the tokenizer.ggml keys") {
  const Vocabulary v = read(tiny_gguf());
  CHECK(v.source == "tiny.gguf");
  CHECK(v.kind == TokenizerKind::ByteLevelBpe);
  CHECK(v.pretokenizer == "smollm");
  CHECK(v.tokens == std::vector<std::string>{"<|im_end|>", "a", "b", "ab"});
  CHECK(v.token_types == std::vector<TokenType>{TokenType::Control, TokenType::Normal, TokenType::Normal,
                                                TokenType::Normal});
  CHECK(v.merges == std::vector<std::string>{"a b"});
  CHECK(v.scores.empty());
  CHECK(v.eos_id == 0);
  CHECK_FALSE(v.bos_id.has_value());
  CHECK_FALSE(v.add_bos);
  CHECK_FALSE(v.add_space_prefix);
}

TEST_CASE("vocabulary_from_gguf: SentencePiece defaults follow llama.cpp") {
  gguf::Writer w;
  w.add("tokenizer.ggml.model", std::string_view("llama"));
  w.add_array("tokenizer.ggml.tokens", std::vector<std::string>{"<unk>", "<s>", "▁a"});
  w.add_array("tokenizer.ggml.scores", std::vector<float>{0.0f, 0.0f, -1.5f});
  w.add("tokenizer.ggml.bos_token_id", std::uint32_t{1});
  const Vocabulary v = read(w);
  CHECK(v.kind == TokenizerKind::SentencePiece);
  CHECK(v.pretokenizer == "default");
  CHECK(v.scores == std::vector<float>{0.0f, 0.0f, -1.5f});
  CHECK(v.add_bos);
  CHECK(v.add_space_prefix);
  CHECK(v.bos_id == 1);
}

TEST_CASE("an unknown tokenizer model is an error naming the file, the key and the options") {
  gguf::Writer w = tiny_gguf();
  w.set("tokenizer.ggml.model", gguf::EncodedValue::string("bert"));
  const std::string message = read_error(w);
  CHECK(contains(message, "tiny.gguf"));
  CHECK(contains(message, "tokenizer.ggml.model = 'bert'"));
  CHECK(contains(message, "gpt2"));
  CHECK(contains(message, "llama"));
}

TEST_CASE("an unknown or missing pre-tokenizer is an error listing the supported ones") {
  gguf::Writer w = tiny_gguf();
  w.set("tokenizer.ggml.pre", gguf::EncodedValue::string("deepseek-llm"));
  const std::string message = read_error(w);
  CHECK(contains(message, "tiny.gguf: tokenizer.ggml.pre = 'deepseek-llm'"));
  CHECK(contains(message, "smollm, llama-bpe, qwen2"));

  gguf::Writer no_pre;
  no_pre.add("tokenizer.ggml.model", std::string_view("gpt2"));
  no_pre.add_array("tokenizer.ggml.tokens", std::vector<std::string>{"a"});
  no_pre.add_array("tokenizer.ggml.merges", std::vector<std::string>{});
  CHECK(contains(read_error(no_pre), "tokenizer.ggml.pre is missing"));
}

TEST_CASE("vocabulary_from_gguf rejects arrays that disagree and ids out of range, naming the key") {
  gguf::Writer short_types = tiny_gguf();
  short_types.set("tokenizer.ggml.token_type", gguf::EncodedValue::array(std::vector<std::int32_t>{3, 1}));
  CHECK(contains(read_error(short_types), "tokenizer.ggml.token_type has 2 entries but tokenizer.ggml.tokens has 4"));

  gguf::Writer bad_type = tiny_gguf();
  bad_type.set("tokenizer.ggml.token_type", gguf::EncodedValue::array(std::vector<std::int32_t>{3, 1, 9, 1}));
  CHECK(contains(read_error(bad_type), "tokenizer.ggml.token_type[2] = 9"));

  gguf::Writer bad_eos = tiny_gguf();
  bad_eos.set("tokenizer.ggml.eos_token_id", gguf::EncodedValue::scalar(std::uint32_t{4}));
  CHECK(contains(read_error(bad_eos), "tiny.gguf: tokenizer.ggml.eos_token_id = 4 is out of range"));

  gguf::Writer numeric_tokens = tiny_gguf();
  numeric_tokens.set("tokenizer.ggml.tokens", gguf::EncodedValue::array(std::vector<std::int32_t>{1, 2}));
  CHECK(contains(read_error(numeric_tokens), "tokenizer.ggml.tokens is an array of"));
}

TEST_CASE("validate checks hand-made vocabularies the same way") {
  Vocabulary v = testing::tiny_spm({{"a", -1}});
  v.scores.pop_back();
  CHECK(contains(testing::error_of([&] { validate(v); }), "tiny-spm: tokenizer.ggml.scores has"));
  Vocabulary empty;
  CHECK(contains(testing::error_of([&] { validate(empty); }), "tokenizer.ggml.tokens is empty"));
}
