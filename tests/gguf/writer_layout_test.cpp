// Where gguf::Writer puts tensor data: aligned offsets, exact byte sizes per
// tensor type, zero padding; and the refusals that keep its files readable.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "gguf_builders.hpp"

using namespace pagoda::gguf;
using pagoda::gguf::testing::parse;
using pagoda::gguf::testing::pattern_bytes;

namespace {

struct Shape {
  TensorType type;
  std::vector<std::uint64_t> dims;
};

// Tensors of several types and odd shapes, as a quantized model mixes them.
const std::vector<Shape> mixed_shapes = {
    {TensorType::F32, {17}},           {TensorType::F16, {3, 5}},        {TensorType::Q4_0, {64, 3}},
    {TensorType::Q4_1, {32, 7}},       {TensorType::Q8_0, {96, 2, 1}},   {TensorType::Q4_K, {256, 3}},
    {TensorType::Q6_K, {512, 1, 1, 2}}, {TensorType::I8, {1}},           {TensorType::BF16, {33}},
    {TensorType::MXFP4, {32, 1}},
};

std::uint64_t expected_bytes(const Shape& shape) {
  const auto g = geometry_of(shape.type);
  std::uint64_t elements = 1;
  for (auto d : shape.dims) elements *= d;
  return elements / g.block_elements * g.block_bytes;
}

}  // namespace

TEST_CASE("tensor data sits at aligned offsets with each type's exact byte size, for several alignments") {
  for (std::uint32_t alignment : {1u, 8u, 32u, 64u, 4096u}) {
    CAPTURE(alignment);
    Writer writer;
    writer.add("general.architecture", "test");
    if (alignment != default_alignment) writer.set_alignment(alignment);
    std::vector<std::vector<std::byte>> payloads;
    for (std::size_t i = 0; i < mixed_shapes.size(); ++i) {
      payloads.push_back(pattern_bytes(expected_bytes(mixed_shapes[i]), static_cast<std::uint32_t>(i)));
      writer.add_tensor(fmt::format("t{}", i), mixed_shapes[i].dims, mixed_shapes[i].type, payloads.back());
    }
    const auto bytes = writer.to_bytes();
    CHECK(bytes.size() == writer.size());
    CHECK(bytes.size() % alignment == 0);

    const File file = parse(bytes);
    CHECK(file.alignment() == alignment);
    CHECK(file.data_offset() % alignment == 0);
    REQUIRE(file.tensors().size() == mixed_shapes.size());
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < mixed_shapes.size(); ++i) {
      const TensorInfo& t = file.tensors()[i];
      CAPTURE(t.name);
      CHECK(t.type == mixed_shapes[i].type);
      CHECK(t.dims == mixed_shapes[i].dims);
      CHECK(t.byte_size == expected_bytes(mixed_shapes[i]));
      CHECK(t.data_offset % alignment == 0);
      // Packed: each tensor starts at the first aligned offset after the last.
      CHECK(t.data_offset == (end + alignment - 1) / alignment * alignment);
      CHECK(std::ranges::equal(t.bytes, payloads[i]));
      CHECK(t.bytes.data() == bytes.data() + file.data_offset() + t.data_offset);
      // The gap before the tensor is zero padding.
      const auto gap = std::span(bytes).subspan(file.data_offset() + end, t.data_offset - end);
      CHECK(std::ranges::all_of(gap, [](std::byte b) { return b == std::byte{0}; }));
      end = t.data_offset + t.byte_size;
    }
  }
}

TEST_CASE("the data section starts at the first aligned offset after the tensor infos") {
  Writer writer;
  writer.add("k", "v").add_tensor("w", {32}, TensorType::Q4_0, pattern_bytes(18, 1));
  const auto bytes = writer.to_bytes();
  const std::uint64_t infos_end = 24 + (8 + 1 + 4 + 8 + 1) + (8 + 1 + 4 + 8 + 4 + 8);
  const File file = parse(bytes);
  CHECK(file.data_offset() == (infos_end + 31) / 32 * 32);
  CHECK(bytes.size() == file.data_offset() + 32);
}

