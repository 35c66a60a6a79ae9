// gguf::Writer → gguf::File round trips: every metadata value type, in GGUF
// v2 and v3, read back exactly as written.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gguf_builders.hpp"

using namespace pagoda::gguf;
using pagoda::gguf::testing::parse;

namespace {

template <class T>
void check_scalar_round_trip(std::uint32_t version, T value) {
  Writer writer;
  writer.set_version(version).add("k", value);
  const auto bytes = writer.to_bytes();
  const File file = parse(bytes);
  CHECK(file.version() == version);
  REQUIRE(file.metadata().size() == 1);
  const Value& read = *file.find("k");
  CHECK(read.type() == value_type_for<T>());
  REQUIRE(read.get_if<T>() != nullptr);
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(value)) {
      CHECK(std::isnan(*read.get_if<T>()));
      return;
    }
  }
  CHECK(*read.get_if<T>() == value);
  CHECK(file.get<T>("k") == value);
}

template <class T>
void check_scalar_extremes(std::uint32_t version) {
  check_scalar_round_trip<T>(version, T{});
  check_scalar_round_trip<T>(version, std::numeric_limits<T>::min());
  check_scalar_round_trip<T>(version, std::numeric_limits<T>::max());
  check_scalar_round_trip<T>(version, std::numeric_limits<T>::lowest());
}

template <class T>
void check_array_round_trip(std::uint32_t version, const std::vector<T>& values) {
  Writer writer;
  writer.set_version(version).add_array("a", values);
  const auto bytes = writer.to_bytes();
  const File file = parse(bytes);
  const auto array = file.get<ArrayValue>("a");
  CHECK(array.element_type() == value_type_for<T>());
  CHECK(array.size() == values.size());
  CHECK(array.template as<T>() == values);
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(*array.at(i).template get_if<T>() == values[i]);
}

}  // namespace

TEST_CASE("every scalar type round-trips with its extremes, in GGUF v2 and v3") {
  for (std::uint32_t version : {2u, 3u}) {
    CAPTURE(version);
    check_scalar_extremes<std::uint8_t>(version);
    check_scalar_extremes<std::int8_t>(version);
    check_scalar_extremes<std::uint16_t>(version);
    check_scalar_extremes<std::int16_t>(version);
    check_scalar_extremes<std::uint32_t>(version);
    check_scalar_extremes<std::int32_t>(version);
    check_scalar_extremes<std::uint64_t>(version);
    check_scalar_extremes<std::int64_t>(version);
    check_scalar_extremes<float>(version);
    check_scalar_extremes<double>(version);
    check_scalar_round_trip(version, true);
    check_scalar_round_trip(version, false);
    check_scalar_round_trip(version, std::numeric_limits<float>::quiet_NaN());
    check_scalar_round_trip(version, -std::numeric_limits<double>::infinity());
  }
}

