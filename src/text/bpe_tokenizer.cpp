#include "pagoda/text/bpe_tokenizer.hpp"
#include "pagoda/core/escape.hpp"

#include <queue>

#include "pagoda/core/error.hpp"
#include "pagoda/text/byte_level.hpp"
#include "pagoda/text/utf8.hpp"

namespace pagoda::text {
namespace {

// A symbol of a word being merged: a token id in a doubly linked list.
struct Symbol {
  std::int32_t id;
  std::int32_t prev;
  std::int32_t next;
};

struct Candidate {
  std::int32_t rank;
  std::int32_t left;  // index of the left symbol; the right one is its current next
  std::int32_t left_id;
  std::int32_t right_id;

  // std::priority_queue pops the greatest: make that the lowest rank, then the leftmost.
  friend bool operator<(const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  }
};

}  // namespace

BpeTokenizer::BpeTokenizer(std::shared_ptr<const Vocabulary> vocabulary)
    : vocabulary_(std::move(vocabulary)), pretokenizer_(vocabulary_->pretokenizer) {
  const Vocabulary& v = *vocabulary_;
  id_of_text_.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) id_of_text_.emplace(v.tokens[i], static_cast<std::int32_t>(i));

  for (unsigned byte = 0; byte < 256; ++byte) {
    const auto it = id_of_text_.find(byte_level::symbol_of(static_cast<std::uint8_t>(byte)));
    byte_symbol_id_[byte] = it == id_of_text_.end() ? -1 : it->second;
  }

  merges_.reserve(v.merges.size());
  std::string joined;
  for (std::size_t rank = 0; rank < v.merges.size(); ++rank) {
    const std::string_view merge = v.merges[rank];
    // Byte-level symbols never contain a space, so the first space (after the
    // first character) separates the two halves.
    const std::size_t space = merge.find(' ', 1);
    if (space == std::string_view::npos) {
      fail("{}: tokenizer.ggml.merges[{}] = '{}' is not of the form 'left right'", v.source, rank, escaped(merge));
    }
    const std::string_view left = merge.substr(0, space);
    const std::string_view right = merge.substr(space + 1);
    joined.assign(left).append(right);
    const auto l = id_of_text_.find(left);
    const auto r = id_of_text_.find(right);
    const auto m = id_of_text_.find(joined);
    if (l == id_of_text_.end() || r == id_of_text_.end() || m == id_of_text_.end()) {
      fail("{}: tokenizer.ggml.merges[{}] = '{}' names a token missing from tokenizer.ggml.tokens", v.source, rank,
           escaped(merge));
    }
    merges_.emplace(pair_key(l->second, r->second), Merge{static_cast<std::int32_t>(rank), m->second});
  }
  ignore_merges_ = v.pretokenizer == "llama-bpe";
}

const BpeTokenizer::Merge* BpeTokenizer::find_merge(std::int32_t left, std::int32_t right) const {
  if (left < 0 || right < 0) return nullptr;
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeTokenizer::encode(std::string_view text, std::vector<std::int32_t>& out) const {
  for (std::string_view word : pretokenizer_.split(text)) encode_word(word, out);
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<std::int32_t>& out) const {
  if (ignore_merges_) {
    std::string mapped;
    for (char c : word) utf8::append(mapped, byte_level::byte_to_code_point[static_cast<unsigned char>(c)]);
    if (const auto it = id_of_text_.find(mapped); it != id_of_text_.end()) {
      out.push_back(it->second);
      return;
    }
  }

  const auto n = static_cast<std::int32_t>(word.size());
  std::vector<Symbol> symbols(word.size());
  for (std::int32_t i = 0; i < n; ++i) {
    const auto byte = static_cast<unsigned char>(word[static_cast<std::size_t>(i)]);
    std::int32_t id = byte_symbol_id_[byte];
    if (id < 0) {
      if (!vocabulary_->unk_id) {
        fail("{}: the vocabulary has no token for byte 0x{:02X} and no unknown token", vocabulary_->source, byte);
      }
      id = *vocabulary_->unk_id;
    }
    symbols[static_cast<std::size_t>(i)] = {id, i - 1, i + 1 < n ? i + 1 : -1};
  }

  std::priority_queue<Candidate> queue;
  const auto consider = [&](std::int32_t left) {
    if (left < 0) return;
    const Symbol& l = symbols[static_cast<std::size_t>(left)];
    if (l.next < 0) return;
    const std::int32_t right_id = symbols[static_cast<std::size_t>(l.next)].id;
    if (const Merge* m = find_merge(l.id, right_id)) queue.push({m->rank, left, l.id, right_id});
  };
  for (std::int32_t i = 0; i + 1 < n; ++i) consider(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[static_cast<std::size_t>(c.left)];
    // Stale entries: either side has merged since this pair was queued.
    if (l.id != c.left_id || l.next < 0) continue;
    const Symbol r = symbols[static_cast<std::size_t>(l.next)];
    if (r.id != c.right_id) continue;
    l.id = find_merge(c.left_id, c.right_id)->result;
    symbols[static_cast<std::size_t>(l.next)].id = -1;  // merged away
    l.next = r.next;
    if (r.next >= 0) symbols[static_cast<std::size_t>(r.next)].prev = c.left;
    consider(l.prev);
    consider(c.left);
  }

  for (std::int32_t i = n > 0 ? 0 : -1; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
    out.push_back(symbols[static_cast<std::size_t>(i)].id);
  }
}

void BpeTokenizer::append_bytes(std::int32_t id, std::string& out) const {
  const std::string_view text = vocabulary_->tokens[static_cast<std::size_t>(id)];
  const std::size_t start = out.size();
  for (std::size_t pos = 0; pos < text.size();) {
    const utf8::ScanResult r = utf8::scan_at(text, pos);
    const auto byte = r.status == utf8::Scan::Complete
                          ? byte_level::code_point_to_byte(utf8::decode_at(text, pos, r.length))
                          : std::nullopt;
    if (!byte) {
      out.resize(start);
      out.append(text);
      return;
    }
    out += static_cast<char>(*byte);
    pos += r.length;
  }
}

}  // namespace pagoda::text
