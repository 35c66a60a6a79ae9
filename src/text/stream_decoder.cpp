#include "pagoda/text/stream_decoder.hpp"

#include "pagoda/text/utf8.hpp"

namespace pagoda::text {

std::string StreamDecoder::feed(std::int32_t id) {
  tokenizer_->append_piece(pending_, id, with_special_, at_text_start_);
  std::string ready;
  std::size_t pos = 0;
  while (pos < pending_.size()) {
    const utf8::ScanResult r = utf8::scan_at(pending_, pos);
    if (r.status == utf8::Scan::Incomplete) break;  // wait for the next token's bytes
    if (r.status == utf8::Scan::Complete) {
      ready.append(pending_, pos, r.length);
    } else {
      ready.append(utf8::replacement_character);
    }
    pos += r.length;
  }
  pending_.erase(0, pos);
  return ready;
}

std::string StreamDecoder::flush() {
  std::string rest;
  utf8::append_sanitized(rest, pending_);
  reset();
  return rest;
}

void StreamDecoder::reset() {
  pending_.clear();
  at_text_start_ = true;
}

}  // namespace pagoda::text
