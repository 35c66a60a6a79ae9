// Byte-level BPE (GPT-2 family: SmolLM2, Llama 3, Qwen2). A stretch of text
// without special tokens is cut into words by the vocabulary's regex
// pre-tokenizer; each word's bytes become byte-table symbols, and adjacent
// symbols are merged, lowest merge rank first (leftmost on ties), until no
// ranked pair remains — exactly Hugging Face's BPE model. Merges are held as a
// hash map from a pair of token ids to (rank, merged id), so a merge step is a
// lookup; a priority queue keeps long words (whitespace runs, minified code)
// at O(n log n).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pagoda/text/pretokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"

namespace pagoda::text {

class BpeTokenizer {
public:
  // Throws pagoda::Error for a merge that is not "left right" over tokens of
  // the vocabulary (Hugging Face refuses such files too).
  explicit BpeTokenizer(std::shared_ptr<const Vocabulary> vocabulary);

  // Appends the tokens of `text`, which must hold no special tokens.
  void encode(std::string_view text, std::vector<std::int32_t>& out) const;

  // Appends the bytes token `id` stands for. A token whose text is not made
  // of byte-table symbols (an added token such as "<|im_start|>" with a
  // space in it) stands for its own UTF-8 text, as Hugging Face's ByteLevel
  // decoder does.
  void append_bytes(std::int32_t id, std::string& out) const;

private:
  struct Merge {
    std::int32_t rank;
    std::int32_t result;
  };
  static std::uint64_t pair_key(std::int32_t left, std::int32_t right) {
    return (std::uint64_t{static_cast<std::uint32_t>(left)} << 32) | static_cast<std::uint32_t>(right);
  }
  [[nodiscard]] const Merge* find_merge(std::int32_t left, std::int32_t right) const;
  void encode_word(std::string_view word, std::vector<std::int32_t>& out) const;

  std::shared_ptr<const Vocabulary> vocabulary_;
  Pretokenizer pretokenizer_;
  std::unordered_map<std::string_view, std::int32_t> id_of_text_;
  std::unordered_map<std::uint64_t, Merge> merges_;
  std::array<std::int32_t, 256> byte_symbol_id_{};  // -1 where the vocabulary lacks the byte
  bool ignore_merges_ = false;  // Llama 3: a word that is itself a token is taken whole
};

}  // namespace pagoda::text
