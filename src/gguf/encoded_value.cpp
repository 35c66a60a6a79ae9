// EncodedValue: GGUF metadata values encoded for writing, and deep copies of
// values read from a file.
#include "pagoda/gguf/encoded_value.hpp"

#include <algorithm>
#include <variant>

#include "encoding.hpp"
#include "pagoda/core/error.hpp"

namespace pagoda::gguf {

using encoding::put;
using encoding::put_string;

namespace {

// Decodes an array of a scalar element type read from a file and re-encodes it.
template <class T>
EncodedValue copy_elements(const ArrayValue& array) {
  return EncodedValue::array(array.as<T>());
}

}  // namespace

EncodedValue EncodedValue::string(std::string_view text) {
  EncodedValue v(ValueType::STRING);
  v.append_string(text);
  return v;
}

EncodedValue EncodedValue::empty_array(ValueType element_type) {
  if (static_cast<std::uint32_t>(element_type) > static_cast<std::uint32_t>(ValueType::FLOAT64))
    fail("GGUF writer: unknown array element type {}", static_cast<std::uint32_t>(element_type));
  EncodedValue v(ValueType::ARRAY);
  v.depth_ = 1;
  v.begin_array(element_type, 0);
  return v;
}

void EncodedValue::append_string(std::string_view text) { put_string(body_, text); }

void EncodedValue::begin_array(ValueType element_type, std::uint64_t count) {
  put<std::uint32_t>(body_, static_cast<std::uint32_t>(element_type));
  put<std::uint64_t>(body_, count);
}

void EncodedValue::set_array_count(std::uint64_t count) {
  std::memcpy(body_.data() + sizeof(std::uint32_t), &count, sizeof(count));
}

EncodedValue EncodedValue::array_of_values(std::span<const EncodedValue> elements) {
  if (elements.empty())
    fail("GGUF writer: an empty array of values has no element type; use EncodedValue::empty_array");
  const ValueType element_type = elements.front().type();
  std::size_t bytes = 12;
  int depth = 0;
  for (const auto& element : elements) {
    if (element.type() != element_type)
      fail("GGUF writer: an array's elements must share one type, but {} and {} are mixed",
           name_of(element_type), name_of(element.type()));
    bytes += element.body_.size();
    depth = std::max(depth, element.depth_);
  }
  if (depth + 1 > max_array_depth)
    fail("GGUF writer: arrays nested {} levels deep; GGUF readers accept at most {}", depth + 1, max_array_depth);
  EncodedValue v(ValueType::ARRAY);
  v.depth_ = depth + 1;
  v.body_.reserve(bytes);
  v.begin_array(element_type, elements.size());
  for (const auto& element : elements) v.body_.insert(v.body_.end(), element.body_.begin(), element.body_.end());
  return v;
}

EncodedValue EncodedValue::copy_of(const Value& value) {
  return std::visit(
      [](const auto& v) -> EncodedValue {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::same_as<T, std::string_view>) {
          return string(v);
        } else if constexpr (std::same_as<T, ArrayValue>) {
          switch (v.element_type()) {
            case ValueType::UINT8: return copy_elements<std::uint8_t>(v);
            case ValueType::INT8: return copy_elements<std::int8_t>(v);
            case ValueType::UINT16: return copy_elements<std::uint16_t>(v);
            case ValueType::INT16: return copy_elements<std::int16_t>(v);
            case ValueType::UINT32: return copy_elements<std::uint32_t>(v);
            case ValueType::INT32: return copy_elements<std::int32_t>(v);
            case ValueType::FLOAT32: return copy_elements<float>(v);
            case ValueType::BOOL: return copy_elements<bool>(v);
            case ValueType::STRING: return copy_elements<std::string_view>(v);
            case ValueType::UINT64: return copy_elements<std::uint64_t>(v);
            case ValueType::INT64: return copy_elements<std::int64_t>(v);
            case ValueType::FLOAT64: return copy_elements<double>(v);
            case ValueType::ARRAY: break;
          }
          if (v.empty()) return empty_array(ValueType::ARRAY);
          std::vector<EncodedValue> nested;
          nested.reserve(v.size());
          for (const auto& element : v.template as<ArrayValue>()) nested.push_back(copy_of(Value(element)));
          return array_of_values(nested);
        } else {
          return scalar(v);
        }
      },
      value.storage());
}

}  // namespace pagoda::gguf
