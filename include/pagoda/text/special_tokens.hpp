// Finds whole special tokens in text before any pre-tokenization, so
// "<|im_start|>user" becomes [<|im_start|>] + "user" rather than a spelling of
// '<', '|', 'im', ... Control tokens (type 3) are recognised only when the
// caller asks (parse_special: the text is a rendered chat template, not user
// input); user-defined tokens (type 4) are pieces of ordinary text and are
// always recognised, as llama.cpp does. Matching is leftmost-longest, as
// Hugging Face's added-vocabulary matcher does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "pagoda/text/vocabulary.hpp"

namespace pagoda::text {

// A stretch of input: either raw text to tokenize, or one special token.
struct Fragment {
  std::string_view text;
  std::int32_t token = -1;  // >= 0: `text` is exactly this special token

  [[nodiscard]] bool is_token() const { return token >= 0; }
};

class SpecialTokenMatcher {
public:
  explicit SpecialTokenMatcher(std::shared_ptr<const Vocabulary> vocabulary);

  [[nodiscard]] std::vector<Fragment> split(std::string_view text, bool parse_special) const;

private:
  struct Candidate {
    std::string_view text;
    std::int32_t id;
    bool control;
  };
  std::shared_ptr<const Vocabulary> vocabulary_;
  std::array<std::vector<Candidate>, 256> by_first_byte_;  // each sorted longest first
};

}  // namespace pagoda::text
