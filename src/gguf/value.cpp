// Metadata value access: element decoding for arrays (whose bounds the parser
// has already checked) and numeric conversions.
#include <cstring>
#include <limits>

#include "parser.hpp"
#include "pagoda/gguf/value.hpp"

namespace pagoda::gguf {

std::string_view name_of(ValueType type) {
  switch (type) {
    case ValueType::UINT8: return "UINT8";
    case ValueType::INT8: return "INT8";
    case ValueType::UINT16: return "UINT16";
    case ValueType::INT16: return "INT16";
    case ValueType::UINT32: return "UINT32";
    case ValueType::INT32: return "INT32";
    case ValueType::FLOAT32: return "FLOAT32";
    case ValueType::BOOL: return "BOOL";
    case ValueType::STRING: return "STRING";
    case ValueType::ARRAY: return "ARRAY";
    case ValueType::UINT64: return "UINT64";
    case ValueType::INT64: return "INT64";
    case ValueType::FLOAT64: return "FLOAT64";
  }
  return "unknown";
}

namespace {

template <class T>
T load(const std::byte* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

std::string_view string_from(std::span<const std::byte> payload, std::uint64_t offset) {
  const auto length = load<std::uint64_t>(payload.data() + offset);
  return {reinterpret_cast<const char*>(payload.data() + offset + 8), length};
}

template <class T>
constexpr ValueType value_type_of() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return ValueType::UINT8;
  else if constexpr (std::is_same_v<T, std::int8_t>) return ValueType::INT8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return ValueType::UINT16;
  else if constexpr (std::is_same_v<T, std::int16_t>) return ValueType::INT16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return ValueType::UINT32;
  else if constexpr (std::is_same_v<T, std::int32_t>) return ValueType::INT32;
  else if constexpr (std::is_same_v<T, float>) return ValueType::FLOAT32;
  else if constexpr (std::is_same_v<T, bool>) return ValueType::BOOL;
  else if constexpr (std::is_same_v<T, std::string_view>) return ValueType::STRING;
  else if constexpr (std::is_same_v<T, ArrayValue>) return ValueType::ARRAY;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return ValueType::UINT64;
  else if constexpr (std::is_same_v<T, std::int64_t>) return ValueType::INT64;
  else return ValueType::FLOAT64;
}

}  // namespace

Value ArrayValue::at(std::size_t i) const {
  if (i >= count_) fail("GGUF array index {} is out of range (size {})", i, count_);
  const std::uint64_t size = fixed_size_of(element_type_);
  const std::byte* element = payload_.data() + (size != 0 ? i * size : 0);
  switch (element_type_) {
    case ValueType::UINT8: return Value(load<std::uint8_t>(element));
    case ValueType::INT8: return Value(load<std::int8_t>(element));
    case ValueType::UINT16: return Value(load<std::uint16_t>(element));
    case ValueType::INT16: return Value(load<std::int16_t>(element));
    case ValueType::UINT32: return Value(load<std::uint32_t>(element));
    case ValueType::INT32: return Value(load<std::int32_t>(element));
    case ValueType::FLOAT32: return Value(load<float>(element));
    case ValueType::BOOL: return Value(load<std::uint8_t>(element) != 0);
    case ValueType::STRING: return Value(string_from(payload_, element_offsets_[i]));
    case ValueType::ARRAY: return Value(nested_[i]);
    case ValueType::UINT64: return Value(load<std::uint64_t>(element));
    case ValueType::INT64: return Value(load<std::int64_t>(element));
    case ValueType::FLOAT64: return Value(load<double>(element));
  }
  fail("GGUF array has an unknown element type");
}

std::string_view ArrayValue::string_at(std::size_t i) const {
  if (element_type_ != ValueType::STRING)
    fail("GGUF array holds {} elements, not strings", name_of(element_type_));
  if (i >= count_) fail("GGUF array index {} is out of range (size {})", i, count_);
  return string_from(payload_, element_offsets_[i]);
}

template <class T>
std::vector<T> ArrayValue::as() const {
  if (element_type_ != value_type_of<T>())
    fail("GGUF array holds {} elements, not {}", name_of(element_type_), name_of(value_type_of<T>()));
  std::vector<T> out;
  out.reserve(count_);
  if constexpr (std::is_same_v<T, std::string_view>) {
    for (std::size_t i = 0; i < count_; ++i) out.push_back(string_from(payload_, element_offsets_[i]));
  } else if constexpr (std::is_same_v<T, ArrayValue>) {
    out = nested_;
  } else if constexpr (std::is_same_v<T, bool>) {
    for (std::size_t i = 0; i < count_; ++i) out.push_back(load<std::uint8_t>(payload_.data() + i) != 0);
  } else {
    for (std::size_t i = 0; i < count_; ++i) out.push_back(load<T>(payload_.data() + i * sizeof(T)));
  }
  return out;
}

template std::vector<std::uint8_t> ArrayValue::as() const;
template std::vector<std::int8_t> ArrayValue::as() const;
template std::vector<std::uint16_t> ArrayValue::as() const;
template std::vector<std::int16_t> ArrayValue::as() const;
template std::vector<std::uint32_t> ArrayValue::as() const;
template std::vector<std::int32_t> ArrayValue::as() const;
template std::vector<float> ArrayValue::as() const;
template std::vector<bool> ArrayValue::as() const;
template std::vector<std::string_view> ArrayValue::as() const;
template std::vector<ArrayValue> ArrayValue::as() const;
template std::vector<std::uint64_t> ArrayValue::as() const;
template std::vector<std::int64_t> ArrayValue::as() const;
template std::vector<double> ArrayValue::as() const;

bool Value::is_integer() const {
  switch (type()) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::INT64:
      return true;
    case ValueType::UINT64:
      return std::get<std::uint64_t>(storage_) <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    default:
      return false;
  }
}

std::int64_t Value::as_int64() const {
  if (!is_integer()) fail("GGUF value of type {} is not an integer that fits in 64 bits", name_of(type()));
  return std::visit(
      [](const auto& v) -> std::int64_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) return static_cast<std::int64_t>(v);
        else return 0;
      },
      storage_);
}

bool Value::is_number() const {
  return is_integer() || type() == ValueType::FLOAT32 || type() == ValueType::FLOAT64 ||
         type() == ValueType::UINT64;
}

double Value::as_double() const {
  if (type() == ValueType::FLOAT32) return std::get<float>(storage_);
  if (type() == ValueType::FLOAT64) return std::get<double>(storage_);
  if (type() == ValueType::UINT64) return static_cast<double>(std::get<std::uint64_t>(storage_));
  return static_cast<double>(as_int64());
}

}  // namespace pagoda::gguf
