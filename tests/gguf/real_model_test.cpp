// The reader and writer on a real llama.cpp-made file: SmolLM2-135M-Instruct
// Q4_1 (PAGODA_MODEL_PATH, else ~/.cache/pagoda/models/). A missing model is
// a failure, not a skip: scripts/fetch-model.sh fetches it.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "gguf_builders.hpp"
#include "pagoda/gguf/mapped_file.hpp"

using namespace pagoda::gguf;

namespace {

std::unique_ptr<MappedFile> open_real_model() {
  const auto path = testing::real_model_path();
  if (!std::filesystem::exists(path))
    FAIL("the real model " << path.string()
                           << " is missing: run scripts/fetch-model.sh (or set PAGODA_MODEL_PATH to a copy)");
  return MappedFile::open(path);
}

}  // namespace

TEST_CASE("SmolLM2-135M Q4_1 parses with 272 tensors, 33 key/value pairs, alignment 32, architecture llama") {
  const auto model = open_real_model();
  const File& file = model->gguf();
  CHECK(file.version() == 3);
  CHECK(file.tensors().size() == 272);
  CHECK(file.metadata().size() == 33);
  CHECK(file.alignment() == 32);
  CHECK(file.data_offset() % 32 == 0);
  CHECK(file.get<std::string_view>("general.architecture") == "llama");
  CHECK(file.get<std::uint32_t>("llama.block_count") == 30);
  CHECK(file.get<std::uint32_t>("llama.embedding_length") == 576);
  const auto tokens = file.get<ArrayValue>("tokenizer.ggml.tokens");
  CHECK(tokens.element_type() == ValueType::STRING);
  CHECK(tokens.size() == 49152);
  CHECK(file.tensor("token_embd.weight").dims == std::vector<std::uint64_t>{576, 49152});
}

TEST_CASE("every tensor of the real model has its type's byte size and lies inside the file") {
  const auto model = open_real_model();
  const File& file = model->gguf();
  std::map<TensorType, int> types;
  for (const TensorInfo& t : file.tensors()) {
    CAPTURE(t.name);
    const auto g = geometry_of(t.type);
    CHECK(t.element_count % g.block_elements == 0);
    CHECK(t.byte_size == t.element_count / g.block_elements * g.block_bytes);
    CHECK(t.data_offset % file.alignment() == 0);
    CHECK(t.bytes.data() == file.bytes().data() + file.data_offset() + t.data_offset);
    CHECK(t.bytes.data() + t.bytes.size() <= file.bytes().data() + file.bytes().size());
    ++types[t.type];
  }
  CHECK(types[TensorType::Q4_1] > 0);
  CHECK(types[TensorType::F32] > 0);
}

TEST_CASE("copying the real model through the writer reproduces it byte for byte") {
  const auto model = open_real_model();
  const File& file = model->gguf();
  Writer writer;
  writer.set_version(file.version());
  for (const auto& entry : file.metadata()) writer.add(entry.key, EncodedValue::copy_of(entry.value));
  for (const TensorInfo& t : file.tensors()) {
    const auto source = t.bytes;
    writer.add_tensor(t.name, t.dims, t.type, [source](std::uint64_t offset, std::span<std::byte> out) {
      std::copy_n(source.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
    });
  }
  CHECK(writer.size() == file.bytes().size());
  const auto copy = writer.to_bytes();
  CHECK(std::ranges::equal(copy, file.bytes()));
}

TEST_CASE("the real model cut short anywhere before its last tensor's end is refused, never crashes") {
  const auto model = open_real_model();
  const File& file = model->gguf();
  const auto bytes = file.bytes();
  std::uint64_t needed = 0;
  for (const TensorInfo& t : file.tensors()) needed = std::max(needed, file.data_offset() + t.data_offset + t.byte_size);
  // 400 cuts through the metadata and tensor infos, 100 through the data.
  std::vector<std::uint64_t> cuts;
  for (std::uint64_t i = 0; i < 400; ++i) cuts.push_back(file.data_offset() * i / 400);
  for (std::uint64_t i = 0; i < 100; ++i) cuts.push_back(file.data_offset() + (needed - file.data_offset()) * i / 100);
  cuts.push_back(needed - 1);
  for (const auto length : cuts) {
    CAPTURE(length);
    const std::string message = testing::parse_error(bytes.first(length));
    CHECK(testing::contains(message, "test.gguf: invalid GGUF: "));
  }
}
