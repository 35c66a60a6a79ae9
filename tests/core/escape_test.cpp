// escaped(): a string from a file, made safe to quote in an error message.
#include <doctest/doctest.h>

#include <string>

#include "pagoda/core/escape.hpp"

using namespace std::string_literals;
using pagoda::escaped;

TEST_CASE("escaped keeps printable ASCII and well-formed UTF-8 as they are") {
  CHECK(escaped("llama") == "llama");
  CHECK(escaped("Gemma 3 — 270M, ünïcode, 日本, 🙂") == "Gemma 3 — 270M, ünïcode, 日本, 🙂");
  CHECK(escaped("") == "");
}

TEST_CASE("escaped spells NUL, control bytes and the backslash so that the message survives whole") {
  CHECK(escaped("lla\0ma"s) == "lla\\x00ma");
  CHECK(escaped("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  CHECK(escaped("\x1b[2J") == "\\x1B[2J");  // no terminal escape gets through
  CHECK(escaped("\x7f") == "\\x7F");
  CHECK(escaped("C:\\x") == "C:\\\\x");      // a literal backslash is not mistaken for an escape
}

TEST_CASE("escaped spells every byte outside well-formed UTF-8 as \\xNN") {
  CHECK(escaped("\xff") == "\\xFF");
  CHECK(escaped("a\xc3") == "a\\xC3");            // a sequence cut by the end
  CHECK(escaped("\xc3(") == "\\xC3(");            // a lead byte without its continuation
  CHECK(escaped("\xc0\xaf") == "\\xC0\\xAF");     // overlong '/'
  CHECK(escaped("\xed\xa0\x80") == "\\xED\\xA0\\x80");  // a UTF-16 surrogate
  CHECK(escaped("\xf4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");  // above U+10FFFF
  CHECK(escaped("\x80ok") == "\\x80ok");          // a lone continuation byte
}

TEST_CASE("escaped shortens a long string and says how long it was") {
  const std::string long_name(1000, 'x');
  const std::string shown = escaped(long_name, 10);
  CHECK(shown == "xxxxxxxxxx... (1000 bytes in all)");
  CHECK(escaped(std::string(10, 'y'), 10) == "yyyyyyyyyy");
}
