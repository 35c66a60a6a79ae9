// Response bodies in OpenAI's shapes, and server-sent-event framing. Pure
// functions of their inputs (the id and time are given), so the unit tests
// check the exact JSON.
//
//   chat, whole:      {"object": "chat.completion", "choices": [{"message": {...}, "finish_reason"}], "usage"}
//   chat, streamed:   "chat.completion.chunk" events with "delta"s: the role first, then content pieces,
//                     then an empty delta with the finish_reason; [usage chunk]; data: [DONE]
//   completion:       "text_completion" with "text" in each choice, whole or streamed alike
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "job.hpp"
#include "request.hpp"

namespace pagoda::server {

struct ResponseHead {
  std::string id;        // "chatcmpl-..." or "cmpl-..."
  std::int64_t created;  // Unix seconds
  std::string model;
};

// A fresh id for an endpoint's response: its prefix and `serial` in hex.
[[nodiscard]] std::string response_id(Endpoint endpoint, std::uint64_t serial);

[[nodiscard]] nlohmann::json usage_json(const Usage& usage);

// The whole answer. `reason` is stop or length.
[[nodiscard]] nlohmann::json completion_body(Endpoint endpoint, const ResponseHead& head, std::string_view text,
                                             FinishReason reason, const Usage& usage);

// One streamed chunk: `text` (chat: a content delta; the first chunk of a chat
// stream carries the role instead, with `role_only`), or the last chunk with
// the finish reason and no text.
[[nodiscard]] nlohmann::json stream_chunk(Endpoint endpoint, const ResponseHead& head, std::string_view text,
                                          std::optional<FinishReason> reason = std::nullopt, bool role_only = false);
// stream_options.include_usage: the chunk after the last, with no choices.
[[nodiscard]] nlohmann::json usage_chunk(Endpoint endpoint, const ResponseHead& head, const Usage& usage);

// GET /v1/models
[[nodiscard]] nlohmann::json models_body(std::string_view model_id, std::int64_t created);

// JSON as text; invalid UTF-8 (which a model can produce) becomes U+FFFD instead of an exception.
[[nodiscard]] std::string json_text(const nlohmann::json& value);

// "data: <json>\n\n", and the stream's end "data: [DONE]\n\n".
[[nodiscard]] std::string sse_event(const nlohmann::json& data);
[[nodiscard]] std::string sse_done();

}  // namespace pagoda::server
