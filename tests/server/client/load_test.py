"""A bounded load test on loopback: 64 requests from 16 concurrent clients
against a 4-slot pagoda-server on the CPU engine - whole and streamed chat
and completions, streams that disconnect midway, malformed bodies. Every
well-formed request must get the answer it gets alone (greedy), every
malformed one its error; the server must stay up and its memory (RSS) come
back to where it was after a warm-up.
    load_test.py PAGODA_SERVER"""
import concurrent.futures
import http.client
import json
import sys
import time

import openai

from harness import Server, error_of

REQUESTS, CLIENTS, SLOTS = 64, 16, 4
QUESTIONS = ["What is the capital of France?", "Name a primary colour.", "What is 2 + 2?", "Say hello."]
PROMPTS = ["The capital of France is", "Once upon a time", "The sun rises in the"]
MALFORMED = [  # (body, status, code)
    ("{\"messages\": [", 400, "invalid_json"),
    (json.dumps({"messages": "hi"}), 400, "invalid_type"),
    (json.dumps({"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}), 400, "model_not_found"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}), 400, "invalid_value"),
]
MAX_TOKENS = 8


def chat(q):
    return [{"role": "user", "content": q}]


def main(binary):
    with Server(binary, "-np", str(SLOTS), "-c", "512", "-b", "32", "--quiet") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none", max_retries=0, timeout=300)
        model = client.models.list().data[0].id

        # Expected answers: each request alone, greedy. These also warm every slot up.
        expected_chat = {q: client.chat.completions.create(model=model, messages=chat(q), temperature=0,
                                                           max_tokens=MAX_TOKENS).choices[0].message.content
                         for q in QUESTIONS}
        expected_text = {p: client.completions.create(model=model, prompt=p, temperature=0,
                                                      max_tokens=MAX_TOKENS).choices[0].text for p in PROMPTS}
        with concurrent.futures.ThreadPoolExecutor(SLOTS) as warm:
            list(warm.map(lambda q: client.chat.completions.create(model=model, messages=chat(q + " Tell me more."),
                                                                   temperature=0, max_tokens=48), QUESTIONS))
        baseline = server.rss_kib()

        def one(i):
            kind = i % 8
            q, p = QUESTIONS[i % len(QUESTIONS)], PROMPTS[i % len(PROMPTS)]
            if kind in (0, 1):
                r = client.chat.completions.create(model=model, messages=chat(q), temperature=0, max_tokens=MAX_TOKENS)
                assert r.choices[0].message.content == expected_chat[q], (r.choices[0].message.content, expected_chat[q])
                assert r.usage.completion_tokens <= MAX_TOKENS
                return "chat"
            if kind in (2, 3):
                chunks = list(client.chat.completions.create(model=model, messages=chat(q), temperature=0,
                                                             max_tokens=MAX_TOKENS, stream=True))
                text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
                assert text == expected_chat[q], (text, expected_chat[q])
                assert chunks[-1].choices[0].finish_reason in ("stop", "length")
                return "chat-stream"
            if kind == 4:
                r = client.completions.create(model=model, prompt=p, temperature=0, max_tokens=MAX_TOKENS)
                assert r.choices[0].text == expected_text[p], (r.choices[0].text, expected_text[p])
                return "completion"
            if kind == 5:
                chunks = list(client.completions.create(model=model, prompt=p, temperature=0,
                                                        max_tokens=MAX_TOKENS, stream=True))
                assert "".join(c.choices[0].text for c in chunks) == expected_text[p]
                return "completion-stream"
            if kind == 6:  # a stream the client leaves after its first piece of text
                stream = client.chat.completions.create(
                    model=model, messages=chat("Write a long story about a dragon."), temperature=0, max_tokens=64,
                    stream=True)
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        break
                stream.close()
                return "disconnect"
            body, status, code = MALFORMED[(i // 8) % len(MALFORMED)]
            got_status, _, text = server.request("POST", "/v1/chat/completions", body)
            assert got_status == status and error_of(text)["code"] == code, (got_status, text)
            return "malformed"

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(one, i) for i in range(REQUESTS)]
            results, failures = {}, []
            for i, future in enumerate(futures):
                try:
                    kind = future.result()
                    results[kind] = results.get(kind, 0) + 1
                except Exception as e:  # noqa: BLE001
                    failures.append(f"request {i}: {type(e).__name__}: {e}")
        seconds = time.monotonic() - started

        assert server.alive(), "the server died"
        assert server.request("GET", "/health")[0] == 200
        # Cancelled streams free their slots at the next step: wait for the scheduler to go idle.
        deadline = time.monotonic() + 60
        while server.metrics()["pagoda_slots_busy"] > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        m = server.metrics()
        after = server.rss_kib()
        print(f"{REQUESTS} requests from {CLIENTS} clients in {seconds:.1f} s: {results}")
        print(f"generated {m['pagoda_tokens_generated_total']:.0f} tokens, prefilled {m['pagoda_prompt_tokens_total']:.0f} "
              f"({m['pagoda_prompt_tokens_cached_total']:.0f} reused from slot caches), "
              f"{m['pagoda_requests_cancelled_total']:.0f} cancelled by disconnects, {m['pagoda_steps_total']:.0f} steps, "
              f"{m['pagoda_tokens_per_second']:.1f} t/s while busy")
        print(f"RSS: {baseline / 1024:.1f} MiB after the warm-up, {after / 1024:.1f} MiB after the load "
              f"({(after - baseline) / 1024:+.1f} MiB)")
        if failures:
            print("FAIL:\n" + "\n".join(failures))
            return 1
        problems = []
        if m["pagoda_slots_busy"] != 0 or m["pagoda_queue_depth"] != 0:
            problems.append("slots still busy or requests still queued after the load")
        if m["pagoda_requests_submitted_total"] != m["pagoda_requests_finished_total"]:
            problems.append("submitted and finished requests differ")
        if m["pagoda_requests_cancelled_total"] < 1:
            problems.append("no disconnect cancelled its sequence")
        if after - baseline > 16 * 1024:
            problems.append("RSS grew by more than 16 MiB over the warm-up's")
        if problems:
            print("FAIL: " + "; ".join(problems))
            return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
