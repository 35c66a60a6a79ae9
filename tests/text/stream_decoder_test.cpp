#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "pagoda/text/stream_decoder.hpp"
#include "pagoda/text/utf8.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda::text;
using testing::id_of;

namespace {

std::int32_t byte_token(unsigned char byte) { return 3 + byte; }  // in tiny_spm

}  // namespace

TEST_CASE("StreamDecoder holds a 4-byte emoji split over byte tokens until it is whole") {
  const Tokenizer t(testing::tiny_spm({{"▁", -1}, {"a", -2}}, false));
  StreamDecoder stream(t);
  CHECK(stream.feed(id_of(t.vocabulary(), "a")) == "a");
  CHECK(stream.feed(byte_token(0xF0)).empty());
  CHECK(stream.feed(byte_token(0x9F)).empty());
  CHECK(stream.feed(byte_token(0x98)).empty());
  CHECK(stream.pending_bytes() == 3);
  CHECK(stream.feed(byte_token(0x80)) == "\xF0\x9F\x98\x80");
  CHECK(stream.pending_bytes() == 0);
  CHECK(stream.flush().empty());
}

TEST_CASE("StreamDecoder does the same for byte-level BPE symbols") {
  const Tokenizer t(testing::tiny_bpe({}));
  StreamDecoder stream(t);
  // In tiny_bpe, the byte-level symbol of byte b is token b.
  CHECK(stream.feed(0xE4).empty());
  CHECK(stream.feed(0xB8).empty());
  CHECK(stream.feed(0xAD) == "\xE4\xB8\xAD");  // 中
}

TEST_CASE("StreamDecoder: flush turns an incomplete tail into U+FFFD; invalid bytes never wait") {
  const Tokenizer t(testing::tiny_spm({}, false));
  StreamDecoder stream(t);
  CHECK(stream.feed(byte_token(0xF0)).empty());
  CHECK(stream.feed(byte_token(0x9F)).empty());
  CHECK(stream.flush() == utf8::replacement_character);
  CHECK(stream.pending_bytes() == 0);

  CHECK(stream.feed(byte_token(0xFF)) == utf8::replacement_character);  // can never start a character
  CHECK(stream.feed(byte_token(0xE2)).empty());
  CHECK(stream.feed(byte_token('x')) == std::string(utf8::replacement_character) + "x");
}

TEST_CASE("StreamDecoder never emits partial UTF-8, over random byte-token streams") {
  const Tokenizer t(testing::tiny_spm({}, false));
  std::mt19937 rng(20240611);
  // Mostly valid text cut at random places, with some stray bytes mixed in.
  const std::string source = "añ中\xF0\x9F\x98\x80z\xCC\x81\xE2\x82\xAC";
  for (int round = 0; round < 200; ++round) {
    std::string bytes;
    for (int i = 0; i < 40; ++i) {
      bytes += (rng() % 10 == 0) ? static_cast<char>(0x80 + rng() % 0x80) : source[rng() % source.size()];
    }
    StreamDecoder stream(t);
    std::string streamed;
    for (char c : bytes) {
      const std::string piece = stream.feed(byte_token(static_cast<unsigned char>(c)));
      REQUIRE(utf8::is_valid(piece));
      streamed += piece;
    }
    streamed += stream.flush();
    std::string whole;
    utf8::append_sanitized(whole, bytes);
    CHECK(streamed == whole);  // streaming changes nothing but the timing
  }
}

TEST_CASE("StreamDecoder drops the SentencePiece space prefix once, after BOS") {
  const Vocabulary v = testing::tiny_spm({{"▁a", -1}, {"▁", -2}, {"a", -3}}, true);
  const Tokenizer t(v);
  StreamDecoder stream(t);
  std::string text;
  for (std::int32_t id : t.encode("a a", true, false)) text += stream.feed(id);
  CHECK(text + stream.flush() == "a a");
}

TEST_CASE("StreamDecoder shows control tokens only when asked") {
  const Vocabulary v = testing::tiny_bpe({});
  const Tokenizer t(v);
  StreamDecoder quiet(t);
  StreamDecoder loud(t, /*with_special=*/true);
  CHECK(quiet.feed(id_of(v, "<|im_end|>")).empty());
  CHECK(loud.feed(id_of(v, "<|im_end|>")) == "<|im_end|>");
}
