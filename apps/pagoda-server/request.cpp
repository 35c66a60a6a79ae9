#include "request.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api_error.hpp"

namespace pagoda::server {

namespace {

using nlohmann::json;

// A field's value, or nullptr when absent or null (OpenAI treats both alike).
const json* field(const json& body, const char* name) {
  const auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::string type_name(const json& value) { return value.type_name(); }

[[noreturn]] void wrong_type(const char* name, const char* expected, const json& value) {
  throw invalid_request(fmt::format("'{}' must be {} (got {})", name, expected, type_name(value)), name,
                        "invalid_type");
}

std::optional<bool> boolean(const json& body, const char* name) {
  const json* value = field(body, name);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) wrong_type(name, "a boolean", *value);
  return value->get<bool>();
}

// A number within [low, high] (NaN cannot arrive: JSON has none).
std::optional<double> number(const json& body, const char* name, double low, double high) {
  const json* value = field(body, name);
  if (!value) return std::nullopt;
  if (!value->is_number()) wrong_type(name, "a number", *value);
  const double x = value->get<double>();
  if (!(x >= low && x <= high))
    throw invalid_request(fmt::format("'{}' must be between {} and {} (got {})", name, low, high, x), name,
                          "invalid_value");
  return x;
}

std::optional<std::int64_t> integer(const json& body, const char* name, std::int64_t low, std::int64_t high) {
  const json* value = field(body, name);
  if (!value) return std::nullopt;
  if (!value->is_number_integer()) wrong_type(name, "an integer", *value);
  if (value->is_number_unsigned() && value->get<std::uint64_t>() > static_cast<std::uint64_t>(high))
    throw invalid_request(fmt::format("'{}' must be between {} and {} (got {})", name, low, high,
                                      value->get<std::uint64_t>()),
                          name, "invalid_value");
  const auto x = value->get<std::int64_t>();
  if (x < low || x > high)
    throw invalid_request(fmt::format("'{}' must be between {} and {} (got {})", name, low, high, x), name,
                          "invalid_value");
  return x;
}

// A message's content: a string, or an array of {"type": "text", "text": ...} parts.
std::string content_of(const json& content, std::size_t index) {
  const auto param = fmt::format("messages[{}].content", index);
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    throw invalid_request(fmt::format("'{}' must be a string or an array of text parts (got {})", param,
                                      type_name(content)),
                          param, "invalid_type");
  std::string text;
  for (const auto& part : content) {
    const json* type = part.is_object() ? field(part, "type") : nullptr;
    const json* part_text = part.is_object() ? field(part, "text") : nullptr;
    if (!type || *type != "text" || !part_text || !part_text->is_string())
      throw invalid_request(fmt::format("'{}': only text parts ({{\"type\": \"text\", \"text\": ...}}) are "
                                        "supported",
                                        param),
                            param, "unsupported_content");
    text += part_text->get<std::string>();
  }
  return text;
}

std::vector<text::ChatMessage> messages_of(const json& body) {
  const json* messages = field(body, "messages");
  if (!messages) throw invalid_request("'messages' is required", "messages", "missing_required_parameter");
  if (!messages->is_array()) wrong_type("messages", "an array", *messages);
  if (messages->empty()) throw invalid_request("'messages' must not be empty", "messages", "invalid_value");
  std::vector<text::ChatMessage> out;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const json& message = (*messages)[i];
    const auto param = fmt::format("messages[{}]", i);
    if (!message.is_object())
      throw invalid_request(fmt::format("'{}' must be an object (got {})", param, type_name(message)), param,
                            "invalid_type");
    const json* role = field(message, "role");
    if (!role || !role->is_string())
      throw invalid_request(fmt::format("'{}.role' must be a string", param), param + ".role", "invalid_type");
    std::string role_name = role->get<std::string>();
    if (role_name == "developer") role_name = "system";  // OpenAI's newer name for the system role
    if (role_name != "system" && role_name != "user" && role_name != "assistant")
      throw invalid_request(fmt::format("'{}.role' must be system, developer, user or assistant (got '{}')", param,
                                        role->get<std::string>()),
                            param + ".role", "invalid_value");
    const json* content = field(message, "content");
    if (!content)
      throw invalid_request(fmt::format("'{}.content' is required", param), param + ".content",
                            "missing_required_parameter");
    out.push_back({std::move(role_name), content_of(*content, i)});
  }
  return out;
}

std::string prompt_of(const json& body) {
  const json* prompt = field(body, "prompt");
  if (!prompt) throw invalid_request("'prompt' is required", "prompt", "missing_required_parameter");
  if (prompt->is_string()) return prompt->get<std::string>();
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) return (*prompt)[0].get<std::string>();
  throw invalid_request("'prompt' must be a string (or an array of exactly one string)", "prompt", "invalid_type");
}

std::vector<std::string> stop_of(const json& body) {
  const json* stop = field(body, "stop");
  if (!stop) return {};
  std::vector<std::string> out;
  if (stop->is_string()) {
    out.push_back(stop->get<std::string>());
  } else if (stop->is_array()) {
    if (stop->size() > max_stop_strings)
      throw invalid_request(fmt::format("'stop' may hold at most {} strings (got {})", max_stop_strings,
                                        stop->size()),
                            "stop", "invalid_value");
    for (const auto& s : *stop) {
      if (!s.is_string()) wrong_type("stop", "a string or an array of strings", *stop);
      out.push_back(s.get<std::string>());
    }
  } else {
    wrong_type("stop", "a string or an array of strings", *stop);
  }
  for (const auto& s : out)
    if (s.empty()) throw invalid_request("'stop' strings must not be empty", "stop", "invalid_value");
  return out;
}

