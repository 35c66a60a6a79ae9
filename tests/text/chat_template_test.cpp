// Expected strings below were rendered from each family's Jinja template
// with jinja2 (trim_blocks, lstrip_blocks, as transformers renders them).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/writer.hpp"
#include "pagoda/text/chat_template.hpp"
#include "tiny_vocabularies.hpp"

using namespace pagoda;
using namespace pagoda::text;
using Messages = std::vector<ChatMessage>;

namespace {

// SmolLM2-135M-Instruct's tokenizer.chat_template, verbatim (its string
// literals hold real newlines).
constexpr std::string_view smollm2_template =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n"
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// The part of Qwen2.5's template that matters here (escaped \n in literals).
constexpr std::string_view qwen25_template =
    "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + "
    "'<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a "
    "helpful assistant.<|im_end|>\\n' }}{%- endif %}";

constexpr std::string_view llama31_template_excerpt =
    "{{- bos_token }}{%- if not date_string is defined %}{%- set date_string = \"26 Jul 2024\" %}{%- endif %}"
    "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December 2023\\n\" }}"
    "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}";

const Messages system_and_user = {{"system", "  Be brief. "}, {"user", " Hi there\n"}};
const Messages conversation = {
    {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Bye"}};
const Messages user_only = {{"user", "Hi"}};

}  // namespace

TEST_CASE("ChatML renders turns verbatim and ends with the assistant prompt") {
  const ChatTemplate chatml = ChatTemplate::by_name("chatml");
  CHECK(chatml.format() == ChatFormat::ChatMl);
  CHECK_FALSE(chatml.renders_bos());
  CHECK(chatml.render(conversation, true) ==
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
  CHECK(chatml.render(user_only, false) == "<|im_start|>user\nHi<|im_end|>\n");
}

TEST_CASE("SmolLM2's template: its default system prompt appears when the first message is not system") {
  const ChatTemplate smol = ChatTemplate::from_jinja(smollm2_template);
  CHECK(smol.name() == "chatml");
  REQUIRE(smol.default_system_prompt().has_value());
  CHECK(*smol.default_system_prompt() == "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
  CHECK(smol.render(user_only, true) ==
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  // A system message replaces it; content is not trimmed in ChatML.
  CHECK(smol.render(system_and_user, true) ==
        "<|im_start|>system\n  Be brief. <|im_end|>\n<|im_start|>user\n Hi there\n<|im_end|>\n"
        "<|im_start|>assistant\n");
  CHECK(smol.render(Messages{}, true) == "<|im_start|>assistant\n");  // the template's loop never runs
}

TEST_CASE("a default system prompt is found in escaped literals too (Qwen2.5)") {
  const ChatTemplate qwen = ChatTemplate::from_jinja(qwen25_template);
  REQUIRE(qwen.default_system_prompt().has_value());
  CHECK(*qwen.default_system_prompt() == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  CHECK_FALSE(ChatTemplate::from_jinja("{{ '<|im_start|>' + message['role'] }}").default_system_prompt());
}

TEST_CASE("Llama 3 writes BOS as text, trims content, and prompts the assistant") {
  const ChatTemplate llama3 = ChatTemplate::by_name("llama3");
  CHECK(llama3.renders_bos());
  CHECK(llama3.render(system_and_user, true) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  CHECK(llama3.render(user_only, false) ==
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
  CHECK(ChatTemplate::from_jinja("{{ '<|start_header_id|>' + message['role'] }}").format() == ChatFormat::Llama3);
}

TEST_CASE("Llama 3.1 always opens with the dated system turn") {
  const ChatTemplate llama31 = ChatTemplate::from_jinja(llama31_template_excerpt);
  CHECK(llama31.format() == ChatFormat::Llama31);
  CHECK(llama31.render(user_only, true) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
        "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  CHECK(llama31.with_today_date("01 Jan 2025").render(system_and_user, false) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
        "Today Date: 01 Jan 2025\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there"
        "<|eot_id|>");
}

TEST_CASE("Gemma folds the system message into the first turn and calls the assistant 'model'") {
  const ChatTemplate gemma = ChatTemplate::by_name("gemma");
  CHECK(gemma.renders_bos());
  CHECK(gemma.render(conversation, true) ==
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n");
  // The system text is kept as written; the user's is trimmed.
  CHECK(gemma.render(system_and_user, true) ==
        "<bos><start_of_turn>user\n  Be brief. \n\nHi there<end_of_turn>\n<start_of_turn>model\n");
  CHECK(ChatTemplate::from_jinja("{{ '<start_of_turn>' + role }}").format() == ChatFormat::Gemma);
}

TEST_CASE("Gemma refuses roles that do not alternate user / model") {
  const ChatTemplate gemma = ChatTemplate::by_name("gemma");
  const Messages two_users = {{"user", "a"}, {"user", "b"}};
  CHECK(testing::error_of([&] { (void)gemma.render(two_users, true); }).find("alternate") != std::string::npos);
  const Messages model_first = {{"assistant", "a"}};
  CHECK_FALSE(testing::error_of([&] { (void)gemma.render(model_first, true); }).empty());
}

TEST_CASE("an unrecognised template or name is an error naming the options") {
  const std::string from_text = testing::error_of([] { (void)ChatTemplate::from_jinja("{{ messages }}"); });
  CHECK(from_text.find("chatml, llama3, llama3.1, gemma") != std::string::npos);
  const std::string by_name = testing::error_of([] { (void)ChatTemplate::by_name("vicuna"); });
  CHECK(by_name.find("'vicuna'") != std::string::npos);
  CHECK(by_name.find("chatml, llama3, llama3.1, gemma") != std::string::npos);
}

TEST_CASE("ChatTemplate::from_gguf reads tokenizer.chat_template and names the file when it cannot") {
  gguf::Writer with_template;
  with_template.add("tokenizer.chat_template", smollm2_template);
  const std::vector<std::byte> bytes = with_template.to_bytes();
  CHECK(ChatTemplate::from_gguf(gguf::File::parse(bytes, "smol.gguf")).default_system_prompt().has_value());

  gguf::Writer without;
  without.add("general.name", std::string_view("x"));
  const std::vector<std::byte> other = without.to_bytes();
  const std::string message =
      testing::error_of([&] { (void)ChatTemplate::from_gguf(gguf::File::parse(other, "bare.gguf")); });
  CHECK(message.find("bare.gguf: tokenizer.chat_template is missing") != std::string::npos);
}
