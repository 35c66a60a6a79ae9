// The GGUF reader on damaged and hostile files: each is refused with a
// pagoda::Error naming the file, the field and its byte offset — never a
// crash, never an allocation sized by an unchecked count.
#include <doctest/doctest.h>

#include <chrono>
#include <initializer_list>
#include <string_view>

#include "gguf_builders.hpp"

using namespace pagoda::gguf;
using pagoda::gguf::testing::contains;
using pagoda::gguf::testing::parse_error;
using pagoda::gguf::testing::pattern_bytes;
using pagoda::gguf::testing::RawGguf;

namespace {

constexpr std::uint32_t type_uint8 = static_cast<std::uint32_t>(ValueType::UINT8);
constexpr std::uint32_t type_string = static_cast<std::uint32_t>(ValueType::STRING);
constexpr std::uint32_t type_array = static_cast<std::uint32_t>(ValueType::ARRAY);
constexpr std::uint32_t f32 = static_cast<std::uint32_t>(TensorType::F32);
constexpr std::uint32_t q4_0 = static_cast<std::uint32_t>(TensorType::Q4_0);

// Parsing fails, and the message holds every part.
void check_refused(const RawGguf& raw, std::initializer_list<std::string_view> parts) {
  const std::string message = parse_error(raw.bytes());
  CAPTURE(message);
  REQUIRE_FALSE(message.empty());
  CHECK(contains(message, "test.gguf: invalid GGUF: "));
  for (auto part : parts) CHECK(contains(message, part));
}

// A file with one F32 tensor of `dims`/`type` whose info starts at byte 24.
RawGguf one_tensor(std::initializer_list<std::uint64_t> dims, std::uint32_t type, std::uint64_t offset = 0) {
  RawGguf raw;
  raw.header(1, 0).tensor_info("w", dims, type, offset).pad_to(32).zeros(4096);
  return raw;
}

}  // namespace

TEST_CASE("every truncation of a small valid file is refused until the last tensor's bytes are whole") {
  Writer writer;
  writer.add("general.architecture", "llama")
      .add("n", std::uint32_t{7})
      .add_array("tokens", {"a", "bc", ""})
      .add("nested", EncodedValue::array({EncodedValue::array({1.5f}), EncodedValue::array({"x"})}))
      .add_tensor("a", {32, 2}, TensorType::Q4_1, pattern_bytes(40, 1))
      .add_tensor("b", {5}, TensorType::F32, pattern_bytes(20, 2));
  const auto bytes = writer.to_bytes();
  const File whole = pagoda::gguf::testing::parse(bytes);
  const auto& last = whole.tensors().back();
  const std::size_t needed = whole.data_offset() + last.data_offset + last.byte_size;
  for (std::size_t length = 0; length <= bytes.size(); ++length) {
    CAPTURE(length);
    const std::string message = parse_error(std::span(bytes).first(length));
    if (length < needed) {
      CHECK(contains(message, "test.gguf: invalid GGUF: "));
      CHECK(contains(message, "at byte offset "));
    } else {
      CHECK(message.empty());
    }
  }
}

TEST_CASE("a file that does not start with GGUF is refused at offset 0") {
  RawGguf raw;
  raw.u32(0x4c4d4747).u32(3).u64(0).u64(0);  // "GGML"
  check_refused(raw, {"magic at byte offset 0", "not a GGUF file"});
}

TEST_CASE("GGUF version 1, big-endian and unknown versions are refused at offset 4") {
  check_refused(RawGguf().header(0, 0, 1), {"version at byte offset 4", "version 1 is not supported"});
  check_refused(RawGguf().header(0, 0, 0x03000000), {"version at byte offset 4", "big-endian"});
  check_refused(RawGguf().header(0, 0, 4), {"version at byte offset 4", "unknown GGUF version 4"});
}

TEST_CASE("an unknown metadata value type is refused with the key and the type's offset") {
  RawGguf raw;
  raw.header(0, 1).str("k").u32(13).u32(0);
  check_refused(raw, {"metadata 'k' at byte offset 33", "unknown metadata value type 13"});
}

TEST_CASE("a string whose length runs past the end of the file is refused with its offset") {
  RawGguf value;
  value.header(0, 1).str("k").u32(type_string).u64(1000).u32(0);
  check_refused(value, {"metadata 'k' at byte offset 37", "string length 1000 exceeds the 4 bytes that remain"});
  RawGguf key;
  key.header(0, 1).u64(~std::uint64_t{0}).zeros(16);
  check_refused(key, {"metadata key at byte offset 24", "exceeds"});
}

TEST_CASE("an array count of 2^60 fails at once, without allocating for it") {
  for (std::uint32_t element : {type_uint8, type_string, type_array}) {
    CAPTURE(element);
    RawGguf raw;
    raw.header(0, 1).str("k").u32(type_array).u32(element).u64(std::uint64_t{1} << 60).zeros(64);
    const auto start = std::chrono::steady_clock::now();
    check_refused(raw, {"metadata 'k' at byte offset", "1152921504606846976"});
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  }
}

TEST_CASE("key/value and tensor counts larger than the file are refused before reading on") {
  check_refused(RawGguf().header(0, std::uint64_t{1} << 62).zeros(64),
                {"metadata_kv_count at byte offset 16", "cannot fit"});
  check_refused(RawGguf().header(std::uint64_t{1} << 62, 0).zeros(64), {"tensor_count at byte offset 8", "cannot fit"});
}

