// Typed access to a parsed file's metadata and tensors: what converts, and
// the errors that name the file, the key and both types when it does not.
#include <doctest/doctest.h>

#include "gguf_builders.hpp"

using namespace pagoda::gguf;
using pagoda::gguf::testing::parse;

namespace {

std::vector<std::byte> sample_file() {
  Writer writer;
  writer.add("general.architecture", "llama")
      .add("u32", std::uint32_t{4096})
      .add("i32", std::int32_t{-1})
      .add("big", std::uint64_t{1} << 63)
      .add("f32", 0.25f)
      .add("flag", true)
      .add_array("ids", {std::int32_t{1}, std::int32_t{2}})
      .add_tensor("token_embd.weight", {32, 4}, TensorType::Q4_0, std::vector<std::byte>(72));
  return writer.to_bytes();
}

}  // namespace

TEST_CASE("integers convert to any integer type their value fits in, and to floating point") {
  const auto bytes = sample_file();
  const File file = parse(bytes);
  CHECK(file.get<std::uint64_t>("u32") == 4096);
  CHECK(file.get<std::int16_t>("u32") == 4096);
  CHECK(file.get<std::int64_t>("i32") == -1);
  CHECK(file.get<std::uint64_t>("big") == std::uint64_t{1} << 63);
  CHECK(file.get<double>("big") == 9223372036854775808.0);
  CHECK(file.get<double>("u32") == 4096.0);
  CHECK(file.get<double>("f32") == 0.25);
  CHECK(file.get<bool>("flag"));
  CHECK(file.get_or<std::uint32_t>("absent", 7) == 7);
  CHECK_FALSE(file.get_optional<std::string_view>("absent").has_value());
  CHECK(file.get<ArrayValue>("ids").as<std::int32_t>() == std::vector<std::int32_t>{1, 2});
}

TEST_CASE("get<T> of the wrong type names the file, the key and both types") {
  const auto bytes = sample_file();
  const File file = parse(bytes);
  CHECK_THROWS_WITH_AS((void)file.get<std::uint32_t>("general.architecture"),
                       "test.gguf: metadata 'general.architecture' is STRING where UINT32 is expected", pagoda::Error);
  CHECK_THROWS_WITH_AS((void)file.get<std::string_view>("u32"),
                       "test.gguf: metadata 'u32' is UINT32 where STRING is expected", pagoda::Error);
  CHECK_THROWS_WITH_AS((void)file.get<float>("flag"), "test.gguf: metadata 'flag' is BOOL where FLOAT32 is expected",
                       pagoda::Error);
  CHECK_THROWS_WITH_AS((void)file.get<ArrayValue>("f32"), "test.gguf: metadata 'f32' is FLOAT32 where ARRAY is expected",
                       pagoda::Error);
  CHECK_THROWS_WITH_AS((void)file.get<bool>("u32"), "test.gguf: metadata 'u32' is UINT32 where BOOL is expected",
                       pagoda::Error);
  // get_or falls back only when the key is absent, never over a wrong type.
  CHECK_THROWS_AS((void)file.get_or<std::uint32_t>("general.architecture", 1), pagoda::Error);
}

TEST_CASE("an integer that does not fit the requested type is an error naming its value") {
  const auto bytes = sample_file();
  const File file = parse(bytes);
  CHECK_THROWS_WITH_AS((void)file.get<std::uint32_t>("i32"),
                       "test.gguf: metadata 'i32' is INT32 -1, which does not fit in UINT32", pagoda::Error);
  CHECK_THROWS_WITH_AS((void)file.get<std::uint8_t>("u32"),
                       "test.gguf: metadata 'u32' is UINT32 4096, which does not fit in UINT8", pagoda::Error);
  CHECK_THROWS_WITH_AS((void)file.get<std::int64_t>("big"),
                       "test.gguf: metadata 'big' is UINT64 9223372036854775808, which does not fit in INT64",
                       pagoda::Error);
}

TEST_CASE("a missing key or tensor is an error naming it and the file") {
  const auto bytes = sample_file();
  const File file = parse(bytes);
  CHECK_THROWS_WITH_AS((void)file.get<std::uint32_t>("llama.block_count"),
                       "test.gguf: required metadata 'llama.block_count' is missing", pagoda::Error);
  CHECK(file.find("llama.block_count") == nullptr);
  CHECK(file.find_tensor("output.weight") == nullptr);
  CHECK_THROWS_WITH_AS((void)file.tensor("output.weight"), "test.gguf: tensor 'output.weight' is missing",
                       pagoda::Error);
  CHECK(file.tensor("token_embd.weight").rows() == 4);
  CHECK(file.tensor("token_embd.weight").row_bytes() == 18);
}

TEST_CASE("array element access checks its index and element type") {
  const auto bytes = sample_file();
  const File file = parse(bytes);
  const auto ids = file.get<ArrayValue>("ids");
  CHECK(ids.at(1).as_int64() == 2);
  CHECK_THROWS_WITH_AS((void)ids.at(2), doctest::Contains("index 2 is out of range (size 2)"), pagoda::Error);
  CHECK_THROWS_WITH_AS((void)ids.string_at(0), doctest::Contains("INT32 elements, not strings"), pagoda::Error);
  CHECK_THROWS_WITH_AS((void)ids.as<float>(), doctest::Contains("INT32 elements, not FLOAT32"), pagoda::Error);
}
