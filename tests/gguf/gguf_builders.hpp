// Helpers shared by the GGUF tests: a raw little-endian byte builder for the
// hostile files gguf::Writer refuses to make, parse helpers that return the
// error message, deterministic tensor bytes, a scratch directory, and the
// path of the real model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/writer.hpp"

#include "support/real_model.hpp"
#include "support/scratch_dir.hpp"

namespace pagoda::gguf::testing {

// Appends GGUF fields byte by byte, with no checks at all.
class RawGguf {
public:
  template <class T>
  RawGguf& put(T value) {
    const auto at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
    return *this;
  }
  RawGguf& u32(std::uint32_t v) { return put(v); }
  RawGguf& u64(std::uint64_t v) { return put(v); }
  RawGguf& str(std::string_view text) {
    u64(text.size());
    for (char c : text) bytes_.push_back(static_cast<std::byte>(c));
    return *this;
  }
  RawGguf& zeros(std::size_t n) {
    bytes_.resize(bytes_.size() + n);
    return *this;
  }
  RawGguf& pad_to(std::size_t alignment) { return zeros((alignment - bytes_.size() % alignment) % alignment); }

  // magic, version, tensor count, key/value count
  RawGguf& header(std::uint64_t tensors, std::uint64_t kvs, std::uint32_t version = 3) {
    bytes_.insert(bytes_.end(), {std::byte{'G'}, std::byte{'G'}, std::byte{'U'}, std::byte{'F'}});
    return u32(version).u64(tensors).u64(kvs);
  }
  RawGguf& kv_u32(std::string_view key, std::uint32_t v) {
    return str(key).u32(static_cast<std::uint32_t>(ValueType::UINT32)).u32(v);
  }
  RawGguf& kv_string(std::string_view key, std::string_view v) {
    return str(key).u32(static_cast<std::uint32_t>(ValueType::STRING)).str(v);
  }
  RawGguf& tensor_info(std::string_view name, std::initializer_list<std::uint64_t> dims, std::uint32_t type,
                       std::uint64_t offset) {
    str(name).u32(static_cast<std::uint32_t>(dims.size()));
    for (auto d : dims) u64(d);
    return u32(type).u64(offset);
  }

  void patch_u32(std::size_t at, std::uint32_t v) { std::memcpy(bytes_.data() + at, &v, sizeof v); }
  void patch_u64(std::size_t at, std::uint64_t v) { std::memcpy(bytes_.data() + at, &v, sizeof v); }

  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] const std::vector<std::byte>& bytes() const { return bytes_; }

private:
  std::vector<std::byte> bytes_;
};

inline File parse(std::span<const std::byte> bytes) { return File::parse(bytes, "test.gguf"); }

// The message of the pagoda::Error that parsing throws; empty when it parses.
// Any other exception escapes and fails the test.
inline std::string parse_error(std::span<const std::byte> bytes) {
  try {
    (void)parse(bytes);
  } catch (const pagoda::Error& e) {
    return e.what();
  }
  return {};
}

inline bool contains(std::string_view text, std::string_view part) { return text.find(part) != text.npos; }

// n bytes of a fixed pseudo-random pattern (never all zero).
inline std::vector<std::byte> pattern_bytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::byte>(x >> 24);
  }
  return out;
}

using pagoda::test::ScratchDir;

// PAGODA_MODEL_PATH when set, else $HOME/.cache/pagoda/models/<SmolLM2 Q4_1>.
inline std::filesystem::path real_model_path() { return pagoda::test::default_model_path(); }

}  // namespace pagoda::gguf::testing
