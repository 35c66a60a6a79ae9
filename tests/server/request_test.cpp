// The request bodies of /v1/chat/completions and /v1/completions: what is
// accepted, and the exact status, param and code of what is refused.
#include <doctest/doctest.h>

#include <string>

#include "api_error.hpp"
#include "request.hpp"
#include "text/tiny_vocabularies.hpp"

namespace pagoda::server {

namespace {

constexpr const char* model = "smol";

// The ApiError a parse throws (fails the test when none is thrown).
ApiError refusal(Endpoint endpoint, const std::string& body) {
  try {
    (void)parse_request(endpoint, body, model);
  } catch (const ApiError& e) {
    return e;
  }
  FAIL("accepted: " << body);
  return ApiError(0, "", "");
}

void check_refused(const std::string& body, const char* param, const char* code, Endpoint endpoint = Endpoint::chat) {
  const auto e = refusal(endpoint, body);
  CHECK(e.status() == 400);
  CHECK(e.type() == "invalid_request_error");
  CHECK(e.param().value_or("(none)") == param);
  CHECK(e.code().value_or("(none)") == code);
}

const std::string hello = R"("messages": [{"role": "user", "content": "Hi"}])";

}  // namespace

TEST_CASE("a chat request's fields all arrive, and absent ones keep the defaults") {
  const auto r = parse_request(Endpoint::chat, R"({"model": "smol", "messages": [
      {"role": "system", "content": "Be terse."},
      {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]},
      {"role": "assistant", "content": "Hi."}, {"role": "developer", "content": "Shh."}],
      "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 17, "stop": ["\n", "END"],
      "temperature": 0.5, "top_p": 0.9, "top_k": 7, "min_p": 0.1, "presence_penalty": 1.5,
      "frequency_penalty": -0.5, "seed": -1, "n": 1, "user": "ignored", "logprobs": false})",
                               model);
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[0].role == "system");
  CHECK(r.messages[1].content == "Hello");
  CHECK(r.messages[3].role == "system");  // developer is OpenAI's newer name for it
  CHECK(r.stream);
  CHECK(r.include_usage);
  CHECK(r.max_tokens == 17u);
  CHECK(r.stop == std::vector<std::string>{"\n", "END"});
  CHECK(r.sampling.temperature == doctest::Approx(0.5));
  CHECK(r.sampling.top_p == doctest::Approx(0.9));
  CHECK(r.sampling.top_k == 7);
  CHECK(r.sampling.min_p == doctest::Approx(0.1));
  CHECK(r.sampling.presence_penalty == doctest::Approx(1.5));
  CHECK(r.sampling.frequency_penalty == doctest::Approx(-0.5));
  CHECK(r.seed == ~std::uint64_t{0});

  const auto plain = parse_request(Endpoint::chat, "{" + hello + "}", model);
  CHECK_FALSE(plain.stream);
  CHECK_FALSE(plain.max_tokens);
  CHECK_FALSE(plain.seed);
  CHECK(plain.stop.empty());
  CHECK(plain.sampling == runtime::SamplingParams{});
}

TEST_CASE("a completion request takes a string prompt or a list of one, and max_completion_tokens") {
  CHECK(parse_request(Endpoint::completion, R"({"prompt": "Once"})", model).prompt == "Once");
  const auto r = parse_request(Endpoint::completion, R"({"prompt": ["Once"], "max_completion_tokens": 3, "stop": "x"})", model);
  CHECK(r.prompt == "Once");
  CHECK(r.max_tokens == 3u);
  CHECK(r.stop == std::vector<std::string>{"x"});
  check_refused(R"({"prompt": ["a", "b"]})", "prompt", "invalid_type", Endpoint::completion);
  check_refused(R"({"prompt": [1, 2]})", "prompt", "invalid_type", Endpoint::completion);
  check_refused(R"({"max_tokens": 4})", "prompt", "missing_required_parameter", Endpoint::completion);
}

TEST_CASE("malformed JSON and a body that is not an object are refused as invalid_json") {
  for (const char* body : {"{", "", "{\"messages\": [}", "not json", "[1, 2]", "\"text\"", "null"}) {
    CAPTURE(body);
    const auto e = refusal(Endpoint::chat, body);
    CHECK(e.status() == 400);
    CHECK(e.code() == "invalid_json");
    CHECK_FALSE(e.param());
  }
}

TEST_CASE("each field of the wrong type is refused, naming the field") {
  check_refused(R"({"messages": "Hi"})", "messages", "invalid_type");
  check_refused(R"({"messages": []})", "messages", "invalid_value");
  check_refused(R"({})", "messages", "missing_required_parameter");
  check_refused(R"({"messages": [7]})", "messages[0]", "invalid_type");
  check_refused(R"({"messages": [{"content": "Hi"}]})", "messages[0].role", "invalid_type");
  check_refused(R"({"messages": [{"role": "robot", "content": "Hi"}]})", "messages[0].role", "invalid_value");
  check_refused(R"({"messages": [{"role": "user"}]})", "messages[0].content", "missing_required_parameter");
  check_refused(R"({"messages": [{"role": "user", "content": 5}]})", "messages[0].content", "invalid_type");
  check_refused(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
                "messages[0].content", "unsupported_content");
  check_refused("{" + hello + R"(, "model": 3})", "model", "invalid_type");
  check_refused("{" + hello + R"(, "temperature": "hot"})", "temperature", "invalid_type");
  check_refused("{" + hello + R"(, "stream": "yes"})", "stream", "invalid_type");
  check_refused("{" + hello + R"(, "max_tokens": 2.5})", "max_tokens", "invalid_type");
  check_refused("{" + hello + R"(, "top_k": true})", "top_k", "invalid_type");
  check_refused("{" + hello + R"(, "seed": "42"})", "seed", "invalid_type");
  check_refused("{" + hello + R"(, "stop": 3})", "stop", "invalid_type");
  check_refused("{" + hello + R"(, "stop": ["a", 3]})", "stop", "invalid_type");
  check_refused("{" + hello + R"(, "stream_options": true})", "stream_options", "invalid_type");
}

