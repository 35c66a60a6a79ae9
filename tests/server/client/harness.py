"""Starts a pagoda-server for a test and stops it: a free loopback port
(--port 0, read back from the server's "ready" line), the real model on the
CPU engine (PAGODA_SERVER_ENGINE=gpu: on whatever engine the server picks,
a GPU's where there is one, for the run on an H100), the server's stderr
kept for the failure message."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

MODEL = os.environ.get("PAGODA_MODEL_PATH") or os.path.expanduser(
    "~/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf")
# The server names its model after the file, without ".gguf".
MODEL_NAME = os.path.basename(MODEL).removesuffix(".gguf")
ENGINE = os.environ.get("PAGODA_SERVER_ENGINE", "cpu")
if ENGINE not in ("cpu", "gpu"):
    sys.exit(f"FAIL: PAGODA_SERVER_ENGINE is {ENGINE!r}; cpu (the default) or gpu")
ENGINE_FLAGS = ["--cpu"] if ENGINE == "cpu" else []


def require_model():
    if not os.path.isfile(MODEL):
        sys.exit(f"FAIL: the default model is missing at {MODEL}; run scripts/fetch-model.sh "
                 "(or set PAGODA_MODEL_PATH)")


class Server:
    def __init__(self, binary, *flags, api_key=None):
        require_model()
        self.auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.lines = []
        self.proc = subprocess.Popen([binary, "-m", MODEL, *ENGINE_FLAGS, "--host", "127.0.0.1", "--port", "0", *flags],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                if " ready: " in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60) or self.proc.poll() is not None:
            self.fail("the server did not become ready")
        match = re.search(r"http://127\.0\.0\.1:(\d+)/v1", "\n".join(self.lines))
        if not match:
            self.fail("no address in the ready line")
        self.port = int(match.group(1))
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def fail(self, why):
        self.proc.kill()
        sys.exit(f"FAIL: {why}; the server said:\n" + "\n".join(self.lines))

    def alive(self):
        return self.proc.poll() is None

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def request(self, method, path, body=None, headers=None, timeout=120):
        """(status, headers, body text) of one raw HTTP request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
            connection.request(method, path, body=data,
                               headers={"Content-Type": "application/json", **self.auth, **(headers or {})})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def metrics(self):
        status, _, text = self.request("GET", "/metrics")
        assert status == 200, status
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def stop(self):
        """SIGTERM; the server must exit 0 within 30 s."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.fail("the server did not stop within 30 s of SIGTERM")
        if code != 0:
            self.fail(f"the server exited with {code} after SIGTERM")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def error_of(text):
    """The OpenAI error object of a body, checking its shape."""
    body = json.loads(text)
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert error["message"], error
    return error
