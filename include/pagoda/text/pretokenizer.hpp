// The regex pre-tokenizers of byte-level BPE vocabularies: before merging,
// text is cut into "words" (letters with their leading space, runs of digits,
// punctuation, whitespace) so merges never cross a word boundary. The regexes
// need real Unicode categories (\p{L}, \p{N}), so they run on PCRE2 in UTF +
// UCP mode (JIT-compiled where available). A pre-tokenizer is a sequence of
// stages: each stage splits every piece of the previous one, keeping both the
// matches and the text between them, as Hugging Face's Split(Isolated) does —
// the pieces always concatenate back to the input.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace pagoda::text {

// tokenizer.ggml.pre values pagoda implements, in the order error messages list them.
[[nodiscard]] std::span<const std::string_view> supported_pretokenizers();
[[nodiscard]] bool is_supported_pretokenizer(std::string_view name);

class Pretokenizer {
public:
  // Throws pagoda::Error for a name not in supported_pretokenizers().
  explicit Pretokenizer(std::string_view name);

  // Pieces of `text`, in order, concatenating to `text`. Bytes that are not
  // valid UTF-8 never match a regex and come back as pieces of their own.
  [[nodiscard]] std::vector<std::string_view> split(std::string_view text) const;

private:
  struct CompiledRegex;
  std::vector<std::shared_ptr<const CompiledRegex>> stages_;
};

}  // namespace pagoda::text