TEST_CASE("arrays nested deeper than max_array_depth are refused; that depth itself is accepted") {
  auto nested = [](int depth) {
    RawGguf raw;
    raw.header(0, 1).str("k").u32(type_array);
    for (int level = 1; level < depth; ++level) raw.u32(type_array).u64(1);
    raw.u32(type_uint8).u64(1).put(std::uint8_t{5});
    return raw;
  };
  CHECK(parse_error(nested(max_array_depth).bytes()).empty());
  check_refused(nested(max_array_depth + 1), {"metadata 'k'", "arrays nested deeper than 8 levels"});
}

TEST_CASE("a duplicate key is refused at the second pair's offset") {
  RawGguf raw;
  raw.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
  check_refused(raw, {"metadata 'k' at byte offset 41", "duplicate key"});
}

TEST_CASE("an empty key is refused") {
  check_refused(RawGguf().header(0, 1).kv_u32("", 1), {"metadata key at byte offset 24", "empty key"});
}

TEST_CASE("a duplicate tensor name is refused at the second info's offset") {
  RawGguf raw;
  raw.header(2, 0).tensor_info("w", {8}, f32, 0).tensor_info("w", {8}, f32, 32).pad_to(32).zeros(64);
  check_refused(raw, {"tensor 'w' at byte offset 57", "duplicate tensor name"});
}

TEST_CASE("a tensor name of 64 bytes or more is refused, as ggml refuses it; 63 bytes are read") {
  const std::string longest(63, 'n'), too_long(64, 'n');
  RawGguf fits;
  fits.header(1, 0).tensor_info(longest, {8}, f32, 0).pad_to(32).zeros(32);
  CHECK(parse_error(fits.bytes()).empty());
  RawGguf refused;
  refused.header(1, 0).tensor_info(too_long, {8}, f32, 0).pad_to(32).zeros(32);
  check_refused(refused, {"at byte offset 24", "has a 64-byte name; GGUF (ggml) allows at most 63"});
}

TEST_CASE("tensors with 0 or 5 dimensions are refused") {
  check_refused(one_tensor({}, f32), {"tensor 'w' at byte offset 33", "has 0 dimensions; GGUF allows 1 to 4"});
  check_refused(one_tensor({1, 1, 1, 1, 1}, f32), {"tensor 'w' at byte offset 33", "has 5 dimensions"});
}

TEST_CASE("a zero dimension is refused with its offset") {
  check_refused(one_tensor({4, 0}, f32), {"tensor 'w' at byte offset 45", "dimension 1 is 0"});
}

TEST_CASE("dimensions whose product overflows 64 bits are refused") {
  check_refused(one_tensor({1ull << 32, 1ull << 32, 2}, f32), {"tensor 'w'", "product of its dimensions overflows"});
  check_refused(one_tensor({1ull << 62}, f32), {"tensor 'w'", "byte size overflows 64 bits"});
}

TEST_CASE("an unknown tensor type id is refused with its offset") {
  check_refused(one_tensor({32}, 4), {"tensor 'w' at byte offset 45", "unknown tensor type id 4"});
  check_refused(one_tensor({32}, 0xffffffff), {"unknown tensor type id 4294967295"});
}

TEST_CASE("a row length that is not a multiple of the block size is refused") {
  check_refused(one_tensor({48, 2}, q4_0), {"tensor 'w'", "row length 48 is not a multiple of the Q4_0 block size 32"});
}

TEST_CASE("a tensor offset that breaks the alignment is refused with its offset") {
  check_refused(one_tensor({8}, f32, 16), {"tensor 'w' at byte offset 49", "data offset 16 is not a multiple of the alignment 32"});
}

TEST_CASE("tensor data running past the end of the file is refused") {
  RawGguf raw;
  raw.header(1, 0).tensor_info("w", {64}, f32, 0).pad_to(32).zeros(255);
  check_refused(raw, {"tensor 'w' at byte offset 24", "its 256 bytes at data offset 0 extend past the end"});
  check_refused(one_tensor({8}, f32, 1ull << 63), {"tensor 'w'", "extend past the end"});
  check_refused(one_tensor({8}, f32, ~std::uint64_t{31}), {"tensor 'w'", "extend past the end"});
}

TEST_CASE("a data section that would start past the end of the file is refused") {
  RawGguf raw;
  raw.header(1, 0).tensor_info("w", {1}, f32, 0);
  check_refused(raw, {"data section", "starts past the end of the file"});
}

TEST_CASE("overlapping tensors are refused, naming both") {
  RawGguf raw;
  raw.header(2, 0).tensor_info("a", {16}, f32, 0).tensor_info("b", {16}, f32, 32).pad_to(32).zeros(128);
  check_refused(raw, {"tensor 'b'", "its data overlaps tensor 'a'"});
}

TEST_CASE("general.alignment of 0, 3, or a non-integer type is refused") {
  check_refused(RawGguf().header(0, 1).kv_u32("general.alignment", 0),
                {"metadata 'general.alignment' at byte offset 24", "must be a power of two"});
  check_refused(RawGguf().header(0, 1).kv_u32("general.alignment", 3), {"general.alignment", "power of two"});
  check_refused(RawGguf().header(0, 1).kv_string("general.alignment", "32"), {"general.alignment", "power of two"});
  check_refused(RawGguf().header(0, 1).str("general.alignment").u32(6).put(32.0f), {"general.alignment"});
}

TEST_CASE("a custom alignment moves the data section and is enforced on tensor offsets") {
  RawGguf good;
  good.header(1, 1).kv_u32("general.alignment", 64).tensor_info("w", {8}, f32, 64).pad_to(64).zeros(128);
  const std::string message = parse_error(good.bytes());
  CHECK(message.empty());
  RawGguf bad;
  bad.header(1, 1).kv_u32("general.alignment", 64).tensor_info("w", {8}, f32, 32).pad_to(64).zeros(128);
  check_refused(bad, {"not a multiple of the alignment 64"});
}
