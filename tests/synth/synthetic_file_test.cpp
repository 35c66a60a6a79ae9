// Synthetic files as a whole: pagoda's reader parses them, read_config and
// bind_weights accept the llama ones, every tensor dequantizes to finite
// values with a plausible spread, and the bytes depend on the seed alone —
// not on the thread count nor on how the writer chunks the stream.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/model/weights.hpp"
#include "synth_support.hpp"

using namespace pagoda;
using gguf::TensorType;

namespace {

std::vector<std::byte> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

// Every weight tensor: finite values; matrices centred with std ~0.02, norms ~1.
void check_tensor_values(const gguf::File& file) {
  for (const auto& t : file.tensors()) {
    INFO(t.name, " (", gguf::name_of(t.type), ")");
    const auto s = test::stats_of(t);
    CHECK(s.finite);
    if (t.name == "rope_freqs.weight") continue;
    if (t.name.find("norm") != std::string_view::npos) {
      CHECK(s.mean == doctest::Approx(1.0).epsilon(0.02));
      CHECK(s.std > 0.01);
      CHECK(s.std < 0.1);
    } else {
      CHECK(std::abs(s.mean) < 0.005);
      CHECK(s.std > 0.012);
      CHECK(s.std < 0.03);
    }
  }
}

}  // namespace

TEST_CASE("a synthetic llama in every recipe is parsed and bound by pagoda's reader, with sane values") {
  std::vector<model::QuantRecipe> recipes{model::QuantRecipe::q4_k_m()};
  for (const auto& name : quant::format_names) recipes.push_back(model::parse_recipe(name));
  for (const auto& recipe : recipes) {
    INFO("recipe ", recipe.name());
    model::SyntheticReport report;
    const auto writer = model::synthetic_writer(test::spec_of(test::tiny_llama_shape(), recipe), &report);
    const auto bytes = writer.to_bytes();
    CHECK(bytes.size() == report.file_bytes);
    const auto file = gguf::File::parse(bytes, "synthetic.gguf");
    CHECK(file.tensors().size() == report.tensor_count);
    CHECK(file.get<std::uint32_t>("general.quantization_version") == 2);
    CHECK(file.alignment() == 32);
    const auto config = model::read_config(file);
    CHECK(config.n_layers == 2);
    CHECK(config.d_model == 256);
    CHECK(config.n_kv_heads == 2);
    CHECK(config.vocab_size == 512);
    const auto weights = model::bind_weights(file, config);
    CHECK(weights.layers.size() == 2);
    check_tensor_values(file);
  }
}

TEST_CASE("the named llama shapes' metadata is accepted by read_config (checked on a 1-layer cut)") {
  for (const std::string name : {"smollm2-135m", "llama-3.2-1b"}) {
    INFO(name);
    auto shape = model::find_shape(name);
    shape.n_layers = 1;
    shape.vocab = 2048;  // keeps the test small; the vocabulary code is tested at full size elsewhere
    const auto bytes = model::synthetic_bytes(test::spec_of(shape, model::QuantRecipe::q4_k_m()));
    const auto file = gguf::File::parse(bytes, name);
    const auto config = model::read_config(file);
    CHECK(config.d_model == shape.d_model);
    CHECK(config.head_dim == 64);
    CHECK(config.tied_output);
    CHECK(config.rope.freq_base == shape.rope_base);
    CHECK(config.rope.freq_factors.size() == (shape.llama3_rope_factor > 0 ? 32u : 0u));
    (void)model::bind_weights(file, config);
  }
}

TEST_CASE("qwen2 and gemma3 shapes write valid GGUFs with their architecture's tensors and keys") {
  auto qwen = model::find_shape("qwen2.5-14b");
  qwen.n_layers = 1;
  qwen.d_model = 512;
  qwen.n_heads = 4;
  qwen.n_kv_heads = 2;
  qwen.d_ffn = 512;
  qwen.vocab = 1024;
  const auto qwen_bytes = model::synthetic_bytes(test::spec_of(qwen, model::QuantRecipe::q4_k_m()));
  const auto qwen_file = gguf::File::parse(qwen_bytes, "qwen.gguf");
  CHECK(qwen_file.get<std::string_view>("general.architecture") == "qwen2");
  CHECK(qwen_file.get<std::uint32_t>("qwen2.attention.head_count_kv") == 2);
  CHECK(qwen_file.tensor("blk.0.attn_q.bias").dims == std::vector<std::uint64_t>{512});
  CHECK(qwen_file.tensor("blk.0.attn_k.bias").dims == std::vector<std::uint64_t>{256});
  CHECK(qwen_file.get<std::string_view>("tokenizer.ggml.pre") == "qwen2");
  check_tensor_values(qwen_file);

  auto gemma = model::find_shape("gemma-3-270m");
  gemma.n_layers = 1;
  gemma.vocab = 4096;
  const auto gemma_bytes = model::synthetic_bytes(test::spec_of(gemma, model::QuantRecipe::q4_k_m()));
  const auto gemma_file = gguf::File::parse(gemma_bytes, "gemma.gguf");
  CHECK(gemma_file.get<std::uint32_t>("gemma3.attention.key_length") == 256);
  CHECK(gemma_file.get<std::uint32_t>("gemma3.attention.sliding_window") == 512);
  CHECK(gemma_file.tensor("blk.0.attn_q.weight").dims == std::vector<std::uint64_t>{640, 1024});
  CHECK(gemma_file.tensor("blk.0.attn_q.weight").type == TensorType::Q5_0);  // 640-wide rows: fallback
  CHECK(gemma_file.tensor("blk.0.attn_output.weight").type == TensorType::Q4_K);
  CHECK(gemma_file.tensor("blk.0.attn_k_norm.weight").dims == std::vector<std::uint64_t>{256});
  CHECK(gemma_file.find_tensor("blk.0.post_ffw_norm.weight") != nullptr);
  CHECK(gemma_file.find_tensor("output.weight") == nullptr);
  CHECK(gemma_file.get<std::string_view>("tokenizer.ggml.model") == "llama");
  check_tensor_values(gemma_file);
}

