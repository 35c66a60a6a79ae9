#include "pagoda/text/chat_template.hpp"

#include <array>

#include <fmt/ranges.h>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/text/utf8.hpp"

namespace pagoda::text {
namespace {

constexpr std::array<std::string_view, 4> format_names = {"chatml", "llama3", "llama3.1", "gemma"};

// Python's str.isspace(), which Jinja's trim filter uses.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Jinja's `| trim`: strips leading and trailing whitespace.
std::string_view trim(std::string_view text) {
  std::size_t begin = text.size();
  std::size_t end = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const utf8::ScanResult r = utf8::scan_at(text, pos);
    const bool space = r.status == utf8::Scan::Complete && is_python_space(utf8::decode_at(text, pos, r.length));
    if (!space) {
      if (begin == text.size()) begin = pos;
      end = pos + r.length;
    }
    pos += r.length;
  }
  return begin == text.size() ? std::string_view{} : text.substr(begin, end - begin);
}

// The body of a Jinja string literal with its escapes resolved.
std::string unescape_literal(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 == body.size()) {
      out += body[i];
      continue;
    }
    switch (const char c = body[++i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      default: out += c; break;  // \\, \', \"
    }
  }
  return out;
}

// The string literal of `jinja` that starts exactly at `pos` (just after its
// opening quote), unescaped; nullopt when `pos` does not follow a quote.
std::optional<std::string> literal_starting_at(std::string_view jinja, std::size_t pos) {
  if (pos == 0 || (jinja[pos - 1] != '\'' && jinja[pos - 1] != '"')) return std::nullopt;
  const char quote = jinja[pos - 1];
  for (std::size_t i = pos; i < jinja.size(); ++i) {
    if (jinja[i] == '\\') {
      ++i;
    } else if (jinja[i] == quote) {
      return unescape_literal(jinja.substr(pos, i - pos));
    }
  }
  return std::nullopt;
}

// A ChatML template's built-in system prompt: a single literal
// '<|im_start|>system\n...<|im_end|>\n' (SmolLM2, Qwen2.5 write one).
std::optional<std::string> chatml_default_system_prompt(std::string_view jinja) {
  constexpr std::string_view head = "<|im_start|>system\n";
  constexpr std::string_view tail = "<|im_end|>\n";
  for (std::size_t pos = jinja.find("<|im_start|>system"); pos != std::string_view::npos;
       pos = jinja.find("<|im_start|>system", pos + 1)) {
    const auto literal = literal_starting_at(jinja, pos);
    if (!literal || !literal->starts_with(head) || !literal->ends_with(tail)) continue;
    const std::string_view prompt = std::string_view(*literal).substr(head.size(), literal->size() - head.size() - tail.size());
    if (prompt.find("<|im_") == std::string_view::npos) return std::string(prompt);
  }
  return std::nullopt;
}

// The text of a literal that follows `marker` up to (not including) a newline
// or the end of the literal, e.g. the date in "Cutting Knowledge Date: December 2023\n".
std::optional<std::string> literal_after(std::string_view jinja, std::string_view marker) {
  const std::size_t at = jinja.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string out;
  for (std::size_t i = at + marker.size(); i < jinja.size(); ++i) {
    const char c = jinja[i];
    if (c == '\n' || c == '"' || c == '\'' || (c == '\\' && i + 1 < jinja.size() && jinja[i + 1] == 'n')) break;
    out += c;
  }
  return out;
}

void append_llama3_turn(std::string& out, std::string_view role, std::string_view content) {
  out.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
  out.append(content).append("<|eot_id|>");
}

}  // namespace

std::span<const std::string_view> ChatTemplate::names() { return format_names; }

std::string_view ChatTemplate::name() const { return format_names[static_cast<std::size_t>(format_)]; }

ChatTemplate ChatTemplate::by_name(std::string_view name) {
  for (std::size_t i = 0; i < format_names.size(); ++i) {
    if (format_names[i] == name) return ChatTemplate(static_cast<ChatFormat>(i));
  }
  fail("unknown chat template '{}' (known: {})", name, fmt::join(format_names, ", "));
}

