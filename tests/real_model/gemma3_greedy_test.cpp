// A greedy chat answer of Gemma 3 270M through the Gemma chat template (the
// architecture's, since the file carries none), on the CPU oracle, equals
// transformers' greedy answer on the same weights
// (tests/data/reference/gemma3_greedy.json). The file is the pre-trained
// model, so the conversation holds one example turn before the question.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/text/chat_template.hpp"
#include "pagoda/text/stream_decoder.hpp"
#include "pagoda/text/tokenizer.hpp"
#include "pagoda/text/vocabulary.hpp"
#include "reference_data.hpp"

using namespace pagoda;

TEST_CASE("Gemma 3: a greedy chat answer equals the reference's, token for token") {
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  const auto reference = test::load_reference("gemma3_greedy.json");
  const text::Tokenizer tokenizer(text::vocabulary_from_gguf(file->gguf()));
  cpu::ReferenceModel model(file->gguf(), 256);

  std::vector<text::ChatMessage> messages;
  for (const auto& m : reference["messages"])
    messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  const auto chat = text::ChatTemplate::from_gguf(file->gguf(), model.config().architecture.chat_template);
  CHECK(chat.format() == text::ChatFormat::Gemma);
  const auto prompt = chat.render(messages, /*add_generation_prompt=*/true);
  CHECK(prompt == reference["prompt_text"].get<std::string>());
  const auto prompt_ids = tokenizer.encode(prompt, /*add_special=*/!chat.renders_bos(), /*parse_special=*/true);
  CHECK(prompt_ids == reference["prompt_ids"].get<std::vector<std::int32_t>>());

  const auto start = std::chrono::steady_clock::now();
  auto logits = model.forward(prompt_ids);
  const auto prefilled = std::chrono::steady_clock::now();
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
  const auto done = std::chrono::steady_clock::now();
  const double prefill_s = std::chrono::duration<double>(prefilled - start).count();
  const double decode_s = std::chrono::duration<double>(done - prefilled).count();

  MESSAGE("Gemma 3 answer: " << answer << " [prefill " << double(prompt_ids.size()) / prefill_s << " t/s, decode "
                             << double(generated.size() - 1) / decode_s << " t/s on " << model.threads()
                             << " threads]");
  CHECK(generated == reference["generated_ids"].get<std::vector<std::int32_t>>());
  CHECK(answer == reference["answer_text"].get<std::string>());
  // The pre-trained model never learned to end a turn: its first sentence is the answer.
  CHECK(answer.starts_with("The capital of France is Paris."));
}
