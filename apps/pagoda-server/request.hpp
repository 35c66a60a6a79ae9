// The two generation endpoints' request bodies, parsed and checked:
// POST /v1/chat/completions and POST /v1/completions. Every field the server
// honours is type- and range-checked here, and a bad one is an ApiError
// (400) naming the field in `param`; fields it does not know are ignored, as
// OpenAI's clients send extras. Then to_generation() renders the chat through
// the model's template, tokenizes, and checks the result against the context.
// No I/O and no engine: the HTTP glue calls these, the unit tests too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pagoda/runtime/sampling_params.hpp"
#include "pagoda/text/chat_template.hpp"
#include "pagoda/text/tokenizer.hpp"

namespace pagoda::server {

enum class Endpoint { chat, completion };

// At most this many stop strings (OpenAI's limit).
inline constexpr std::size_t max_stop_strings = 4;

struct ApiRequest {
  Endpoint endpoint = Endpoint::chat;
  std::string model;                        // as sent ("" when absent)
  std::vector<text::ChatMessage> messages;  // chat
  std::string prompt;                       // completion
  bool stream = false;
  bool include_usage = false;               // stream_options.include_usage: a last chunk with usage
  std::optional<std::size_t> max_tokens;    // max_tokens or max_completion_tokens; none: until the context is full
  std::vector<std::string> stop;
  runtime::SamplingParams sampling;         // the server's defaults, overridden by the request's fields
  std::optional<std::uint64_t> seed;        // none: the server picks one (see to_generation)
};

// Parses and checks a body. `model_id` is the one model served: a request
// naming another is refused (400, code model_not_found). Throws ApiError.
[[nodiscard]] ApiRequest parse_request(Endpoint endpoint, std::string_view body, std::string_view model_id,
                                       const runtime::SamplingParams& defaults = {});

// What the scheduler runs: the whole prompt as tokens, the limits, the sampling.
struct GenerationRequest {
  std::vector<std::int32_t> prompt;
  std::size_t max_tokens = 0;               // >= 1; generation also ends when the context is full
  std::vector<std::string> stop;
  runtime::SamplingParams sampling;
};

// Renders (chat) and tokenizes the request; a prompt that leaves no room in
// `context_size` for one generated token, or a max_tokens above the context,
// is a 400 (code context_length_exceeded). `default_seed` is used when the
// request names none.
[[nodiscard]] GenerationRequest to_generation(const ApiRequest& request, const text::Tokenizer& tokenizer,
                                              const text::ChatTemplate& chat, std::uint32_t context_size,
                                              std::uint64_t default_seed);

}  // namespace pagoda::server
