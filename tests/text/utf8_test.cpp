#include <doctest/doctest.h>

#include <set>
#include <string>

#include "pagoda/text/byte_level.hpp"
#include "pagoda/text/utf8.hpp"

using namespace pagoda::text;

TEST_CASE("utf8::scan_at tells complete, truncated and invalid sequences apart") {
  using utf8::Scan;
  const std::string emoji = "\xF0\x9F\x98\x80";  // U+1F600
  CHECK(utf8::scan_at(emoji, 0).status == Scan::Complete);
  CHECK(utf8::scan_at(emoji, 0).length == 4);
  CHECK(utf8::decode_at(emoji, 0, 4) == U'\U0001F600');
  for (std::size_t cut = 1; cut < 4; ++cut) {
    const auto r = utf8::scan_at(emoji.substr(0, cut), 0);
    CHECK(r.status == Scan::Incomplete);
    CHECK(r.length == cut);
  }
  CHECK(utf8::scan_at("\x80", 0).status == Scan::Invalid);            // lone continuation
  CHECK(utf8::scan_at("\xC0\xAF", 0).status == Scan::Invalid);        // overlong lead
  CHECK(utf8::scan_at("\xE0\x80\x80", 0).status == Scan::Invalid);    // overlong 3-byte form
  CHECK(utf8::scan_at("\xED\xA0\x80", 0).status == Scan::Invalid);    // a surrogate
  CHECK(utf8::scan_at("\xF4\x90\x80\x80", 0).status == Scan::Invalid);  // above U+10FFFF
  const auto broken = utf8::scan_at("\xE2\x82x", 0);                   // cut short by 'x'
  CHECK(broken.status == Scan::Invalid);
  CHECK(broken.length == 2);  // the maximal subpart: one U+FFFD, then 'x'
}

TEST_CASE("utf8::append_sanitized replaces each invalid stretch by exactly one U+FFFD") {
  std::string out;
  utf8::append_sanitized(out, "a\xE2\x82x\xFF" "b\xF0\x9F\x98");
  CHECK(out == "a\xEF\xBF\xBDx\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  CHECK(utf8::is_valid(out));
  CHECK_FALSE(utf8::is_valid("\xF0\x9F\x98"));
}

TEST_CASE("utf8::append encodes every length") {
  std::string out;
  for (char32_t cp : {U'A', U'\u00E9', U'\u4E2D', U'\U0001F600'}) utf8::append(out, cp);
  CHECK(out == "A\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
}

TEST_CASE("the GPT-2 byte table is a bijection with the documented landmarks") {
  std::set<char32_t> seen;
  for (unsigned byte = 0; byte < 256; ++byte) {
    const char32_t cp = byte_level::byte_to_code_point[byte];
    seen.insert(cp);
    REQUIRE(byte_level::code_point_to_byte(cp).has_value());
    CHECK(*byte_level::code_point_to_byte(cp) == byte);
  }
  CHECK(seen.size() == 256);
  CHECK(byte_level::byte_to_code_point[' '] == U'\u0120');   // "Ġ"
  CHECK(byte_level::byte_to_code_point['\n'] == U'\u010A');  // "Ċ"
  CHECK(byte_level::byte_to_code_point['a'] == U'a');
  CHECK(byte_level::byte_to_code_point[0xAD] == U'\u0143');  // the soft hyphen is the last substitute
  CHECK_FALSE(byte_level::code_point_to_byte(U' ').has_value());
  CHECK_FALSE(byte_level::code_point_to_byte(U'\u4E2D').has_value());
}
