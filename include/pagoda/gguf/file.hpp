// A parsed GGUF file (v2 or v3) over bytes someone else owns — normally a
// read-only file mapping (see gguf/mapped_file.hpp). Parsing checks every
// count, length, offset and dims product against the file size with
// overflow-safe arithmetic; any failure throws pagoda::Error naming the file,
// the field and its byte offset. Nothing is copied but the tables of offsets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/tensor_type.hpp"
#include "pagoda/gguf/value.hpp"

namespace pagoda::gguf {

inline constexpr std::uint32_t default_alignment = 32;
inline constexpr std::uint32_t max_tensor_dims = 4;
// ggml's GGML_MAX_NAME: a tensor name needs fewer bytes than this (ggml
// engines refuse a longer one; so do pagoda's reader and writer).
inline constexpr std::size_t max_tensor_name_bytes = 64;

struct MetadataEntry {
  std::string_view key;
  Value value;
  std::uint64_t file_offset;  // where the key/value pair starts
};

struct TensorInfo {
  std::string_view name;
  std::vector<std::uint64_t> dims;  // dims[0] is contiguous (a row); ggml's ne[]
  TensorType type;
  std::uint64_t data_offset;        // relative to the data section, as stored
  std::uint64_t element_count;
  std::uint64_t byte_size;
  std::span<const std::byte> bytes; // exactly byte_size bytes inside the file
  std::uint64_t info_file_offset;   // where this tensor's info record starts

  [[nodiscard]] std::uint64_t rows() const { return element_count / dims[0]; }
  [[nodiscard]] std::uint64_t row_bytes() const { return byte_size / rows(); }
};

class File {
public:
  // Parses `bytes`, which must stay alive and unchanged while the File is used.
  // `name` (normally the path) appears in every error message.
  static File parse(std::span<const std::byte> bytes, std::string name);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::uint32_t version() const { return version_; }
  [[nodiscard]] std::uint32_t alignment() const { return alignment_; }
  [[nodiscard]] std::uint64_t data_offset() const { return data_offset_; }
  [[nodiscard]] std::span<const std::byte> bytes() const { return bytes_; }

  [[nodiscard]] const std::vector<MetadataEntry>& metadata() const { return metadata_; }
  [[nodiscard]] const std::vector<TensorInfo>& tensors() const { return tensors_; }

  // nullptr when absent.
  [[nodiscard]] const Value* find(std::string_view key) const;
  [[nodiscard]] const TensorInfo* find_tensor(std::string_view name) const;

  // The tensor, or an error naming it and the file.
  [[nodiscard]] const TensorInfo& tensor(std::string_view name) const;

  // Typed metadata access. T is one of the value types, std::string_view, or
  // ArrayValue; integer T also accepts any integer type whose value fits, and
  // float/double accept any number. Throws naming the key and the file when
  // the key is missing or has another type.
  template <class T>
  [[nodiscard]] T get(std::string_view key) const;
  template <class T>
  [[nodiscard]] std::optional<T> get_optional(std::string_view key) const;
  template <class T>
  [[nodiscard]] T get_or(std::string_view key, T fallback) const {
    auto v = get_optional<T>(key);
    return v ? *v : fallback;
  }

private:
  friend class Parser;
  std::string name_;
  std::span<const std::byte> bytes_;
  std::uint32_t version_ = 0;
  std::uint32_t alignment_ = default_alignment;
  std::uint64_t data_offset_ = 0;
  std::vector<MetadataEntry> metadata_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string_view, std::size_t> metadata_index_;
  std::unordered_map<std::string_view, std::size_t> tensor_index_;
};

}  // namespace pagoda::gguf
