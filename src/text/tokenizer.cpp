#include "pagoda/text/tokenizer.hpp"

#include <algorithm>
#include <array>

#include "pagoda/core/error.hpp"

namespace pagoda::text {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// Spellings of end-of-turn tokens, in the order eot() prefers them.
constexpr std::array<std::string_view, 5> end_of_turn_spellings = {
    "<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>", "<EOT>",
};
// Further spellings that end generation. Not "</s>": Gemma has it as an
// ordinary user-defined HTML tag (Llama 2's </s> is its EOS anyway).
constexpr std::array<std::string_view, 3> end_of_text_spellings = {
    "<|eom_id|>", "<|endoftext|>", "<|end_of_text|>",
};

bool is_special_type(TokenType type) { return type == TokenType::Control || type == TokenType::UserDefined; }

}  // namespace

Tokenizer::Model Tokenizer::make_model(const std::shared_ptr<const Vocabulary>& vocabulary) {
  validate(*vocabulary);
  if (vocabulary->kind == TokenizerKind::ByteLevelBpe) return Model(std::in_place_type<BpeTokenizer>, vocabulary);
  return Model(std::in_place_type<SpmTokenizer>, vocabulary);
}

Tokenizer::Tokenizer(Vocabulary vocabulary)
    : vocabulary_(std::make_shared<const Vocabulary>(std::move(vocabulary))),
      model_(make_model(vocabulary_)),
      special_tokens_(vocabulary_) {
  const Vocabulary& v = *vocabulary_;
  eot_ = v.eot_id;
  for (std::string_view spelling : end_of_turn_spellings) {
    if (eot_) break;
    if (auto id = find_token(spelling); id && is_special_type(v.type_of(*id))) eot_ = id;
  }
  for (const auto& id : {v.eos_id, eot_}) {
    if (id) end_of_generation_.push_back(*id);
  }
  for (const auto& spellings : {std::span<const std::string_view>(end_of_turn_spellings),
                                std::span<const std::string_view>(end_of_text_spellings)}) {
    for (std::string_view spelling : spellings) {
      if (auto id = find_token(spelling); id && is_special_type(v.type_of(*id))) end_of_generation_.push_back(*id);
    }
  }
  std::sort(end_of_generation_.begin(), end_of_generation_.end());
  end_of_generation_.erase(std::unique(end_of_generation_.begin(), end_of_generation_.end()),
                           end_of_generation_.end());
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Vocabulary& v = *vocabulary_;
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && v.add_bos && v.bos_id) out.push_back(*v.bos_id);
  // SentencePiece prefixes a space to text at the start and after a special
  // token (llama.cpp's reading of the reference tokenizer).
  bool after_special = true;
  for (const Fragment& fragment : special_tokens_.split(text, parse_special)) {
    if (fragment.is_token()) {
      out.push_back(fragment.token);
      after_special = true;
      continue;
    }
    std::visit(Overloaded{
                   [&](const BpeTokenizer& bpe) { bpe.encode(fragment.text, out); },
                   [&](const SpmTokenizer& spm) { spm.encode(fragment.text, v.add_space_prefix && after_special, out); },
               },
               model_);
    after_special = false;
  }
  if (add_special && v.add_eos && v.eos_id) out.push_back(*v.eos_id);
  return out;
}

void Tokenizer::check_id(std::int32_t id) const {
  if (!vocabulary_->contains(id)) {
    fail("{}: token id {} is out of range (the vocabulary has {} tokens)", vocabulary_->source, id, vocab_size());
  }
}

void Tokenizer::append_piece(std::string& out, std::int32_t id, bool with_special, bool& at_text_start) const {
  check_id(id);
  const Vocabulary& v = *vocabulary_;
  switch (v.type_of(id)) {
    case TokenType::Control:
    case TokenType::Unknown:
    case TokenType::Unused:
      if (with_special) out.append(v.tokens[static_cast<std::size_t>(id)]);
      return;
    default: break;
  }
  const std::size_t start = out.size();
  std::visit([&](const auto& model) { model.append_bytes(id, out); }, model_);
  if (at_text_start) {
    const bool strip = v.kind == TokenizerKind::SentencePiece && v.add_space_prefix;
    if (strip && out.size() > start && out[start] == ' ') out.erase(start, 1);
    at_text_start = false;
  }
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool with_special) const {
  std::string out;
  bool at_text_start = true;
  for (std::int32_t id : ids) append_piece(out, id, with_special, at_text_start);
  return out;
}

const std::string& Tokenizer::token_text(std::int32_t id) const {
  check_id(id);
  return vocabulary_->tokens[static_cast<std::size_t>(id)];
}

std::optional<std::int32_t> Tokenizer::find_token(std::string_view text) const {
  const auto& tokens = vocabulary_->tokens;
  const auto it = std::find(tokens.begin(), tokens.end(), text);
  if (it == tokens.end()) return std::nullopt;
  return static_cast<std::int32_t>(it - tokens.begin());
}

bool Tokenizer::is_end_of_generation(std::int32_t id) const {
  return std::binary_search(end_of_generation_.begin(), end_of_generation_.end(), id);
}

}  // namespace pagoda::text
