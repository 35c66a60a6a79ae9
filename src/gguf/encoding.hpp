// Little-endian appends shared by the GGUF writer's sources. Private to src/gguf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace pagoda::gguf::encoding {

template <class T>
inline void put(std::vector<std::byte>& out, T value) {
  const auto at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &value, sizeof(T));
}

inline void put_string(std::vector<std::byte>& out, std::string_view text) {
  const std::uint64_t length = text.size();
  const auto at = out.size();
  out.resize(at + sizeof(length) + text.size());
  std::memcpy(out.data() + at, &length, sizeof(length));
  if (!text.empty()) std::memcpy(out.data() + at + sizeof(length), text.data(), text.size());
}

}  // namespace pagoda::gguf::encoding
