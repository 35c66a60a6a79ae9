// Response bodies in OpenAI's shapes, exactly; SSE framing; /metrics.
#include <doctest/doctest.h>

#include "metrics.hpp"
#include "response.hpp"

namespace pagoda::server {

namespace {
const ResponseHead head{"chatcmpl-1", 1700000000, "smol"};
const Usage usage{.prompt_tokens = 10, .completion_tokens = 3, .cached_tokens = 4};
}  // namespace

TEST_CASE("a whole chat answer: message, finish reason, usage with cached tokens") {
  const auto body = completion_body(Endpoint::chat, head, "Paris.", FinishReason::stop, usage);
  CHECK(body.dump() ==
        R"({"choices":[{"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Paris.","role":"assistant"}}],)"
        R"("created":1700000000,"id":"chatcmpl-1","model":"smol","object":"chat.completion",)"
        R"("usage":{"completion_tokens":3,"prompt_tokens":10,"prompt_tokens_details":{"cached_tokens":4},"total_tokens":13}})");
}

TEST_CASE("a whole completion answer has text in its choice") {
  const auto body = completion_body(Endpoint::completion, head, " Paris", FinishReason::length, usage);
  CHECK(body["object"] == "text_completion");
  CHECK(body["choices"][0]["text"] == " Paris");
  CHECK(body["choices"][0]["finish_reason"] == "length");
  CHECK_FALSE(body["choices"][0].contains("message"));
}

TEST_CASE("a chat stream: the role first, then content deltas, then an empty delta with the finish reason") {
  CHECK(stream_chunk(Endpoint::chat, head, "", std::nullopt, true)["choices"][0]["delta"].dump() ==
        R"({"content":"","role":"assistant"})");
  const auto piece = stream_chunk(Endpoint::chat, head, "Par");
  CHECK(piece["object"] == "chat.completion.chunk");
  CHECK(piece["choices"][0]["delta"].dump() == R"({"content":"Par"})");
  CHECK(piece["choices"][0]["finish_reason"].is_null());
  const auto last = stream_chunk(Endpoint::chat, head, "", FinishReason::length);
  CHECK(last["choices"][0]["delta"].dump() == "{}");
  CHECK(last["choices"][0]["finish_reason"] == "length");
  const auto with_usage = usage_chunk(Endpoint::chat, head, usage);
  CHECK(with_usage["choices"].empty());
  CHECK(with_usage["usage"]["total_tokens"] == 13);
}

TEST_CASE("SSE events are one data line each; the stream ends with [DONE]") {
  const auto event = sse_event(stream_chunk(Endpoint::completion, head, "a\nb"));
  CHECK(event.starts_with("data: {"));
  CHECK(event.ends_with("}\n\n"));
  CHECK(event.find('\n') == event.size() - 2);  // the newline in the text is escaped
  CHECK(sse_done() == "data: [DONE]\n\n");
}

TEST_CASE("invalid UTF-8 from a model becomes U+FFFD in JSON, never an exception") {
  CHECK(json_text(nlohmann::json("a\xff")) == "\"a\xEF\xBF\xBD\"");
}

TEST_CASE("response ids carry the endpoint's prefix; /v1/models lists the one model") {
  CHECK(response_id(Endpoint::chat, 255) == "chatcmpl-00000000000000ff");
  CHECK(response_id(Endpoint::completion, 1) == "cmpl-0000000000000001");
  const auto models = models_body("smol", 5);
  CHECK(models["data"].size() == 1);
  CHECK(models["data"][0]["id"] == "smol");
}

TEST_CASE("/metrics holds the requests by path and status, tokens, queue depth and t/s") {
  SchedulerMetrics s{.prompt_tokens = 30, .generated_tokens = 10, .busy_seconds = 2, .last_step_seconds = 0.5,
                     .last_step_decodes = 3, .queue_depth = 2, .active_slots = 1, .slots = 4};
  const auto text = render_metrics(s, {{{"/v1/completions", 200}, 7}, {{"/v1/completions", 400}, 1}});
  CHECK(text.find("pagoda_http_requests_total{path=\"/v1/completions\",status=\"200\"} 7\n") != std::string::npos);
  CHECK(text.find("pagoda_http_requests_total{path=\"/v1/completions\",status=\"400\"} 1\n") != std::string::npos);
  CHECK(text.find("\npagoda_tokens_generated_total 10\n") != std::string::npos);
  CHECK(text.find("\npagoda_queue_depth 2\n") != std::string::npos);
  CHECK(text.find("\npagoda_tokens_per_second 20\n") != std::string::npos);
  CHECK(text.find("\npagoda_decode_tokens_per_second 6\n") != std::string::npos);
  CHECK(text.find("\npagoda_slots 4\n") != std::string::npos);
}

}  // namespace pagoda::server
