// GPT-2's byte-to-Unicode table, shared by every byte-level BPE vocabulary
// (GPT-2, SmolLM2, Llama 3, Qwen2). Byte-level vocabularies store tokens as
// strings of printable code points, one per byte: printable Latin-1 bytes
// stand for themselves, the other 68 bytes (controls, space, 0x7F..0xA0, the
// soft hyphen 0xAD) map to U+0100.. in byte order, so space is "Ġ" (U+0120)
// and newline "Ċ" (U+010A).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "pagoda/text/utf8.hpp"

namespace pagoda::text::byte_level {

[[nodiscard]] constexpr bool stands_for_itself(unsigned byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

inline constexpr std::array<char32_t, 256> byte_to_code_point = [] {
  std::array<char32_t, 256> table{};
  char32_t next_substitute = 0x100;
  for (unsigned byte = 0; byte < 256; ++byte) {
    table[byte] = stands_for_itself(byte) ? char32_t(byte) : next_substitute++;
  }
  return table;
}();

inline constexpr unsigned substitute_count = 68;  // bytes that do not stand for themselves

inline constexpr std::array<std::uint8_t, substitute_count> substitute_to_byte = [] {
  std::array<std::uint8_t, substitute_count> table{};
  unsigned index = 0;
  for (unsigned byte = 0; byte < 256; ++byte) {
    if (!stands_for_itself(byte)) table[index++] = static_cast<std::uint8_t>(byte);
  }
  return table;
}();

// The byte a code point of a byte-level token stands for; nullopt for code
// points outside the table (text of added tokens that was never byte-mapped).
[[nodiscard]] constexpr std::optional<std::uint8_t> code_point_to_byte(char32_t cp) {
  if (cp < 0x100) {
    if (stands_for_itself(cp)) return static_cast<std::uint8_t>(cp);
    return std::nullopt;
  }
  if (cp >= 0x100 + substitute_count) return std::nullopt;
  return substitute_to_byte[cp - 0x100];
}

// The one-character token string that stands for `byte`.
[[nodiscard]] inline std::string symbol_of(std::uint8_t byte) {
  std::string out;
  utf8::append(out, byte_to_code_point[byte]);
  return out;
}

}  // namespace pagoda::text::byte_level
