// The GGUF parser's cursor: reads little-endian fields from untrusted bytes,
// checking each read against the end of the file and naming the field and its
// byte offset when it cannot be satisfied. Private to src/gguf.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"

namespace pagoda::gguf {

class Parser {
public:
  Parser(std::span<const std::byte> bytes, const std::string& file_name)
      : bytes_(bytes), file_name_(file_name) {}

  File parse_file();

  [[noreturn]] void error_at(std::uint64_t offset, std::string_view field, std::string_view what) const {
    fail("{}: invalid GGUF: {} at byte offset {}: {}", file_name_, field, offset, what);
  }

private:
  [[nodiscard]] std::uint64_t remaining() const { return bytes_.size() - position_; }

  void require(std::uint64_t n, std::string_view field) const;

  template <class T>
  T read_scalar(std::string_view field) {
    require(sizeof(T), field);
    T value;
    std::memcpy(&value, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }

  std::string_view read_string(std::string_view field);
  Value read_value(ValueType type, std::string_view field, int depth);
  ArrayValue read_array(std::string_view field, int depth);
  ValueType read_value_type(std::string_view field);
  void skip_fixed_elements(std::uint64_t count, std::uint64_t element_size, std::string_view field);

  void read_metadata(File& file, std::uint64_t count);
  void read_tensor_infos(File& file, std::uint64_t count);
  void place_tensors(File& file);

  std::span<const std::byte> bytes_;
  const std::string& file_name_;
  std::uint64_t position_ = 0;
};

// The fixed byte size of a scalar value type; 0 for STRING and ARRAY.
[[nodiscard]] std::uint64_t fixed_size_of(ValueType type);

}  // namespace pagoda::gguf