// Features the server does not have: refused by name, never silently ignored.
void refuse_unsupported(const json& body) {
  if (const auto n = integer(body, "n", 1, 128); n && *n != 1)
    throw invalid_request("'n' must be 1: one choice per request", "n", "unsupported_value");
  for (const char* name : {"logprobs", "echo"})
    if (boolean(body, name).value_or(false))
      throw invalid_request(fmt::format("'{}' is not supported", name), name, "unsupported_parameter");
  if (const json* tools = field(body, "tools"); tools && !(tools->is_array() && tools->empty()))
    throw invalid_request("'tools' (function calling) is not supported", "tools", "unsupported_parameter");
}

}  // namespace

ApiRequest parse_request(Endpoint endpoint, std::string_view body_text, std::string_view model_id,
                         const runtime::SamplingParams& defaults) {
  const json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    throw invalid_request("the body is not valid JSON", std::nullopt, "invalid_json");
  if (!body.is_object())
    throw invalid_request(fmt::format("the body must be a JSON object (got {})", type_name(body)), std::nullopt,
                          "invalid_json");

  ApiRequest request{.endpoint = endpoint, .sampling = defaults};
  if (const json* model = field(body, "model")) {
    if (!model->is_string()) wrong_type("model", "a string", *model);
    request.model = model->get<std::string>();
    if (request.model != model_id)
      throw invalid_request(fmt::format("the model '{}' does not exist: this server serves '{}'", request.model,
                                        model_id),
                            "model", "model_not_found");
  }
  if (endpoint == Endpoint::chat)
    request.messages = messages_of(body);
  else
    request.prompt = prompt_of(body);

  refuse_unsupported(body);
  request.stream = boolean(body, "stream").value_or(false);
  if (const json* options = field(body, "stream_options")) {
    if (!options->is_object()) wrong_type("stream_options", "an object", *options);
    request.include_usage = boolean(*options, "include_usage").value_or(false);
  }
  constexpr std::int64_t max_int = std::numeric_limits<std::int32_t>::max();
  for (const char* name : {"max_tokens", "max_completion_tokens"})
    if (const auto max_tokens = integer(body, name, 1, max_int)) request.max_tokens = static_cast<std::size_t>(*max_tokens);
  request.stop = stop_of(body);

  auto& s = request.sampling;
  if (const auto x = number(body, "temperature", 0, 2)) s.temperature = static_cast<float>(*x);
  if (const auto x = number(body, "top_p", 0, 1)) s.top_p = static_cast<float>(*x);
  if (const auto x = integer(body, "top_k", 0, 1000000)) s.top_k = static_cast<int>(*x);
  if (const auto x = number(body, "min_p", 0, 1)) s.min_p = static_cast<float>(*x);
  if (const auto x = number(body, "presence_penalty", -2, 2)) s.presence_penalty = static_cast<float>(*x);
  if (const auto x = number(body, "frequency_penalty", -2, 2)) s.frequency_penalty = static_cast<float>(*x);
  if (const auto x = number(body, "repeat_penalty", 0, 100)) {
    if (*x == 0) throw invalid_request("'repeat_penalty' must be above 0", "repeat_penalty", "invalid_value");
    s.repeat_penalty = static_cast<float>(*x);
  }
  if (const json* seed = field(body, "seed")) {
    if (!seed->is_number_integer()) wrong_type("seed", "an integer", *seed);
    request.seed = seed->is_number_unsigned() ? seed->get<std::uint64_t>()
                                              : static_cast<std::uint64_t>(seed->get<std::int64_t>());
  }
  return request;
}

GenerationRequest to_generation(const ApiRequest& request, const text::Tokenizer& tokenizer,
                                const text::ChatTemplate& chat, std::uint32_t context_size,
                                std::uint64_t default_seed) {
  GenerationRequest out{.stop = request.stop, .sampling = request.sampling};
  out.sampling.seed = request.seed.value_or(default_seed);
  if (request.endpoint == Endpoint::chat) {
    std::string rendered;
    try {
      rendered = chat.render(request.messages, /*add_generation_prompt=*/true);
    } catch (const std::exception& e) {
      throw invalid_request(e.what(), "messages", "invalid_value");  // e.g. gemma's alternating roles
    }
    out.prompt = tokenizer.encode(rendered, /*add_special=*/!chat.renders_bos(), /*parse_special=*/true);
  } else {
    out.prompt = tokenizer.encode(request.prompt, /*add_special=*/true, /*parse_special=*/true);
    if (out.prompt.empty())
      throw invalid_request("'prompt' must not be empty", "prompt", "invalid_value");
  }
  const std::size_t context = context_size;
  if (out.prompt.size() >= context)
    throw invalid_request(fmt::format("the prompt is {} tokens, and the context of {} must also hold at least one "
                                      "generated token",
                                      out.prompt.size(), context),
                          request.endpoint == Endpoint::chat ? "messages" : "prompt", "context_length_exceeded");
  if (request.max_tokens && *request.max_tokens > context)
    throw invalid_request(fmt::format("'max_tokens' must be between 1 and the context size {} (got {})", context,
                                      *request.max_tokens),
                          "max_tokens", "invalid_value");
  // Generation ends at the context's end anyway (finish_reason "length").
  out.max_tokens = request.max_tokens.value_or(context - out.prompt.size());
  return out;
}

}  // namespace pagoda::server
