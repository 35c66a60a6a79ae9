// PCRE2-backed pre-tokenizer stages. The regexes are those of the Hugging Face
// tokenizer.json files of each model family (llama.cpp's llama-vocab keeps the
// same list). HF runs them on Oniguruma; PCRE2 agrees on \p{L} and \p{N} up
// to Unicode-version differences in rare code points, and on \s once it is
// spelled out as Unicode White_Space (see with_unicode_white_space).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "pagoda/text/pretokenizer.hpp"
#include "pagoda/core/escape.hpp"

#include <pcre2.h>

#include <algorithm>
#include <array>
#include <string>

#include <fmt/ranges.h>

#include "pagoda/core/error.hpp"
#include "pagoda/text/utf8.hpp"

namespace pagoda::text {
namespace {

// GPT-2's ByteLevel regex: contractions, letters / digits / other symbols with
// one optional leading space, whitespace not followed by a non-space (so the
// last space before a word stays with the word), then any whitespace.
constexpr std::string_view gpt2_regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Llama 3 (tiktoken cl100k): case-insensitive contractions, a letter run may
// take one leading non-letter, digits in runs of at most three, newlines kept
// with the punctuation before them.
constexpr std::string_view llama3_regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Qwen2: Llama 3's regex with every digit on its own.
constexpr std::string_view qwen2_regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// Hugging Face's Digits(individual_digits=true): every numeric character
// (Rust's char::is_numeric, i.e. \p{N}) is a piece of its own.
constexpr std::string_view each_digit_regex = R"(\p{N})";

struct PretokenizerSpec {
  std::string_view name;
  std::array<std::string_view, 2> stages;  // empty entries are unused
};

constexpr std::array<PretokenizerSpec, 5> specs = {{
    {"gpt2", {gpt2_regex, {}}},
    {"gpt-2", {gpt2_regex, {}}},  // the spelling llama.cpp's converter writes
    {"smollm", {each_digit_regex, gpt2_regex}},
    {"llama-bpe", {llama3_regex, {}}},
    {"qwen2", {qwen2_regex, {}}},
}};

constexpr std::array<std::string_view, specs.size()> spec_names = [] {
  std::array<std::string_view, specs.size()> names{};
  for (std::size_t i = 0; i < specs.size(); ++i) names[i] = specs[i].name;
  return names;
}();

const PretokenizerSpec* find_spec(std::string_view name) {
  const auto* it = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; });
  return it == specs.end() ? nullptr : it;
}

// PCRE2's \s also matches U+180E, which left Unicode's White_Space in 6.3;
// Hugging Face (Oniguruma) does not. Spelling \s and \S out as the
// White_Space set makes the two agree.
constexpr std::string_view white_space_ranges =
    R"(\t-\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string with_unicode_white_space(std::string_view pattern) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        out += in_class ? std::string(white_space_ranges) : fmt::format("[{}]", white_space_ranges);
      } else if (next == 'S') {
        if (in_class) fail("pre-tokenizer regex: \\S inside a character class is not supported");
        out += fmt::format("[^{}]", white_space_ranges);
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    out += c;
  }
  return out;
}

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  pcre2_get_error_message(code, buffer.data(), buffer.size());
  return std::string(reinterpret_cast<const char*>(buffer.data()));
}

}  // namespace

struct Pretokenizer::CompiledRegex {
  pcre2_code* code = nullptr;

  explicit CompiledRegex(std::string_view spec_pattern) {
    const std::string pattern = with_unicode_white_space(spec_pattern);
    int error = 0;
    PCRE2_SIZE error_offset = 0;
    // MATCH_INVALID_UTF: arbitrary bytes are legal input; invalid sequences
    // simply never match and fall out as pieces between matches.
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &error_offset, nullptr);
    if (code == nullptr) {
      fail("pre-tokenizer regex does not compile at offset {}: {}", error_offset, pcre2_message(error));
    }
    // JIT is an optimisation only: when unavailable, pcre2_match interprets.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  }
  ~CompiledRegex() { pcre2_code_free(code); }
  CompiledRegex(const CompiledRegex&) = delete;
  CompiledRegex& operator=(const CompiledRegex&) = delete;

  // Appends the matches of this regex in `text`, and the stretches between them.
  void split_into(std::string_view text, pcre2_match_data* match, std::vector<std::string_view>& out) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t offset = 0;
    std::size_t emitted = 0;  // end of the last piece pushed
    while (offset < text.size()) {
      const int rc = pcre2_match(code, subject, text.size(), offset, 0, match, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) fail("pre-tokenizer regex failed: {}", pcre2_message(rc));
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match);
      const std::size_t begin = ovector[0];
      const std::size_t end = ovector[1];
      if (begin > emitted) out.push_back(text.substr(emitted, begin - emitted));
      if (end > begin) {
        out.push_back(text.substr(begin, end - begin));
        emitted = end;
        offset = end;
      } else {
        // No pre-tokenizer regex matches empty text; step one character anyway.
        if (begin >= text.size()) break;
        offset = begin + utf8::char_length_at(text, begin);
      }
    }
    if (emitted < text.size()) out.push_back(text.substr(emitted));
  }
};

std::span<const std::string_view> supported_pretokenizers() { return spec_names; }

bool is_supported_pretokenizer(std::string_view name) { return find_spec(name) != nullptr; }

Pretokenizer::Pretokenizer(std::string_view name) {
  const PretokenizerSpec* spec = find_spec(name);
  if (spec == nullptr) {
    fail("unsupported pre-tokenizer '{}' (supported: {})", escaped(name), fmt::join(spec_names, ", "));
  }
  for (std::string_view pattern : spec->stages) {
    if (!pattern.empty()) stages_.push_back(std::make_shared<const CompiledRegex>(pattern));
  }
}

std::vector<std::string_view> Pretokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  pieces.push_back(text);
  for (const auto& stage : stages_) {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(stage->code, nullptr);
    if (match == nullptr) fail("pre-tokenizer: out of memory for PCRE2 match data");
    std::vector<std::string_view> next;
    next.reserve(pieces.size() * 2);
    try {
      for (std::string_view piece : pieces) stage->split_into(piece, match, next);
    } catch (...) {
      pcre2_match_data_free(match);
      throw;
    }
    pcre2_match_data_free(match);
    pieces = std::move(next);
  }
  return pieces;
}

}  // namespace pagoda::text
