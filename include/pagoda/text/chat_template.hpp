// Chat prompt formats. pagoda does not run Jinja: it recognises the family of
// a GGUF's tokenizer.chat_template by its markers and renders that family in
// C++, producing exactly the text the model's own template produces for plain
// {role, content} conversations (no tools, no images):
//
//   chatml    <|im_start|>role\ncontent<|im_end|>\n ...; a default system
//             prompt written in the template (SmolLM2: "You are a helpful AI
//             assistant named SmolLM, trained by Hugging Face") is inserted
//             when the first message is not a system message.
//   llama3    <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n
//             content (trimmed)<|eot_id|> ...
//   llama3.1  llama3 plus the system header Llama 3.1 / 3.2 always write
//             ("Cutting Knowledge Date: ...\nToday Date: ...\n\n" + system).
//   gemma     <bos><start_of_turn>user\n ... <end_of_turn>\n; "assistant" is
//             rendered "model", a system message is folded into the first
//             turn, roles must alternate user / model (Gemma 3's template).
//
// BOS: when the template writes the BOS token (llama3, gemma), the rendered
// text starts with its spelling ("<|begin_of_text|>", "<bos>"), as Jinja
// would. Encode rendered text with add_special = false and parse_special =
// true so BOS appears exactly once; renders_bos() says which case applies.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pagoda::gguf {
class File;
}

namespace pagoda::text {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatFormat { ChatMl, Llama3, Llama31, Gemma };

class ChatTemplate {
public:
  // By name: "chatml" (no default system prompt), "llama3", "llama3.1", "gemma".
  static ChatTemplate by_name(std::string_view name);
  // Recognises a Jinja template's family; throws pagoda::Error naming the options.
  static ChatTemplate from_jinja(std::string_view jinja);
  // From tokenizer.chat_template; errors name the file. A file without one
  // gets the template named `fallback` (the architecture's, e.g. "gemma" for
  // gemma3 GGUFs converted without it), or an error when that is empty.
  static ChatTemplate from_gguf(const gguf::File& file, std::string_view fallback = {});
  [[nodiscard]] static std::span<const std::string_view> names();

  [[nodiscard]] ChatFormat format() const { return format_; }
  [[nodiscard]] std::string_view name() const;
  [[nodiscard]] bool renders_bos() const { return format_ != ChatFormat::ChatMl; }
  [[nodiscard]] const std::optional<std::string>& default_system_prompt() const { return default_system_prompt_; }

  // llama3.1: the "Today Date" line. Templates that ask strftime_now fall
  // back, as here, to the date they spell out ("26 Jul 2024").
  [[nodiscard]] ChatTemplate with_today_date(std::string date) const;

  // Throws pagoda::Error when the conversation breaks the format's rules
  // (gemma: roles not alternating user / model).
  [[nodiscard]] std::string render(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

private:
  explicit ChatTemplate(ChatFormat format) : format_(format) {}
  std::string render_chatml(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  std::string render_llama3(std::span<const ChatMessage> messages, bool add_generation_prompt) const;
  std::string render_gemma(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

  ChatFormat format_;
  std::optional<std::string> default_system_prompt_;  // chatml
  std::string knowledge_date_ = "December 2023";      // llama3.1
  std::string today_date_ = "26 Jul 2024";            // llama3.1
};

}  // namespace pagoda::text
