"""A stand-in for `vllm serve` in tests: real process, real socket, real /health.

`fake_vllm.py serve MODEL --port P --served-model-name N ...` prints its arguments, then:
MODEL "broken" exits 1 with an error; MODEL "sim" serves qtui's simulator (the whole OpenAI API)
as model N on port P; MODEL "crashK" (K ≥ 0) streams K whole completions, then dies with SIGSEGV
in the middle of the next stream, as llama.cpp did on AMX CPUs; any other MODEL answers /health
and /v1/models with a tiny http.server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def arg(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def tiny(port: int, served: str, crash_after: int | None = None) -> None:
    answered, finished = [0], [0]
    lock = threading.Lock()
    whole = threading.Condition()  # the crash waits for the K whole answers before it

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self.path.endswith("/completions"):  # no /tokenize: 404, as any absent route
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            chat = self.path.endswith("/chat/completions")
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with lock:
                n = answered[0]
                answered[0] += 1
            print(f"fake vllm: stream {n + 1} on {self.path}", flush=True)
            for i in range(4):
                self._chunk(self._delta(chat, f" tok{i}"))
                if i == 1 and crash_after is not None and n >= crash_after:
                    with whole:  # streams 1..K end whole first, however the users overlap
                        whole.wait_for(lambda: finished[0] >= crash_after)
                    lock.acquire()  # no other stream writes a byte more: the crash is atomic
                    print(f"fake vllm: crashing in stream {n + 1}", flush=True)
                    os.kill(os.getpid(), signal.SIGSEGV)
            self._chunk(self._delta(chat, "", finish="length"))
            self._chunk("[DONE]")
            with lock:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            with whole:
                finished[0] += 1
                whole.notify_all()

        @staticmethod
        def _delta(chat: bool, text: str, finish: str | None = None) -> str:
            choice = {"index": 0, "finish_reason": finish}
            choice.update({"delta": {"content": text}} if chat else {"text": text})
            return json.dumps({"id": "x", "model": served, "choices": [choice]})

        def _chunk(self, data: str) -> None:
            body = f"data: {data}\n\n".encode()
            with lock:
                self.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n")
                self.wfile.flush()

        def do_GET(self) -> None:
            body = b""
            if self.path == "/v1/models":
                body = json.dumps({"data": [{"id": served, "object": "model"}]}).encode()
            elif self.path != "/health":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def sim(port: int, served: str) -> None:
    from qtui.sim.server import main

    text = (
        f'[profile]\nname = "fake"\n[[endpoints]]\nname = "{served}"\nprecision = "bf16"\n'
        f'model = "{served}"\ntelemetry = "none"\n[endpoints.simulate]\nmodel = "llama-3.1-8b"\n'
    )
    path = Path(tempfile.mkdtemp()) / "fake.toml"
    path.write_text(text)
    main(path, port=port)


def run(argv: list[str]) -> int:
    print("fake vllm argv:", " ".join(argv), flush=True)
    print("fake vllm CUDA_VISIBLE_DEVICES:", os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
    assert argv[0] == "serve", argv
    model, port, served = argv[1], int(arg(argv, "--port")), arg(argv, "--served-model-name")
    print("INFO Loading weights took 0.01 seconds", flush=True)
    print("INFO [model_runner.py:305] Model loading took 0.26 GiB and 3.7 seconds", flush=True)
    if model == "broken":
        print("ValueError: Free memory on device is less than desired", flush=True)
        return 1
    crash = re.fullmatch(r"crash(\d+)", model)
    if crash:
        tiny(port, served, int(crash.group(1)))
    else:
        (sim if model == "sim" else tiny)(port, served)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