TEST_CASE("strings round-trip byte for byte: empty, UTF-8, embedded NULs, 100 KB") {
  const std::vector<std::string> texts = {"", "llama", "Ġthe ▁ünïcødé 🦙", std::string("a\0b\0", 4),
                                          std::string(100'000, 'x')};
  for (std::uint32_t version : {2u, 3u}) {
    Writer writer;
    writer.set_version(version);
    for (std::size_t i = 0; i < texts.size(); ++i) writer.add(fmt::format("s{}", i), texts[i]);
    const auto bytes = writer.to_bytes();
    const File file = parse(bytes);
    for (std::size_t i = 0; i < texts.size(); ++i)
      CHECK(file.get<std::string_view>(fmt::format("s{}", i)) == texts[i]);
  }
}

TEST_CASE("arrays of every scalar type round-trip, empty ones included") {
  for (std::uint32_t version : {2u, 3u}) {
    CAPTURE(version);
    check_array_round_trip<std::uint8_t>(version, {0, 1, 255});
    check_array_round_trip<std::int8_t>(version, {-128, 0, 127});
    check_array_round_trip<std::uint16_t>(version, {0, 65535});
    check_array_round_trip<std::int16_t>(version, {-32768, 32767});
    check_array_round_trip<std::uint32_t>(version, {1, 2, 3, 4'000'000'000u});
    check_array_round_trip<std::int32_t>(version, {-7, 0, 7});
    check_array_round_trip<std::uint64_t>(version, {std::numeric_limits<std::uint64_t>::max()});
    check_array_round_trip<std::int64_t>(version, {std::numeric_limits<std::int64_t>::min(), 5});
    check_array_round_trip<float>(version, {0.5f, -1.25f, 3e38f});
    check_array_round_trip<double>(version, {1e-300, -2.5});
    check_array_round_trip<bool>(version, {true, false, true});
    check_array_round_trip<float>(version, {});
    check_array_round_trip<std::int32_t>(version, {});
  }
}

TEST_CASE("an array of strings round-trips like a tokenizer vocabulary") {
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) vocab.push_back(i % 7 == 0 ? std::string() : fmt::format("tok{}", i));
  Writer writer;
  writer.add_array("tokenizer.ggml.tokens", vocab).add_array("empty", std::vector<std::string>{});
  const auto bytes = writer.to_bytes();
  const File file = parse(bytes);
  const auto tokens = file.get<ArrayValue>("tokenizer.ggml.tokens");
  CHECK(tokens.element_type() == ValueType::STRING);
  REQUIRE(tokens.size() == vocab.size());
  for (std::size_t i = 0; i < vocab.size(); ++i) CHECK(tokens.string_at(i) == vocab[i]);
  const auto views = tokens.as<std::string_view>();
  CHECK(std::vector<std::string>(views.begin(), views.end()) == vocab);
  CHECK(file.get<ArrayValue>("empty").element_type() == ValueType::STRING);
  CHECK(file.get<ArrayValue>("empty").empty());
}

TEST_CASE("nested arrays round-trip, inner arrays of different element types included") {
  const auto inner_ints = EncodedValue::array({1, 2, 3});
  const auto inner_strings = EncodedValue::array({"x", "", "yz"});
  const auto inner_empty = EncodedValue::empty_array(ValueType::FLOAT64);
  const auto matrix = EncodedValue::array({inner_ints, inner_strings, inner_empty});
  const auto deeper = EncodedValue::array({matrix, matrix});
  CHECK(deeper.array_depth() == 3);

  for (std::uint32_t version : {2u, 3u}) {
    Writer writer;
    writer.set_version(version).add("m", matrix).add("d", deeper).add("e", EncodedValue::empty_array(ValueType::ARRAY));
    const auto bytes = writer.to_bytes();
    const File file = parse(bytes);

    const auto m = file.get<ArrayValue>("m");
    CHECK(m.element_type() == ValueType::ARRAY);
    REQUIRE(m.size() == 3);
    const auto rows = m.as<ArrayValue>();
    CHECK(rows[0].as<std::int32_t>() == std::vector<std::int32_t>{1, 2, 3});
    CHECK(rows[1].string_at(2) == "yz");
    CHECK(rows[1].string_at(1).empty());
    CHECK(rows[2].element_type() == ValueType::FLOAT64);
    CHECK(rows[2].empty());
    CHECK(m.at(0).get_if<ArrayValue>()->at(2).as_int64() == 3);

    const auto d = file.get<ArrayValue>("d");
    REQUIRE(d.size() == 2);
    CHECK(d.as<ArrayValue>()[1].as<ArrayValue>()[1].string_at(0) == "x");
    CHECK(file.get<ArrayValue>("e").element_type() == ValueType::ARRAY);
    CHECK(file.get<ArrayValue>("e").empty());
  }
}

TEST_CASE("arrays nest up to max_array_depth levels; the writer refuses one more") {
  EncodedValue v = EncodedValue::array({std::uint8_t{42}});
  for (int depth = 2; depth <= max_array_depth; ++depth) v = EncodedValue::array({v});
  CHECK(v.array_depth() == max_array_depth);
  Writer writer;
  writer.add("deep", v);
  const auto bytes = writer.to_bytes();
  const File file = parse(bytes);
  ArrayValue level = file.get<ArrayValue>("deep");
  for (int depth = 1; depth < max_array_depth; ++depth) level = level.as<ArrayValue>().at(0);
  CHECK(level.as<std::uint8_t>() == std::vector<std::uint8_t>{42});

  CHECK_THROWS_WITH_AS((void)EncodedValue::array({v}), doctest::Contains("nested 9 levels"), pagoda::Error);
}

TEST_CASE("an array's elements must share one type") {
  CHECK_THROWS_WITH_AS((void)EncodedValue::array({EncodedValue::scalar(1), EncodedValue::string("a")}),
                       doctest::Contains("INT32 and STRING"), pagoda::Error);
  CHECK_THROWS_AS((void)EncodedValue::array(std::vector<EncodedValue>{}), pagoda::Error);
}

TEST_CASE("metadata keeps the order it was added in, and set() replaces in place") {
  Writer writer;
  writer.add("b", 1u).add("a", "two").add("c", 3.0);
  writer.set("a", EncodedValue::scalar(std::int8_t{-2})).set("d", EncodedValue::string("four"));
  CHECK(writer.contains("a"));
  CHECK_FALSE(writer.contains("z"));
  const auto bytes = writer.to_bytes();
  const File file = parse(bytes);
  REQUIRE(file.metadata().size() == 4);
  CHECK(file.metadata()[0].key == "b");
  CHECK(file.metadata()[1].key == "a");
  CHECK(file.get<std::int8_t>("a") == -2);
  CHECK(file.metadata()[3].key == "d");
}

TEST_CASE("the writer refuses duplicate and empty keys, and versions other than 2 and 3") {
  Writer writer;
  writer.add("general.name", "x");
  CHECK_THROWS_WITH_AS(writer.add("general.name", "y"), doctest::Contains("duplicate metadata key 'general.name'"),
                       pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.add("", 1), doctest::Contains("may not be empty"), pagoda::Error);
  CHECK_THROWS_WITH_AS(writer.set_version(1), doctest::Contains("version 1"), pagoda::Error);
  CHECK_THROWS_AS(writer.set_version(4), pagoda::Error);
  CHECK(writer.version() == 3);
  CHECK(writer.metadata_count() == 1);
}

TEST_CASE("every value copied from a parsed file re-encodes to the same bytes") {
  Writer original;
  original.add("u8", std::uint8_t{7})
      .add("f", 1.5f)
      .add("b", true)
      .add("s", "text")
      .add_array("strings", {"a", "bc"})
      .add_array("bools", {true, false})
      .add_array("u64", {std::uint64_t{1}, std::uint64_t{2}})
      .add("nested", EncodedValue::array({EncodedValue::array({1.0, 2.0}), EncodedValue::array({3.0})}))
      .add("empty_nested", EncodedValue::empty_array(ValueType::ARRAY));
  const auto bytes = original.to_bytes();
  const File file = parse(bytes);

  Writer copy;
  for (const auto& entry : file.metadata()) copy.add(entry.key, EncodedValue::copy_of(entry.value));
  CHECK(copy.to_bytes() == bytes);
}
