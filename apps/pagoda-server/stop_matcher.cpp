#include "stop_matcher.hpp"

#include <algorithm>

namespace pagoda::server {

namespace {

// Bytes at the end of `text` that are a proper prefix of `stop` (the longest such tail).
std::size_t partial_tail(std::string_view text, std::string_view stop) {
  for (std::size_t n = std::min(text.size(), stop.size() - 1); n > 0; --n)
    if (text.substr(text.size() - n) == stop.substr(0, n)) return n;
  return 0;
}

// Never split a UTF-8 character: move a cut back over continuation bytes.
std::size_t character_boundary(std::string_view text, std::size_t cut) {
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

StopMatcher::Result StopMatcher::feed(std::string_view piece) {
  if (stopped_) return {};
  held_ += piece;
  // The earliest complete stop string wins.
  std::size_t first = std::string::npos;
  for (const auto& stop : stops_) first = std::min(first, held_.find(stop));
  if (first != std::string::npos) {
    stopped_ = true;
    Result result{held_.substr(0, first), true};
    held_.clear();
    return result;
  }
  std::size_t keep = 0;
  for (const auto& stop : stops_) keep = std::max(keep, partial_tail(held_, stop));
  const std::size_t cut = character_boundary(held_, held_.size() - keep);
  Result result{held_.substr(0, cut), false};
  held_.erase(0, cut);
  return result;
}

std::string StopMatcher::flush() {
  std::string rest;
  rest.swap(held_);
  return stopped_ ? std::string() : rest;
}

}  // namespace pagoda::server
