"""A stand-in for `vllm serve` in tests: real process, real socket, real /health.

`fake_vllm.py serve MODEL --port P --served-model-name N ...` prints its arguments, then:
MODEL "broken" exits 1 with an error; MODEL "sim" serves qtui's simulator (the whole OpenAI API)
as model N on port P; any other MODEL answers /health and /v1/models with a tiny http.server.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def arg(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def tiny(port: int, served: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b""
            if self.path == "/v1/models":
                body = json.dumps({"data": [{"id": served, "object": "model"}]}).encode()
            elif self.path != "/health":
                self.send_response(404)
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
    if model == "broken":
        print("ValueError: Free memory on device is less than desired", flush=True)
        return 1
    (sim if model == "sim" else tiny)(port, served)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