TEST_CASE("a file with no tensors is valid and padded to the alignment") {
  Writer writer;
  writer.set_version(2).add("general.architecture", "llama");
  const auto bytes = writer.to_bytes();
  CHECK(bytes.size() % default_alignment == 0);
  const File file = parse(bytes);
  CHECK(file.version() == 2);
  CHECK(file.tensors().empty());
  CHECK(file.get<std::string_view>("general.architecture") == "llama");
}

TEST_CASE("a fill callback is called in order with consecutive chunks covering the tensor") {
  const auto expected = pattern_bytes(64 * 1000 * 4, 9);
  std::vector<std::pair<std::uint64_t, std::size_t>> calls;
  Writer writer;
  writer.add_tensor("big", {64, 1000}, TensorType::F32, [&](std::uint64_t offset, std::span<std::byte> out) {
    calls.emplace_back(offset, out.size());
    std::copy_n(expected.begin() + static_cast<std::ptrdiff_t>(offset), out.size(), out.begin());
  });
  const auto bytes = writer.to_bytes();
  CHECK(std::ranges::equal(parse(bytes).tensor("big").bytes, expected));
  std::uint64_t next = 0;
  for (const auto& [offset, size] : calls) {
    CHECK(offset == next);
    next += size;
  }
  CHECK(next == expected.size());
}

TEST_CASE("tensor names and shapes the reader would refuse are refused by the writer") {
  Writer writer;
  const auto q4 = pattern_bytes(18, 2);
  writer.add_tensor("a", {32}, TensorType::Q4_0, q4);
  CHECK_THROWS_WITH_AS(writer.add_tensor("a", {32}, TensorType::Q4_0, q4),
                       doctest::Contains("duplicate tensor name 'a'"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {}, TensorType::F32, q4), doctest::Contains("0 dimensions"),
                       pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {1, 1, 1, 1, 1}, TensorType::F32, q4),
                       doctest::Contains("5 dimensions"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {32, 0}, TensorType::Q4_0, q4), doctest::Contains("dimension 1 is 0"),
                       pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {48}, TensorType::Q4_0, q4),
                       doctest::Contains("row length 48 is not a multiple of the Q4_0 block size 32"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {1ull << 32, 1ull << 32}, TensorType::F32, q4),
                       doctest::Contains("overflows"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {64}, TensorType::Q4_0, q4),
                       doctest::Contains("needs 36 bytes but 18 were given"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add_tensor("b", {32}, static_cast<TensorType>(4), q4),
                       doctest::Contains("unknown tensor type id 4"), pagoda::Error);
  CHECK_THROWS_AS(writer.add_tensor("b", {32}, TensorType::Q4_0, TensorFill{}), pagoda::Error);
  CHECK(writer.tensor_count() == 1);
}

TEST_CASE("general.alignment must be an integer power of two from 1 to 2^30") {
  Writer writer;
  CHECK_THROWS_WITH_AS(writer.set_alignment(0), doctest::Contains("not 0"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.set_alignment(3), doctest::Contains("not 3"), pagoda::Error);
  CHECK_THROWS_AS(writer.set_alignment(1u << 31), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add("general.alignment", "32"), doctest::Contains("not a STRING"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add("general.alignment", 32.0f), doctest::Contains("not a FLOAT32"), pagoda::Error);
  CHECK(writer.alignment() == default_alignment);
  CHECK_FALSE(writer.contains("general.alignment"));

  writer.add("general.alignment", std::uint64_t{16});  // any integer type the reader accepts
  CHECK(writer.alignment() == 16);
  writer.set_alignment(128);
  CHECK(writer.alignment() == 128);
  const auto bytes = writer.to_bytes();
  CHECK(parse(bytes).alignment() == 128);
  CHECK(parse(bytes).metadata().size() == 1);
}

TEST_CASE("the writer refuses a tensor name that ggml engines could not load") {
  pagoda::gguf::Writer writer;
  const std::vector<std::byte> four(4);
  CHECK_NOTHROW(writer.add_tensor(std::string(63, 'a'), {1}, pagoda::gguf::TensorType::F32, four));
  CHECK_THROWS_WITH_AS(writer.add_tensor(std::string(64, 'b'), {1}, pagoda::gguf::TensorType::F32, four),
                       doctest::Contains("at most 63"), pagoda::Error);
}