TEST_CASE("the same seed gives the same bytes; another seed other weights but the same vocabulary") {
  const auto spec = test::spec_of(test::tiny_llama_shape(), model::QuantRecipe::q4_k_m(), 11);
  const auto a = model::synthetic_bytes(spec);
  const auto b = model::synthetic_bytes(spec);
  CHECK(a == b);
  auto other = spec;
  other.seed = 12;
  const auto c = model::synthetic_bytes(other);
  REQUIRE(c.size() == a.size());
  CHECK(c != a);
  const auto fa = gguf::File::parse(a, "a"), fc = gguf::File::parse(c, "c");
  CHECK(fa.data_offset() == fc.data_offset());  // metadata differs only in the seed's value
  for (const auto& t : fa.tensors()) {
    if (t.name.find("rope_freqs") != std::string_view::npos) continue;
    const auto& u = fc.tensor(t.name);
    CHECK_MESSAGE(!std::equal(t.bytes.begin(), t.bytes.end(), u.bytes.begin()), t.name);
  }
}

TEST_CASE("the bytes do not depend on the thread count") {
  auto shape = test::tiny_llama_shape(256, 4096);  // a 1 MiB embedding: big enough to split over threads
  std::vector<std::byte> reference;
  for (const unsigned threads : {1u, 2u, 3u, 8u}) {
    const auto bytes = model::synthetic_bytes(test::spec_of(shape, model::parse_recipe("F16"), 5, threads));
    if (reference.empty()) reference = bytes;
    CHECK_MESSAGE(bytes == reference, threads, " threads");
  }
}

TEST_CASE("a file streamed to disk in 4 MiB chunks equals the in-memory bytes, for odd unit sizes too") {
  test::ScratchDir dir;
  // Embeddings of 10 MB (F16, 512-byte units) and 8.4 MB (Q6_K, 210-byte blocks) cross
  // the writer's 4 MiB chunks inside units.
  for (const std::string quant : {"F16", "Q6_K", "F32"}) {
    INFO(quant);
    const auto spec = test::spec_of(test::tiny_llama_shape(256, 20000), model::parse_recipe(quant), 3, 2);
    const auto path = dir.path() / "model.gguf";
    const auto report = model::write_synthetic(spec, path);
    CHECK(std::filesystem::file_size(path) == report.file_bytes);
    CHECK(report.seconds >= 0.0);
    CHECK(read_all(path) == model::synthetic_bytes(spec));
    const auto mapped = gguf::MappedFile::open(path);
    CHECK(mapped->gguf().tensors().size() == report.tensor_count);
  }
}

TEST_CASE("progress is reported up to the total of the tensor bytes, on every write") {
  auto spec = test::spec_of(test::tiny_llama_shape(), model::QuantRecipe::q4_k_m());
  std::uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  spec.progress = [&](std::uint64_t done, std::uint64_t total) {
    last_done = done;
    last_total = total;
    ++calls;
  };
  model::SyntheticReport report;
  const auto writer = model::synthetic_writer(spec, &report);
  const auto bytes = writer.to_bytes();
  const auto file = gguf::File::parse(bytes, "p");
  std::uint64_t tensor_bytes = 0;
  for (const auto& t : file.tensors()) tensor_bytes += t.byte_size;
  CHECK(report.tensor_bytes == tensor_bytes);
  CHECK(calls == static_cast<int>(file.tensors().size()));
  CHECK(last_done == tensor_bytes);
  CHECK(last_total == tensor_bytes);
  (void)writer.to_bytes();
  CHECK(last_done == tensor_bytes);  // a second write counts from zero again
}
