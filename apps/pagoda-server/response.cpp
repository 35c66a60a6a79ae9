#include "response.hpp"

#include <fmt/format.h>

namespace pagoda::server {

namespace {

using nlohmann::json;

const char* object_of(Endpoint endpoint, bool chunk) {
  if (endpoint == Endpoint::completion) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json finish_json(std::optional<FinishReason> reason) {
  return reason ? json(name_of(*reason)) : json(nullptr);
}

json head_json(Endpoint endpoint, const ResponseHead& head, bool chunk) {
  return {{"id", head.id}, {"object", object_of(endpoint, chunk)}, {"created", head.created}, {"model", head.model}};
}

}  // namespace

std::string response_id(Endpoint endpoint, std::uint64_t serial) {
  return fmt::format("{}-{:016x}", endpoint == Endpoint::chat ? "chatcmpl" : "cmpl", serial);
}

json usage_json(const Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens},
          {"completion_tokens", usage.completion_tokens},
          {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}}};
}

json completion_body(Endpoint endpoint, const ResponseHead& head, std::string_view text, FinishReason reason,
                     const Usage& usage) {
  json choice = {{"index", 0}, {"finish_reason", name_of(reason)}, {"logprobs", nullptr}};
  if (endpoint == Endpoint::chat)
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  else
    choice["text"] = text;
  json body = head_json(endpoint, head, false);
  body["choices"] = json::array({choice});
  body["usage"] = usage_json(usage);
  return body;
}

json stream_chunk(Endpoint endpoint, const ResponseHead& head, std::string_view text,
                  std::optional<FinishReason> reason, bool role_only) {
  json choice = {{"index", 0}, {"finish_reason", finish_json(reason)}, {"logprobs", nullptr}};
  if (endpoint == Endpoint::chat) {
    if (role_only)
      choice["delta"] = {{"role", "assistant"}, {"content", ""}};
    else if (reason)
      choice["delta"] = json::object();
    else
      choice["delta"] = {{"content", text}};
  } else {
    choice["text"] = text;
  }
  json chunk = head_json(endpoint, head, true);
  chunk["choices"] = json::array({choice});
  return chunk;
}

json usage_chunk(Endpoint endpoint, const ResponseHead& head, const Usage& usage) {
  json chunk = head_json(endpoint, head, true);
  chunk["choices"] = json::array();
  chunk["usage"] = usage_json(usage);
  return chunk;
}

json models_body(std::string_view model_id, std::int64_t created) {
  return {{"object", "list"},
          {"data", json::array({{{"id", model_id}, {"object", "model"}, {"created", created}, {"owned_by", "pagoda"}}})}};
}

std::string json_text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// dump() escapes newlines inside strings, so the event is one data line.
std::string sse_event(const json& data) { return "data: " + json_text(data) + "\n\n"; }

std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace pagoda::server
