"""pagoda-server driven by the real OpenAI Python client (requirements.txt),
on the real SmolLM2 model and the CPU engine, over loopback: chat,
completion, streaming, stop strings, usage, seeds, and every error case
with its status and error object.
    openai_client_test.py PAGODA_SERVER"""
import json
import sys
import threading
import time
import traceback

import openai

from harness import ENGINE, MODEL_NAME, Server, error_of

FRANCE = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
PARIS = "The capital of France is Paris."
failures = []


def case(function):
    name = function.__name__
    started = time.monotonic()
    try:
        function()
        print(f"PASS {name} ({time.monotonic() - started:.1f} s)", flush=True)
    except Exception:
        failures.append(name)
        print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)


def expect_status(error_class, status, code, call):
    try:
        call()
    except error_class as e:
        assert e.status_code == status, (e.status_code, e)
        error = e.body if isinstance(e.body, dict) and "code" in e.body else e.body.get("error", e.body)
        assert error["code"] == code, error
        return error
    raise AssertionError(f"no {error_class.__name__}")


def main(binary):
    with Server(binary, "-np", "2", "-c", "512", "--quiet") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=120)
        model = client.models.list().data[0].id

        def models_list_names_the_file():
            models = client.models.list().data
            assert [m.id for m in models] == [MODEL_NAME], models

        def chat_greedy_answer_and_usage():
            r = client.chat.completions.create(model=model, messages=FRANCE, temperature=0, max_tokens=32)
            assert r.object == "chat.completion" and r.id.startswith("chatcmpl-"), r
            assert r.choices[0].message.role == "assistant"
            assert r.choices[0].message.content == PARIS, r.choices[0].message.content
            assert r.choices[0].finish_reason == "stop"
            # pagoda-chat's numbers for the same turn: 42 prompt tokens, 7 generated.
            assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (42, 7, 49), r.usage

        def second_identical_chat_reuses_the_cache():
            r = client.chat.completions.create(model=model, messages=FRANCE, temperature=0, max_tokens=32)
            assert r.choices[0].message.content == PARIS
            assert r.usage.prompt_tokens_details.cached_tokens == 41, r.usage  # all but the last prompt token

        def chat_stream_matches_the_whole_answer():
            chunks = list(client.chat.completions.create(model=model, messages=FRANCE, temperature=0, max_tokens=32,
                                                         stream=True, stream_options={"include_usage": True}))
            assert chunks[0].choices[0].delta.role == "assistant"
            text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            assert text == PARIS, text
            finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            assert finals == ["stop"], finals
            assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 7, chunks[-1]

        def completion_length_and_usage():
            r = client.completions.create(model=model, prompt="The capital of France is", max_tokens=4,
                                          temperature=0)
            assert r.object == "text_completion"
            assert r.choices[0].text.startswith(" Paris"), r.choices[0].text
            assert r.choices[0].finish_reason == "length"
            assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (5, 4), r.usage

        def completion_stream_matches_the_whole_answer():
            whole = client.completions.create(model=model, prompt="Once upon a time", max_tokens=6, temperature=0)
            chunks = list(client.completions.create(model=model, prompt="Once upon a time", max_tokens=6,
                                                    temperature=0, stream=True))
            assert "".join(c.choices[0].text for c in chunks) == whole.choices[0].text
            assert chunks[-1].choices[0].finish_reason == "length"

        def stop_strings_end_the_answer_before_them():
            r = client.chat.completions.create(model=model, messages=FRANCE, temperature=0, stop=["Paris", "zzz"])
            assert r.choices[0].message.content == "The capital of France is ", r.choices[0].message.content
            assert r.choices[0].finish_reason == "stop"
            s = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
                model=model, messages=FRANCE, temperature=0, stop="France", stream=True) if c.choices)
            assert s == "The capital of ", s
            c = client.completions.create(model=model, prompt="The capital of France is", max_tokens=16,
                                          temperature=0, stop="\n")
            assert c.choices[0].text == " Paris.", c.choices[0].text
            assert c.choices[0].finish_reason == "stop"

        def the_same_seed_gives_the_same_answer():
            ask = lambda seed: client.chat.completions.create(  # noqa: E731
                model=model, messages=[{"role": "user", "content": "Tell me a story."}], temperature=1.0,
                top_p=1, max_tokens=12, seed=seed, extra_body={"top_k": 0, "min_p": 0}).choices[0].message.content
            first = ask(7)
            assert ask(7) == first  # the second run reuses the cache: the draws must not depend on it
            assert len({first, ask(8), ask(9)}) > 1, first

        def sampling_parameters_are_accepted():
            r = client.chat.completions.create(model=model, messages=FRANCE, temperature=0.7, top_p=0.9,
                                               presence_penalty=0.5, frequency_penalty=0.5, max_tokens=3,
                                               extra_body={"top_k": 20, "min_p": 0.1})
            assert r.usage.completion_tokens <= 3 and r.choices[0].finish_reason in ("stop", "length")

        def malformed_json_is_400_invalid_json():
            status, _, body = server.request("POST", "/v1/chat/completions", "{not json")
            assert status == 400 and error_of(body)["code"] == "invalid_json", (status, body)

        def wrong_types_are_400_naming_the_field():
            e = expect_status(openai.BadRequestError, 400, "invalid_type", lambda: client.chat.completions.create(
                model=model, messages=FRANCE, extra_body={"temperature": "hot"}))
            assert e["param"] == "temperature", e
            status, _, body = server.request("POST", "/v1/completions", {"prompt": 42})
            assert status == 400 and error_of(body)["param"] == "prompt", body

        def unknown_model_is_400_model_not_found():
            expect_status(openai.BadRequestError, 400, "model_not_found",
                          lambda: client.chat.completions.create(model="gpt-4o", messages=FRANCE))

        def prompt_longer_than_the_context_is_400():
            expect_status(openai.BadRequestError, 400, "context_length_exceeded",
                          lambda: client.completions.create(model=model, prompt="hello " * 600))

        def max_tokens_out_of_range_is_400():
            for value in (0, -1, 513):
                e = expect_status(openai.BadRequestError, 400, "invalid_value", lambda: client.completions.create(
                    model=model, prompt="Hi", max_tokens=value))
                assert e["param"] == "max_tokens", e

        def unknown_endpoint_is_404_json():
            status, _, body = server.request("GET", "/v1/engines")
            assert status == 404 and error_of(body)["code"] == "not_found", body

        def health_and_metrics():
            status, _, body = server.request("GET", "/health")
            assert status == 200 and json.loads(body) == {"status": "ok"}
            m = server.metrics()
            assert m["pagoda_tokens_generated_total"] > 0 and m["pagoda_slots"] == 2, m
            assert m['pagoda_http_requests_total{path="/v1/chat/completions",status="400"}'] >= 2, m

        for test in (models_list_names_the_file, chat_greedy_answer_and_usage, second_identical_chat_reuses_the_cache,
                     chat_stream_matches_the_whole_answer, completion_length_and_usage,
                     completion_stream_matches_the_whole_answer, stop_strings_end_the_answer_before_them,
                     the_same_seed_gives_the_same_answer, sampling_parameters_are_accepted,
                     malformed_json_is_400_invalid_json, wrong_types_are_400_naming_the_field,
                     unknown_model_is_400_model_not_found, prompt_longer_than_the_context_is_400,
                     max_tokens_out_of_range_is_400, unknown_endpoint_is_404_json, health_and_metrics):
            case(test)

    # A guarded, small server: API key, one slot, a queue of one, small bodies.
    with Server(binary, "-np", "1", "--max-queue", "1", "--max-body", "4096", "-c", "256", "--api-key", "sekrit",
                "--quiet", api_key="sekrit") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sekrit", max_retries=0, timeout=120)

        def missing_or_wrong_api_key_is_401():
            status, headers, body = server.request("GET", "/v1/models", headers={"Authorization": ""})
            assert status == 401 and error_of(body)["code"] == "invalid_api_key", body
            wrong = openai.OpenAI(base_url=server.base_url, api_key="guess", max_retries=0)
            expect_status(openai.AuthenticationError, 401, "invalid_api_key", lambda: wrong.models.list())
            assert client.models.list().data[0].id == MODEL_NAME
            assert server.request("GET", "/health")[0] == 200  # open without a key

        def body_over_the_limit_is_413():
            e = expect_status(openai.APIStatusError, 413, "request_too_large", lambda: client.completions.create(
                model=MODEL_NAME, prompt="x" * 5000, max_tokens=1))
            assert e["type"] == "invalid_request_error"

        def full_queue_is_503_with_retry_after_and_a_disconnect_frees_the_slot():
            model = MODEL_NAME
            story = [{"role": "user", "content": "Write a long story about a brave dragon who learns to fly."}]
            stream = client.chat.completions.create(model=model, messages=story, max_tokens=200, stream=True,
                                                    temperature=0)
            next(iter(stream))  # the slot is busy
            queued = {}
            waiting = threading.Thread(target=lambda: queued.update(r=client.completions.create(
                model=model, prompt="The capital of France is", max_tokens=2, temperature=0)))
            waiting.start()
            deadline = time.monotonic() + 30
            while server.metrics()["pagoda_queue_depth"] < 1:
                assert time.monotonic() < deadline, "the second request never queued"
                time.sleep(0.05)
            status, headers, body = server.request(
                "POST", "/v1/completions", {"prompt": "Hi", "max_tokens": 1}, {"Authorization": "Bearer sekrit"})
            assert status == 503 and headers.get("Retry-After") == "1", (status, headers)
            assert error_of(body)["code"] == "queue_full", body
            stream.close()  # the client leaves mid-stream: the queued request gets the slot
            waiting.join(60)
            assert not waiting.is_alive(), "the queued request never ran"
            assert queued["r"].choices[0].text.startswith(" Paris"), queued
            assert server.metrics()["pagoda_requests_cancelled_total"] == 1

        for test in (missing_or_wrong_api_key_is_401, body_over_the_limit_is_413,
                     full_queue_is_503_with_retry_after_and_a_disconnect_frees_the_slot):
            case(test)

    # The long request must outlast --timeout on either engine: 500 tokens
    # take ~40 s on the CPU engine but ~0.4 s on an H100, where 8000 take ~6 s
    # (greedy counting does not end on its own).
    long_tokens, context = (500, "4096") if ENGINE == "cpu" else (8000, "8192")
    with Server(binary, "--timeout", "2", "-c", context, "--quiet") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=120)

        def a_request_past_the_timeout_is_504_and_the_server_goes_on():
            expect_status(openai.APIStatusError, 504, "request_timeout", lambda: client.completions.create(
                model=MODEL_NAME, prompt="Count: 1, 2, 3,", max_tokens=long_tokens, temperature=0))
            r = client.completions.create(model=MODEL_NAME, prompt="The capital of France is",
                                          max_tokens=2, temperature=0)
            assert r.choices[0].text.startswith(" Paris")

        case(a_request_past_the_timeout_is_504_and_the_server_goes_on)

    if failures:
        print(f"FAIL: {len(failures)} case(s): {', '.join(failures)}")
        return 1
    print("PASS: every case")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
