// Turns generated token ids into text as they arrive. One character can span
// several tokens (an emoji as four <0xNN> byte tokens, or a CJK character
// split across byte-level BPE tokens), so the decoder holds back an
// incomplete trailing sequence until its last byte arrives and only ever
// returns whole UTF-8 characters. Bytes that can never complete a character
// come out as U+FFFD, one per invalid stretch.
#pragma once

#include <cstdint>
#include <string>

#include "pagoda/text/tokenizer.hpp"

namespace pagoda::text {

class StreamDecoder {
public:
  // `tokenizer` must outlive the decoder.
  explicit StreamDecoder(const Tokenizer& tokenizer, bool with_special = false)
      : tokenizer_(&tokenizer), with_special_(with_special) {}

  // The complete characters that `id` finishes (often empty, never half a character).
  [[nodiscard]] std::string feed(std::int32_t id);

  // Whatever is held back, an incomplete tail replaced by U+FFFD; then resets.
  [[nodiscard]] std::string flush();

  // Bytes held back, waiting for the rest of a character.
  [[nodiscard]] std::size_t pending_bytes() const { return pending_.size(); }

  // Forgets held bytes and starts a new text (the next token is a text start again).
  void reset();

private:
  const Tokenizer* tokenizer_;
  bool with_special_;
  bool at_text_start_ = true;
  std::string pending_;
};

}  // namespace pagoda::text
