// A range of bytes (offset, size) and page arithmetic on it: the vocabulary
// of placing, reading and protecting whole pages.
#pragma once

#include <cstdint>

namespace pagoda::mapping {

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  [[nodiscard]] constexpr std::uint64_t end() const { return offset + size; }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

[[nodiscard]] constexpr std::uint64_t align_down(std::uint64_t value, std::uint64_t alignment) {
  return value / alignment * alignment;
}
[[nodiscard]] constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}
// The smallest range of whole `page`-sized pages covering `range`.
[[nodiscard]] constexpr ByteRange page_cover(ByteRange range, std::uint64_t page) {
  const std::uint64_t begin = align_down(range.offset, page);
  return {begin, align_up(range.end(), page) - begin};
}

}  // namespace pagoda::mapping
