// A greedy answer through the model's own chat template, on the CPU oracle,
// equals transformers' greedy answer on the same weights
// (tests/data/reference/smollm2_greedy.json) — coherent English.
#include <doctest/doctest.h>

#include <algorithm>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/text/chat_template.hpp"
#include "pagoda/text/stream_decoder.hpp"
#include "pagoda/text/tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"
#include "reference_data.hpp"

using namespace pagoda;

TEST_CASE("a greedy chat answer on the real model equals the reference's, token for token") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const auto reference = test::load_reference("smollm2_greedy.json");
  const text::Tokenizer tokenizer(text::vocabulary_from_gguf(file->gguf()));

  std::vector<text::ChatMessage> messages;
  for (const auto& m : reference["messages"])
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  const auto chat = text::ChatTemplate::from_gguf(file->gguf());
  const auto prompt = chat.render(messages, /*add_generation_prompt=*/true);
  CHECK(prompt == reference["prompt_text"].get<std::string>());

  const auto prompt_ids = tokenizer.encode(prompt, /*add_special=*/!chat.renders_bos(), /*parse_special=*/true);
  CHECK(prompt_ids == reference["prompt_ids"].get<std::vector<std::int32_t>>());

  cpu::ReferenceModel model(file->gguf(), 256);
  auto logits = model.forward(prompt_ids);
  std::vector<std::int32_t> generated;
  text::StreamDecoder stream(tokenizer);
  std::string answer;
  const auto max_new = reference["max_new_tokens"].get<std::size_t>();
  while (generated.size() < max_new) {
    const auto token = static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    generated.push_back(token);
    if (tokenizer.is_end_of_generation(token)) break;
    answer += stream.feed(token);
    logits = model.forward(std::span(&token, 1));
  }
  answer += stream.flush();

  MESSAGE("answer: " << answer);
  CHECK(generated == reference["generated_ids"].get<std::vector<std::int32_t>>());
  CHECK(answer == reference["answer_text"].get<std::string>());
  CHECK(answer.find("Paris") != std::string::npos);
}
