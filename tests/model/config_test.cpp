// Hyperparameters and weights are read from the file and checked before any
// math: every inconsistency is an error naming the file and what is wrong.
#include <doctest/doctest.h>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/weights.hpp"
#include "support/real_model.hpp"
#include "support/tiny_llama.hpp"

using namespace pagoda;

namespace {

// Parses the writer's bytes and binds the weights, as a model load does.
void load(const gguf::Writer& writer) {
  const auto bytes = writer.to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny.gguf");
  const auto config = model::read_config(file);
  (void)model::bind_weights(file, config);
}

}  // namespace

TEST_CASE("the real SmolLM2 file's hyperparameters are read as its metadata states") {
  const auto mapped = gguf::MappedFile::open(test::require_default_model());
  const auto c = model::read_config(mapped->gguf());
  CHECK(c.architecture.name == "llama");
  CHECK(c.n_layers == 30);
  CHECK(c.d_model == 576);
  CHECK(c.n_heads == 9);
  CHECK(c.n_kv_heads == 3);
  CHECK(c.head_dim == 64);
  CHECK(c.d_ffn == 1536);
  CHECK(c.vocab_size == 49152);
  CHECK(c.context_length == 8192);
  CHECK(c.rope.freq_base == 100000.0f);
  CHECK(c.rope.dimensions == 64);
  CHECK(c.rope.layout == model::RopeLayout::interleaved);
  CHECK(c.rms_norm_eps == doctest::Approx(1e-5));
  CHECK(c.tied_output);
  const auto weights = model::bind_weights(mapped->gguf(), c);
  CHECK(weights.layers.size() == 30);
  CHECK(weights.output == weights.token_embedding);
}

TEST_CASE("an unsupported architecture is named, with the list of supported ones") {
  auto writer = test::tiny_llama_writer({});
  writer.set("general.architecture", gguf::EncodedValue::string("mamba"));
  CHECK_THROWS_WITH_AS(load(writer), "tiny.gguf: architecture 'mamba' is not supported by pagoda (supported: llama, qwen2, gemma3)",
                       Error);
}

TEST_CASE("an architecture name with a NUL byte or invalid UTF-8 is quoted whole, escaped") {
  auto writer = test::tiny_llama_writer({});
  writer.set("general.architecture", gguf::EncodedValue::string(std::string("lla\0ma\xff\x1b", 8)));
  CHECK_THROWS_WITH_AS(load(writer),
                       "tiny.gguf: architecture 'lla\\x00ma\\xFF\\x1B' is not supported by pagoda (supported: llama, "
                       "qwen2, gemma3)",
                       Error);
}

TEST_CASE("a missing hyperparameter is named") {
  gguf::Writer writer;
  writer.add("general.architecture", std::string_view("llama"));
  writer.add("llama.embedding_length", std::uint32_t{64});
  CHECK_THROWS_WITH_AS(load(writer), doctest::Contains("'llama.block_count' is missing"), Error);
}

TEST_CASE("a hyperparameter of the wrong type is named with both types") {
  auto writer = test::tiny_llama_writer({});
  writer.set("llama.block_count", gguf::EncodedValue::string("two"));
  CHECK_THROWS_WITH_AS(load(writer), doctest::Contains("'llama.block_count' is STRING"), Error);
}

TEST_CASE("heads that cannot be grouped over the KV heads are refused") {
  auto writer = test::tiny_llama_writer({});
  writer.set("llama.attention.head_count_kv", gguf::EncodedValue::scalar(std::uint32_t{3}));
  CHECK_THROWS_WITH_AS(load(writer), doctest::Contains("cannot be grouped"), Error);
}

TEST_CASE("a missing tensor is named") {
  const auto writer = test::tiny_llama_writer({.omit_tensor = "blk.1.ffn_up.weight"});
  CHECK_THROWS_WITH_AS(load(writer), "tiny.gguf: tensor 'blk.1.ffn_up.weight' is missing", Error);
}

TEST_CASE("a tensor whose shape disagrees with the metadata is named with both shapes") {
  auto writer = test::tiny_llama_writer({});
  writer.set("llama.feed_forward_length", gguf::EncodedValue::scalar(std::uint32_t{128}));
  CHECK_THROWS_WITH_AS(load(writer),
                       "tiny.gguf: tensor 'blk.0.ffn_gate.weight' has shape [64, 96] but the metadata implies [64, 128]",
                       Error);
}

TEST_CASE("a tensor type pagoda cannot compute is named, with the supported types") {
  const auto writer = test::tiny_llama_writer({.retype_tensor = "blk.0.attn_q.weight",
                                               .retype_to = gguf::TensorType::IQ4_NL});
  CHECK_THROWS_WITH_AS(load(writer), doctest::Contains("tensor 'blk.0.attn_q.weight' has type IQ4_NL, which pagoda "
                                                       "cannot compute (supported: F32, F16, BF16, Q4_0"),
                       Error);
}

TEST_CASE("an unsupported RoPE scaling type is refused by name") {
  auto writer = test::tiny_llama_writer({});
  writer.add("llama.rope.scaling.type", std::string_view("yarn"));
  CHECK_THROWS_WITH_AS(load(writer), doctest::Contains("RoPE scaling type 'yarn' is not supported"), Error);
}

TEST_CASE("the tiny model's own hyperparameters round-trip through the file") {
  const auto bytes = test::tiny_llama_writer({.tied_output = true}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny.gguf");
  const auto c = model::read_config(file);
  CHECK(c.n_layers == 2);
  CHECK(c.head_dim == 16);
  CHECK(c.heads_per_kv_head() == 2);
  CHECK(c.kv_dim() == 32);
  CHECK(c.tied_output);
}
