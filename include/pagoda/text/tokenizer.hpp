// The tokenizer of a model: built once from its Vocabulary, which picks the
// algorithm (byte-level BPE or SentencePiece-style) there and then — a
// variant, so encode/decode dispatch on a type, never on strings. Special
// tokens are found first (see special_tokens.hpp), the text between them
// goes to the algorithm.
//
// For chat: render the conversation with text::ChatTemplate and encode the
// result with add_special = false, parse_special = true (templates that start
// with BOS write it as text; see chat_template.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pagoda/text/bpe_tokenizer.hpp"
#include "pagoda/text/special_tokens.hpp"
#include "pagoda/text/spm_tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"

namespace pagoda::text {

class Tokenizer {
public:
  // Validates the vocabulary (throws pagoda::Error naming what is wrong).
  explicit Tokenizer(Vocabulary vocabulary);

  // add_special: BOS / EOS as the vocabulary's add_bos / add_eos flags say.
  // parse_special: control tokens written in the text ("<|im_start|>") become
  // those tokens; otherwise they are spelled out like any text. User-defined
  // tokens are always recognised.
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // The text of `ids`. Control, unknown and unused tokens appear (as their
  // token text) only when with_special is set; byte tokens become bytes, so
  // the result may be invalid UTF-8 only if the ids themselves split a
  // character (see StreamDecoder for the streaming case). A SentencePiece
  // space prefix is removed from the first text token.
  [[nodiscard]] std::string decode(std::span<const std::int32_t> ids, bool with_special = false) const;

  // Appends one token's bytes, as decode() would; `at_text_start` is true
  // until the first text token has been appended (it drops the space prefix).
  void append_piece(std::string& out, std::int32_t id, bool with_special, bool& at_text_start) const;

  // The vocabulary's spelling of a token ("Ġhello", "▁the", "<|im_end|>").
  [[nodiscard]] const std::string& token_text(std::int32_t id) const;
  // The id of the token spelled exactly `text`, if any.
  [[nodiscard]] std::optional<std::int32_t> find_token(std::string_view text) const;

  [[nodiscard]] std::optional<std::int32_t> bos() const { return vocabulary_->bos_id; }
  [[nodiscard]] std::optional<std::int32_t> eos() const { return vocabulary_->eos_id; }
  // The vocabulary's end-of-turn token, or else a well-known one it holds
  // (<|eot_id|>, <|im_end|>, <end_of_turn>, ...).
  [[nodiscard]] std::optional<std::int32_t> eot() const { return eot_; }
  // EOS, EOT, and every control token spelled like an end of turn or text.
  [[nodiscard]] bool is_end_of_generation(std::int32_t id) const;
  [[nodiscard]] std::span<const std::int32_t> end_of_generation_ids() const { return end_of_generation_; }

  [[nodiscard]] std::size_t vocab_size() const { return vocabulary_->size(); }
  [[nodiscard]] TokenizerKind kind() const { return vocabulary_->kind; }
  [[nodiscard]] const Vocabulary& vocabulary() const { return *vocabulary_; }

private:
  using Model = std::variant<BpeTokenizer, SpmTokenizer>;
  static Model make_model(const std::shared_ptr<const Vocabulary>& vocabulary);
  void check_id(std::int32_t id) const;

  std::shared_ptr<const Vocabulary> vocabulary_;
  Model model_;
  SpecialTokenMatcher special_tokens_;
  std::optional<std::int32_t> eot_;
  std::vector<std::int32_t> end_of_generation_;  // sorted
};

}  // namespace pagoda::text