ChatTemplate ChatTemplate::from_jinja(std::string_view jinja) {
  if (jinja.find("<|im_start|>") != std::string_view::npos) {
    ChatTemplate t(ChatFormat::ChatMl);
    t.default_system_prompt_ = chatml_default_system_prompt(jinja);
    return t;
  }
  if (jinja.find("<|start_header_id|>") != std::string_view::npos) {
    const auto knowledge = literal_after(jinja, "Cutting Knowledge Date: ");
    if (!knowledge) return ChatTemplate(ChatFormat::Llama3);
    ChatTemplate t(ChatFormat::Llama31);
    t.knowledge_date_ = *knowledge;
    for (std::string_view set_date : {"set date_string = \"", "set date_string = '"}) {
      if (auto date = literal_after(jinja, set_date)) t.today_date_ = *date;
    }
    return t;
  }
  if (jinja.find("<start_of_turn>") != std::string_view::npos) return ChatTemplate(ChatFormat::Gemma);
  fail("unrecognised chat template: pagoda renders chatml (<|im_start|>), llama3 / llama3.1 "
       "(<|start_header_id|>) and gemma (<start_of_turn>); choose one by name ({}). The template begins: {:.80}",
       fmt::join(format_names, ", "), jinja);
}

ChatTemplate ChatTemplate::from_gguf(const gguf::File& file, std::string_view fallback) {
  const auto jinja = file.get_optional<std::string_view>("tokenizer.chat_template");
  if (!jinja && !fallback.empty()) return by_name(fallback);
  if (!jinja) {
    fail("{}: tokenizer.chat_template is missing; choose a chat template by name ({})", file.name(),
         fmt::join(format_names, ", "));
  }
  try {
    return from_jinja(*jinja);
  } catch (const Error& e) {
    fail("{}: tokenizer.chat_template: {}", file.name(), e.what());
  }
}

ChatTemplate ChatTemplate::with_today_date(std::string date) const {
  ChatTemplate copy = *this;
  copy.today_date_ = std::move(date);
  return copy;
}

std::string ChatTemplate::render(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  switch (format_) {
    case ChatFormat::ChatMl: return render_chatml(messages, add_generation_prompt);
    case ChatFormat::Llama3:
    case ChatFormat::Llama31: return render_llama3(messages, add_generation_prompt);
    case ChatFormat::Gemma: return render_gemma(messages, add_generation_prompt);
  }
  return {};
}

std::string ChatTemplate::render_chatml(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  std::string out;
  const auto turn = [&](std::string_view role, std::string_view content) {
    out.append("<|im_start|>").append(role).append("\n").append(content).append("<|im_end|>\n");
  };
  if (default_system_prompt_ && !messages.empty() && messages.front().role != "system") {
    turn("system", *default_system_prompt_);
  }
  for (const ChatMessage& m : messages) turn(m.role, m.content);
  if (add_generation_prompt) out.append("<|im_start|>assistant\n");
  return out;
}

std::string ChatTemplate::render_llama3(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  std::string out;
  if (format_ == ChatFormat::Llama3) {
    // Llama 3.0 prefixes BOS to the first message only: no messages, no BOS.
    if (!messages.empty()) out.append("<|begin_of_text|>");
    for (const ChatMessage& m : messages) append_llama3_turn(out, m.role, trim(m.content));
  } else {
    // Llama 3.1 / 3.2 always open with a system turn carrying the dates.
    out.append("<|begin_of_text|>");
    std::string_view system;
    if (!messages.empty() && messages.front().role == "system") {
      system = trim(messages.front().content);
      messages = messages.subspan(1);
    }
    const std::string header =
        fmt::format("Cutting Knowledge Date: {}\nToday Date: {}\n\n{}", knowledge_date_, today_date_, system);
    append_llama3_turn(out, "system", header);
    for (const ChatMessage& m : messages) append_llama3_turn(out, m.role, trim(m.content));
  }
  if (add_generation_prompt) out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
  return out;
}

std::string ChatTemplate::render_gemma(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  std::string out = "<bos>";
  std::string first_prefix;
  if (!messages.empty() && messages.front().role == "system") {
    first_prefix = messages.front().content + "\n\n";
    messages = messages.subspan(1);
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if ((m.role == "user") != (i % 2 == 0)) {
      fail("gemma chat template: roles must alternate user/assistant/user/... (message {} after any system "
           "message is '{}')",
           i, m.role);
    }
    const std::string_view role = m.role == "assistant" ? std::string_view("model") : std::string_view(m.role);
    out.append("<start_of_turn>").append(role).append("\n");
    if (i == 0) out.append(first_prefix);
    out.append(trim(m.content)).append("<end_of_turn>\n");
  }
  if (add_generation_prompt) out.append("<start_of_turn>model\n");
  return out;
}

}  // namespace pagoda::text
