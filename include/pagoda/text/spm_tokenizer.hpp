// SentencePiece-style BPE (Llama 2, Gemma vocabularies, GGUF model "llama").
// Spaces become U+2581 "▁" (plus one in front when the vocabulary asks for a
// space prefix); the text starts as one symbol per UTF-8 character, and the
// adjacent pair whose concatenation is the highest-scoring vocabulary piece
// is merged first (leftmost on ties) until no pair forms a piece — the
// algorithm of sentencepiece's BPE model and llama.cpp. A character left that
// is no piece falls back to its bytes as <0xNN> tokens.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pagoda/text/vocabulary.hpp"

namespace pagoda::text {

inline constexpr std::string_view spm_space = "\xE2\x96\x81";  // U+2581, what SentencePiece writes for ' '

class SpmTokenizer {
public:
  explicit SpmTokenizer(std::shared_ptr<const Vocabulary> vocabulary);

  // Appends the tokens of `text`, which must hold no special tokens;
  // `space_prefix` prepends one "▁".
  void encode(std::string_view text, bool space_prefix, std::vector<std::int32_t>& out) const;

  // Appends the bytes of a normal, user-defined or byte token: "▁" becomes a
  // space, <0xNN> the byte NN.
  void append_bytes(std::int32_t id, std::string& out) const;

private:
  [[nodiscard]] std::int32_t piece_id(std::string_view text) const;  // -1 when not a piece

  std::shared_ptr<const Vocabulary> vocabulary_;
  // Pieces merging may form: normal and user-defined tokens (sentencepiece
  // never produces control, unused or byte pieces from text).
  std::unordered_map<std::string_view, std::int32_t> id_of_piece_;
  std::array<std::int32_t, 256> byte_token_id_{};  // <0xNN> token per byte, -1 if absent
  std::vector<std::int16_t> byte_of_token_;        // per id: the byte of a <0xNN> token, or -1
};

}  // namespace pagoda::text