TEST_CASE("values out of range are refused, naming the field and the range") {
  check_refused("{" + hello + R"(, "max_tokens": 0})", "max_tokens", "invalid_value");
  check_refused("{" + hello + R"(, "max_tokens": -5})", "max_tokens", "invalid_value");
  check_refused("{" + hello + R"(, "max_tokens": 99999999999})", "max_tokens", "invalid_value");
  check_refused("{" + hello + R"(, "temperature": 2.5})", "temperature", "invalid_value");
  check_refused("{" + hello + R"(, "top_p": 1.01})", "top_p", "invalid_value");
  check_refused("{" + hello + R"(, "min_p": -0.1})", "min_p", "invalid_value");
  check_refused("{" + hello + R"(, "top_k": -1})", "top_k", "invalid_value");
  check_refused("{" + hello + R"(, "presence_penalty": 3})", "presence_penalty", "invalid_value");
  check_refused("{" + hello + R"(, "frequency_penalty": -2.01})", "frequency_penalty", "invalid_value");
  check_refused("{" + hello + R"(, "stop": ["a", "b", "c", "d", "e"]})", "stop", "invalid_value");
  check_refused("{" + hello + R"(, "stop": ""})", "stop", "invalid_value");
  CHECK(std::string(refusal(Endpoint::chat, "{" + hello + R"(, "temperature": 2.5})").what()) ==
        "'temperature' must be between 0 and 2 (got 2.5)");
}

TEST_CASE("another model's name and features the server lacks are refused by name") {
  const auto e = refusal(Endpoint::chat, "{" + hello + R"(, "model": "gpt-4o"})");
  CHECK(e.code() == "model_not_found");
  CHECK(e.param() == "model");
  CHECK(std::string(e.what()) == "the model 'gpt-4o' does not exist: this server serves 'smol'");
  check_refused("{" + hello + R"(, "n": 2})", "n", "unsupported_value");
  check_refused("{" + hello + R"(, "logprobs": true})", "logprobs", "unsupported_parameter");
  check_refused("{" + hello + R"(, "tools": [{"type": "function"}]})", "tools", "unsupported_parameter");
  CHECK_NOTHROW((void)parse_request(Endpoint::chat, "{" + hello + R"(, "tools": []})", model));
}

TEST_CASE("to_generation renders the chat, tokenizes it, and checks it against the context") {
  const text::Tokenizer tokenizer(text::testing::tiny_bpe({}));
  const auto chatml = text::ChatTemplate::by_name("chatml");
  const auto chat = parse_request(Endpoint::chat, R"({"messages": [{"role": "user", "content": "Hi"}], "seed": 9})", model);
  const auto g = to_generation(chat, tokenizer, chatml, 64, 1234);
  // <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n: byte tokens between the control ones.
  const auto expected = tokenizer.encode(chatml.render(chat.messages, true), false, true);
  CHECK(g.prompt == expected);
  CHECK(g.prompt.size() == 21);
  CHECK(g.max_tokens == 64 - 21);  // none asked: until the context is full
  CHECK(g.sampling.seed == 9);

  const auto unseeded = parse_request(Endpoint::completion, R"({"prompt": "abc", "max_tokens": 5})", model);
  const auto c = to_generation(unseeded, tokenizer, chatml, 64, 1234);
  CHECK(c.prompt == std::vector<std::int32_t>{97, 98, 99});  // byte tokens; this vocabulary adds no BOS
  CHECK(c.max_tokens == 5);
  CHECK(c.sampling.seed == 1234);

  // 21 tokens leave no room in a context of 21; max_tokens above the context is refused.
  try {
    (void)to_generation(chat, tokenizer, chatml, 21, 0);
    FAIL("a prompt filling the context was accepted");
  } catch (const ApiError& e) {
    CHECK(e.status() == 400);
    CHECK(e.code() == "context_length_exceeded");
    CHECK(e.param() == "messages");
  }
  CHECK_NOTHROW((void)to_generation(chat, tokenizer, chatml, 22, 0));
  const auto greedy = parse_request(Endpoint::chat, R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 65})", model);
  try {
    (void)to_generation(greedy, tokenizer, chatml, 64, 0);
    FAIL("max_tokens above the context was accepted");
  } catch (const ApiError& e) {
    CHECK(e.param() == "max_tokens");
  }
}

TEST_CASE("an error's body is OpenAI's error object, param and code null when absent") {
  const auto body = ApiError(503, "busy", "server_busy").body();
  CHECK(body.dump() == R"({"error":{"code":null,"message":"busy","param":null,"type":"server_busy"}})");
  CHECK(invalid_request("bad", "top_p", "invalid_value").body()["error"]["param"] == "top_p");
}

}  // namespace pagoda::server
