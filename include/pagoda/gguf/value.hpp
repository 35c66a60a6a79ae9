// GGUF metadata values. Scalars are held by value; strings and arrays are
// views into the file's (read-only) bytes, so a 49k-entry vocabulary costs an
// offset table, not a copy. Arrays may nest; elements decode on access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace pagoda::gguf {

enum class ValueType : std::uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};

[[nodiscard]] std::string_view name_of(ValueType type);

// Arrays may nest at most this many levels (an array of arrays of strings is
// two): no GGUF writer makes deeper ones, and the parser recurses once per
// level. The reader refuses deeper files; gguf::Writer refuses to make them.
inline constexpr int max_array_depth = 8;

class ArrayValue;
class Value;

// An array: element type, count, and where its elements sit in the file.
class ArrayValue {
public:
  ArrayValue() = default;

  [[nodiscard]] ValueType element_type() const { return element_type_; }
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] bool empty() const { return count_ == 0; }

  // Element i as a Value (throws pagoda::Error when out of range).
  [[nodiscard]] Value at(std::size_t i) const;
  // Element i of an array of strings (throws if the elements are not strings).
  [[nodiscard]] std::string_view string_at(std::size_t i) const;

  // All elements as T, where T is the C++ type of element_type() (uint8_t ...
  // double, bool, std::string_view); throws pagoda::Error on a type mismatch.
  template <class T>
  [[nodiscard]] std::vector<T> as() const;

private:
  friend class Parser;
  ValueType element_type_ = ValueType::UINT8;
  std::size_t count_ = 0;
  std::span<const std::byte> payload_;            // the elements' bytes
  std::vector<std::uint64_t> element_offsets_;    // only for STRING and ARRAY elements
  std::vector<ArrayValue> nested_;                // only for ARRAY elements
};

class Value {
public:
  using Storage = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t, std::uint32_t,
                               std::int32_t, float, bool, std::string_view, ArrayValue,
                               std::uint64_t, std::int64_t, double>;

  Value() = default;
  explicit Value(Storage storage) : storage_(std::move(storage)) {}

  [[nodiscard]] ValueType type() const { return static_cast<ValueType>(storage_.index()); }
  [[nodiscard]] const Storage& storage() const { return storage_; }

  template <class T>
  [[nodiscard]] const T* get_if() const { return std::get_if<T>(&storage_); }

  // Any integer type, converted to int64 when it fits; nullopt otherwise.
  [[nodiscard]] bool is_integer() const;
  [[nodiscard]] std::int64_t as_int64() const;  // requires is_integer()
  // FLOAT32, FLOAT64 or any integer, as double; requires is_number().
  [[nodiscard]] bool is_number() const;
  [[nodiscard]] double as_double() const;

private:
  Storage storage_;
};

}  // namespace pagoda::gguf
