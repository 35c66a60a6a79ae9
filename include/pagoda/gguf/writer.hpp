// Builds GGUF files (v3 by default, v2 on request) in memory or streamed to
// disk: metadata of every value type (scalars, strings, arrays of either,
// nested arrays), tensor infos, and tensor data placed at `general.alignment`
// with zero padding between tensors, laid out as llama.cpp lays them out.
// The writer refuses whatever the reader (gguf/file.hpp) refuses — duplicate
// keys or tensor names, bad dims, a bad alignment, arrays nested too deep —
// so every file it writes parses. Tensor bytes come from a span (copied) or
// from a fill callback called chunk by chunk while the file is written, so a
// multi-GB synthetic model streams to disk without being held in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pagoda/gguf/encoded_value.hpp"
#include "pagoda/gguf/file.hpp"

namespace pagoda::gguf {

// The byte size of a tensor of `type` with `dims` (dims[0] contiguous), or a
// pagoda::Error naming `name` when the reader would refuse the shape: 0 or
// more than 4 dims, a zero dimension, a product overflowing 64 bits, or a
// row length that is not a multiple of the type's block size.
[[nodiscard]] std::uint64_t tensor_byte_size(std::string_view name, std::span<const std::uint64_t> dims,
                                             TensorType type);

// Fills `out` with the tensor's bytes [offset, offset + out.size()). While a
// file is written it is called in order with consecutive chunks covering the
// whole tensor, once per write (to_bytes() or write()).
using TensorFill = std::function<void(std::uint64_t offset, std::span<std::byte> out)>;

class Writer {
public:
  Writer() = default;

  // GGUF version 3 (the default) or 2; the two differ only in the number.
  Writer& set_version(std::uint32_t version);
  // Sets general.alignment (as UINT32): a power of two from 1 to 2^30.
  Writer& set_alignment(std::uint32_t alignment);
  [[nodiscard]] std::uint32_t version() const { return version_; }
  [[nodiscard]] std::uint32_t alignment() const { return alignment_; }

  // Adds a key/value pair; throws pagoda::Error when the key is empty or
  // already present. Keys keep the order they were added in. A
  // general.alignment added here must be an integer the reader accepts.
  Writer& add(std::string_view key, EncodedValue value);
  template <ScalarValue T>
  Writer& add(std::string_view key, T value) {
    return add(key, EncodedValue::scalar(value));
  }
  Writer& add(std::string_view key, std::string_view text) { return add(key, EncodedValue::string(text)); }
  template <std::ranges::input_range R>
  Writer& add_array(std::string_view key, R&& elements) {
    return add(key, EncodedValue::array(std::forward<R>(elements)));
  }
  template <class T>
  Writer& add_array(std::string_view key, std::initializer_list<T> elements) {
    return add(key, EncodedValue::array(elements));
  }
  // Adds the pair, or replaces the value of an existing key in place.
  Writer& set(std::string_view key, EncodedValue value);
  [[nodiscard]] bool contains(std::string_view key) const { return metadata_index_.contains(std::string(key)); }

  // Adds a tensor whose bytes are copied from `bytes`, which must hold
  // exactly tensor_byte_size(name, dims, type) bytes. Tensors are laid out in
  // the order they are added.
  Writer& add_tensor(std::string_view name, std::vector<std::uint64_t> dims, TensorType type,
                     std::span<const std::byte> bytes);
  // Adds a tensor whose bytes `fill` produces while the file is written.
  Writer& add_tensor(std::string_view name, std::vector<std::uint64_t> dims, TensorType type, TensorFill fill);

  [[nodiscard]] std::size_t metadata_count() const { return metadata_.size(); }
  [[nodiscard]] std::size_t tensor_count() const { return tensors_.size(); }
  // The size in bytes of the file to_bytes() and write() produce.
  [[nodiscard]] std::uint64_t size() const;

  [[nodiscard]] std::vector<std::byte> to_bytes() const;
  // Streams the file through a buffer to a temporary name beside `path`,
  // then renames it over `path`. On an I/O failure it removes the temporary
  // and throws pagoda::Error naming the path and the OS error; an exception
  // from a fill callback propagates unchanged, the temporary removed too.
  void write(const std::filesystem::path& path) const;

  class Sink;  // where the bytes go (src/gguf/writer.cpp)

private:
  struct Entry {
    std::string key;
    EncodedValue value;
  };
  struct Tensor {
    std::string name;
    std::vector<std::uint64_t> dims;
    TensorType type;
    std::uint64_t byte_size;
    std::vector<std::byte> bytes;  // when fill is empty
    TensorFill fill;
  };
  struct Layout {
    std::uint64_t header_bytes;             // header, key/value pairs, tensor infos
    std::uint64_t data_offset;              // the data section's start, aligned
    std::vector<std::uint64_t> offsets;     // each tensor's, relative to data_offset
    std::uint64_t total_bytes;              // the file's size, padded to the alignment
  };

  [[nodiscard]] Tensor checked_tensor(std::string_view name, std::vector<std::uint64_t> dims, TensorType type) const;
  void insert_tensor(Tensor tensor);
  void accept_value(std::string_view key, const EncodedValue& value);
  [[nodiscard]] Layout layout() const;
  void emit(Sink& sink) const;

  std::uint32_t version_ = 3;
  std::uint32_t alignment_ = default_alignment;
  std::vector<Entry> metadata_;
  std::unordered_map<std::string, std::size_t> metadata_index_;
  std::vector<Tensor> tensors_;
  std::unordered_map<std::string, std::size_t> tensor_index_;
};

}  // namespace pagoda::gguf
