// UTF-8 helpers the tokenizers share: walking text one character at a time,
// telling a complete character from a truncated or invalid one (the stream
// decoder must never emit half a character), and encoding code points.
// Validation follows the Unicode "maximal subpart" rule, so every invalid
// stretch becomes exactly one U+FFFD, as browsers and Python do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pagoda::text::utf8 {

inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";  // U+FFFD

// Length a sequence starting with `lead` claims (1..4); 1 for a byte that can
// never start a sequence (a continuation byte, 0xC0, 0xC1, 0xF5..0xFF).
[[nodiscard]] constexpr std::size_t claimed_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 1;
}

// Length of the character starting at `pos`, clamped to the text: the unit
// SentencePiece-style tokenizers start from (invalid bytes stand alone).
[[nodiscard]] constexpr std::size_t char_length_at(std::string_view text, std::size_t pos) {
  const std::size_t claimed = claimed_length(static_cast<unsigned char>(text[pos]));
  return claimed < text.size() - pos ? claimed : text.size() - pos;
}

enum class Scan { Complete, Incomplete, Invalid };

struct ScanResult {
  Scan status;
  std::size_t length;  // Complete: the character; Invalid: the maximal subpart; Incomplete: bytes present
};

// Classifies the bytes at `pos`: a complete character, the valid start of one
// that the text cuts off, or an invalid stretch to replace by one U+FFFD.
[[nodiscard]] constexpr ScanResult scan_at(std::string_view text, std::size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return {Scan::Complete, 1};
  const std::size_t need = claimed_length(lead);
  if (need == 1) return {Scan::Invalid, 1};
  // The second byte's range is narrower for some leads: it excludes overlong
  // forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead == 0xE0) low = 0xA0;
  if (lead == 0xED) high = 0x9F;
  if (lead == 0xF0) low = 0x90;
  if (lead == 0xF4) high = 0x8F;
  for (std::size_t k = 1; k < need; ++k) {
    if (pos + k >= text.size()) return {Scan::Incomplete, k};
    const auto byte = static_cast<unsigned char>(text[pos + k]);
    const bool ok = k == 1 ? (byte >= low && byte <= high) : (byte >= 0x80 && byte <= 0xBF);
    if (!ok) return {Scan::Invalid, k};
  }
  return {Scan::Complete, need};
}

// The code point of a complete character (requires scan_at(...) == Complete).
[[nodiscard]] constexpr char32_t decode_at(std::string_view text, std::size_t pos, std::size_t length) {
  const auto byte = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(text[pos + k])); };
  switch (length) {
    case 1: return byte(0);
    case 2: return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
    case 3: return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    default: return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
  }
}

inline void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Appends `bytes` to `out` with every invalid stretch, and a truncated tail,
// replaced by U+FFFD: the result is always valid UTF-8.
inline void append_sanitized(std::string& out, std::string_view bytes) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const ScanResult r = scan_at(bytes, pos);
    if (r.status == Scan::Complete) {
      out.append(bytes.substr(pos, r.length));
    } else {
      out.append(replacement_character);
    }
    pos += r.length;
  }
}

[[nodiscard]] inline bool is_valid(std::string_view bytes) {
  for (std::size_t pos = 0; pos < bytes.size();) {
    const ScanResult r = scan_at(bytes, pos);
    if (r.status != Scan::Complete) return false;
    pos += r.length;
  }
  return true;
}

}  // namespace pagoda::text::utf8
