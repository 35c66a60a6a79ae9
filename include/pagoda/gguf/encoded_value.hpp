// An owned GGUF metadata value for writing, held already encoded: a scalar,
// a string, an array of either, or nested arrays. gguf::Writer takes these;
// EncodedValue::copy_of turns a value read from a file (gguf/value.hpp) into
// one, so a model's metadata can be copied into a new file.
#pragma once

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <ranges>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "pagoda/gguf/value.hpp"

namespace pagoda::gguf {

static_assert(std::endian::native == std::endian::little, "the GGUF writer assumes a little-endian host");

// The C++ types of GGUF's scalar value types.
template <class T>
concept ScalarValue =
    std::same_as<T, std::uint8_t> || std::same_as<T, std::int8_t> || std::same_as<T, std::uint16_t> ||
    std::same_as<T, std::int16_t> || std::same_as<T, std::uint32_t> || std::same_as<T, std::int32_t> ||
    std::same_as<T, std::uint64_t> || std::same_as<T, std::int64_t> || std::same_as<T, float> ||
    std::same_as<T, double> || std::same_as<T, bool>;

template <ScalarValue T>
[[nodiscard]] constexpr ValueType value_type_for() {
  if constexpr (std::same_as<T, std::uint8_t>) return ValueType::UINT8;
  else if constexpr (std::same_as<T, std::int8_t>) return ValueType::INT8;
  else if constexpr (std::same_as<T, std::uint16_t>) return ValueType::UINT16;
  else if constexpr (std::same_as<T, std::int16_t>) return ValueType::INT16;
  else if constexpr (std::same_as<T, std::uint32_t>) return ValueType::UINT32;
  else if constexpr (std::same_as<T, std::int32_t>) return ValueType::INT32;
  else if constexpr (std::same_as<T, std::uint64_t>) return ValueType::UINT64;
  else if constexpr (std::same_as<T, std::int64_t>) return ValueType::INT64;
  else if constexpr (std::same_as<T, float>) return ValueType::FLOAT32;
  else if constexpr (std::same_as<T, double>) return ValueType::FLOAT64;
  else return ValueType::BOOL;
}

// An owned metadata value, held already encoded: `body()` is exactly the
// bytes that follow the value-type tag in a GGUF key/value pair (for an
// array: element type, count, elements).
class EncodedValue {
public:
  template <ScalarValue T>
  [[nodiscard]] static EncodedValue scalar(T value) {
    EncodedValue v(value_type_for<T>());
    v.append_scalar(value);
    return v;
  }

  [[nodiscard]] static EncodedValue string(std::string_view text);

  // An array of scalars, of strings (elements convertible to
  // std::string_view), or of EncodedValues all of one type (arrays nest, up
  // to max_array_depth levels). An empty range of EncodedValues has no
  // element type: use empty_array() for that.
  template <std::ranges::input_range R>
  [[nodiscard]] static EncodedValue array(R&& elements);
  template <class T>
  [[nodiscard]] static EncodedValue array(std::initializer_list<T> elements) {
    return array(std::span<const T>(elements.begin(), elements.size()));
  }
  [[nodiscard]] static EncodedValue empty_array(ValueType element_type);

  // A deep copy of a value read from a GGUF file.
  [[nodiscard]] static EncodedValue copy_of(const Value& value);

  [[nodiscard]] ValueType type() const { return type_; }
  [[nodiscard]] std::span<const std::byte> body() const { return body_; }
  // 0 for a scalar or string; 1 + the deepest element's for an array.
  [[nodiscard]] int array_depth() const { return depth_; }

private:
  explicit EncodedValue(ValueType type) : type_(type) {}

  template <class T>
  void append_scalar(T value) {
    if constexpr (std::same_as<T, bool>) {
      body_.push_back(std::byte{value ? std::uint8_t{1} : std::uint8_t{0}});
    } else {
      const auto at = body_.size();
      body_.resize(at + sizeof(T));
      std::memcpy(body_.data() + at, &value, sizeof(T));
    }
  }
  void append_string(std::string_view text);
  void begin_array(ValueType element_type, std::uint64_t count);
  void set_array_count(std::uint64_t count);  // patches the count begin_array wrote
  static EncodedValue array_of_values(std::span<const EncodedValue> elements);

  ValueType type_;
  int depth_ = 0;
  std::vector<std::byte> body_;
};

template <std::ranges::input_range R>
EncodedValue EncodedValue::array(R&& elements) {
  using E = std::ranges::range_value_t<R>;  // bool, not vector<bool>'s proxy
  if constexpr (std::same_as<E, EncodedValue>) {
    if constexpr (std::ranges::contiguous_range<R> && std::ranges::sized_range<R>) {
      return array_of_values(std::span<const EncodedValue>(std::ranges::data(elements), std::ranges::size(elements)));
    } else {
      std::vector<EncodedValue> copy(std::ranges::begin(elements), std::ranges::end(elements));
      return array_of_values(copy);
    }
  } else if constexpr (ScalarValue<E>) {
    EncodedValue v(ValueType::ARRAY);
    v.depth_ = 1;
    v.begin_array(value_type_for<E>(), 0);
    if constexpr (!std::same_as<E, bool> && std::ranges::contiguous_range<R> && std::ranges::sized_range<R>) {
      const auto count = static_cast<std::uint64_t>(std::ranges::size(elements));
      const auto at = v.body_.size();
      v.body_.resize(at + count * sizeof(E));
      if (count != 0) std::memcpy(v.body_.data() + at, std::ranges::data(elements), count * sizeof(E));
      v.set_array_count(count);
    } else {
      std::uint64_t count = 0;
      for (const E& element : elements) {
        v.append_scalar(element);
        ++count;
      }
      v.set_array_count(count);
    }
    return v;
  } else {
    static_assert(std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>,
                  "EncodedValue::array takes scalars, strings or EncodedValues");
    EncodedValue v(ValueType::ARRAY);
    v.depth_ = 1;
    v.begin_array(ValueType::STRING, 0);
    std::uint64_t count = 0;
    for (auto&& element : elements) {
      v.append_string(std::string_view(element));
      ++count;
    }
    v.set_array_count(count);
    return v;
  }
}

}  // namespace pagoda::gguf
