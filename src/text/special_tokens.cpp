#include "pagoda/text/special_tokens.hpp"

#include <algorithm>

namespace pagoda::text {

SpecialTokenMatcher::SpecialTokenMatcher(std::shared_ptr<const Vocabulary> vocabulary)
    : vocabulary_(std::move(vocabulary)) {
  for (std::size_t i = 0; i < vocabulary_->size(); ++i) {
    const auto id = static_cast<std::int32_t>(i);
    const TokenType type = vocabulary_->type_of(id);
    const std::string_view text = vocabulary_->tokens[i];
    if (text.empty() || (type != TokenType::Control && type != TokenType::UserDefined)) continue;
    by_first_byte_[static_cast<unsigned char>(text[0])].push_back({text, id, type == TokenType::Control});
  }
  for (auto& candidates : by_first_byte_) {
    // Longest first; among equal texts the lowest id, so duplicates resolve stably.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.text.size() > b.text.size(); });
  }
}

std::vector<Fragment> SpecialTokenMatcher::split(std::string_view text, bool parse_special) const {
  std::vector<Fragment> fragments;
  std::size_t raw_begin = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Candidate* found = nullptr;
    for (const Candidate& c : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
      if ((parse_special || !c.control) && text.substr(pos).starts_with(c.text)) {
        found = &c;
        break;
      }
    }
    if (found == nullptr) {
      ++pos;
      continue;
    }
    if (pos > raw_begin) fragments.push_back({text.substr(raw_begin, pos - raw_begin)});
    fragments.push_back({text.substr(pos, found->text.size()), found->id});
    pos += found->text.size();
    raw_begin = pos;
  }
  if (raw_begin < text.size()) fragments.push_back({text.substr(raw_begin)});
  return fragments;
}

}  // namespace pagoda::text
