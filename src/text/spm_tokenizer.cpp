#include "pagoda/text/spm_tokenizer.hpp"
#include "pagoda/core/escape.hpp"

#include <algorithm>
#include <charconv>
#include <queue>

#include "pagoda/core/error.hpp"
#include "pagoda/text/utf8.hpp"

namespace pagoda::text {
namespace {

struct Symbol {
  std::size_t begin;  // byte range in the escaped text
  std::size_t size;   // 0 once merged into its left neighbour
  std::int32_t prev;
  std::int32_t next;
};

struct Candidate {
  float score;
  std::int32_t left;
  std::size_t size;  // of the merged piece; a mismatch later means the pair went stale

  // std::priority_queue pops the greatest: the highest score, then the leftmost.
  friend bool operator<(const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score < b.score : a.left > b.left;
  }
};

// The byte NN of a token spelled exactly "<0xNN>", or -1.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || !text.starts_with("<0x") || text[5] != '>') return -1;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data() + 3, text.data() + 5, value, 16);
  return ec == std::errc{} && end == text.data() + 5 ? static_cast<int>(value) : -1;
}

}  // namespace

SpmTokenizer::SpmTokenizer(std::shared_ptr<const Vocabulary> vocabulary) : vocabulary_(std::move(vocabulary)) {
  const Vocabulary& v = *vocabulary_;
  byte_token_id_.fill(-1);
  byte_of_token_.assign(v.size(), -1);
  id_of_piece_.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto id = static_cast<std::int32_t>(i);
    const TokenType type = v.type_of(id);
    if (type == TokenType::Byte) {
      const int byte = parse_byte_token(v.tokens[i]);
      if (byte < 0) fail("{}: byte token {} is spelled '{}', expected <0xNN>", v.source, id, escaped(v.tokens[i]));
      if (byte_token_id_[static_cast<std::size_t>(byte)] < 0) byte_token_id_[static_cast<std::size_t>(byte)] = id;
      byte_of_token_[i] = static_cast<std::int16_t>(byte);
    } else if (type == TokenType::Normal || type == TokenType::UserDefined || type == TokenType::Undefined) {
      id_of_piece_.emplace(v.tokens[i], id);
    }
  }
}

std::int32_t SpmTokenizer::piece_id(std::string_view text) const {
  const auto it = id_of_piece_.find(text);
  return it == id_of_piece_.end() ? -1 : it->second;
}

void SpmTokenizer::encode(std::string_view text, bool space_prefix, std::vector<std::int32_t>& out) const {
  std::string escaped;
  escaped.reserve(text.size() + 8);
  if (space_prefix) escaped.append(spm_space);
  for (char c : text) {
    if (c == ' ') {
      escaped.append(spm_space);
    } else {
      escaped += c;
    }
  }
  if (escaped.empty()) return;

  std::vector<Symbol> symbols;
  for (std::size_t pos = 0; pos < escaped.size();) {
    const std::size_t length = utf8::char_length_at(escaped, pos);
    const auto index = static_cast<std::int32_t>(symbols.size());
    symbols.push_back({pos, length, index - 1, -1});
    if (index > 0) symbols[static_cast<std::size_t>(index - 1)].next = index;
    pos += length;
  }

  const std::string_view all = escaped;
  std::priority_queue<Candidate> queue;
  const auto consider = [&](std::int32_t left) {
    if (left < 0) return;
    const Symbol& l = symbols[static_cast<std::size_t>(left)];
    if (l.next < 0) return;
    const Symbol& r = symbols[static_cast<std::size_t>(l.next)];
    const std::size_t size = l.size + r.size;
    const std::int32_t id = piece_id(all.substr(l.begin, size));
    if (id >= 0) queue.push({vocabulary_->score_of(id), left, size});
  };
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(symbols.size()); ++i) consider(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<std::size_t>(c.left)];
    if (l.size == 0 || l.next < 0) continue;
    Symbol& r = symbols[static_cast<std::size_t>(l.next)];
    if (l.size + r.size != c.size) continue;  // a side merged since this pair was queued
    l.size += r.size;
    r.size = 0;
    l.next = r.next;
    if (l.next >= 0) symbols[static_cast<std::size_t>(l.next)].prev = c.left;
    consider(l.prev);
    consider(c.left);
  }

  // Every merged symbol is a piece by construction; a single character may
  // not be, and falls back to its bytes.
  for (std::int32_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    const Symbol& s = symbols[static_cast<std::size_t>(i)];
    const std::string_view piece = all.substr(s.begin, s.size);
    if (const std::int32_t id = piece_id(piece); id >= 0) {
      out.push_back(id);
      continue;
    }
    const bool has_bytes = std::all_of(piece.begin(), piece.end(), [&](char c) {
      return byte_token_id_[static_cast<unsigned char>(c)] >= 0;
    });
    if (has_bytes) {
      for (char c : piece) out.push_back(byte_token_id_[static_cast<unsigned char>(c)]);
    } else if (vocabulary_->unk_id) {
      out.push_back(*vocabulary_->unk_id);  // sentencepiece without byte fallback: one <unk> per character
    } else {
      fail("{}: '{}' is no piece, and the vocabulary has neither <0xNN> byte tokens nor an unknown token",
           vocabulary_->source, piece);
    }
  }
}

void SpmTokenizer::append_bytes(std::int32_t id, std::string& out) const {
  if (const std::int16_t byte = byte_of_token_[static_cast<std::size_t>(id)]; byte >= 0) {
    out += static_cast<char>(byte);
    return;
  }
  const std::string_view text = vocabulary_->tokens[static_cast<std::size_t>(id)];
  for (std::size_t pos = 0; pos < text.size();) {
    if (text.substr(pos).starts_with(spm_space)) {
      out += ' ';
      pos += spm_space.size();
    } else {
      out += text[pos++];
    }
  }
}

}  // namespace pagoda::text
