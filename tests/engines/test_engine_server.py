"""Server lifecycle over real processes and real HTTP, with a stand-in `llama_cpp.server`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qtui.engines.server import (
    ServerSpec,
    free_port,
    running_servers,
    server_command,
    start_server,
    wait_ready,
)
from qtui.errors import QtuiError

# A stand-in for llama_cpp.server: parses the same flags, answers /v1/models, reports its pid.
FAKE_SERVER = """
import argparse, http.server, json, os, sys
p = argparse.ArgumentParser()
for flag in ("--model", "--model_alias", "--host", "--port", "--n_ctx", "--n_threads",
             "--n_threads_batch", "--interrupt_requests"):
    p.add_argument(flag)
a = p.parse_args()
if a.model_alias == "crash":
    print("error: model file is not a GGUF", flush=True)
    sys.exit(4)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        env_port = os.environ.get("PORT")
        ids = [{"id": a.model_alias}]
        body = json.dumps({"data": ids, "pid": os.getpid(), "env_port": env_port})
        body = body.encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer((a.host, int(a.port)), H).serve_forever()
"""


@pytest.fixture
def fake_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pkg = tmp_path / "fake" / "llama_cpp" / "server"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text(FAKE_SERVER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake"))
    monkeypatch.setenv("PORT", "1")  # llama_cpp.server would read this; must not leak through
    return Path(sys.executable)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" not in status.read_text()
    except OSError:
        return not status.parent.parent.exists()  # no /proc (macOS): trust kill(0)


def test_server_command_binds_loopback_and_keeps_requests_whole() -> None:
    cmd = server_command(Path("/py"), ServerSpec("q2", Path("/m.gguf"), "smol-q2_k"), 8123)
    assert cmd[:3] == ["/py", "-m", "llama_cpp.server"]
    flags = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert flags["--host"] == "127.0.0.1"
    assert flags["--port"] == "8123"
    assert flags["--model_alias"] == "smol-q2_k"
    assert flags["--interrupt_requests"] == "False"


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 0 < port < 65536


def test_running_servers_start_answer_and_stop(fake_engine: Path, tmp_path: Path) -> None:
    specs = [ServerSpec(n, tmp_path / f"{n}.gguf", f"smol-{n}") for n in ("a", "b")]
    with running_servers(fake_engine, specs, tmp_path / "logs") as servers:
        assert len({s.port for s in servers}) == 2
        pids = []
        for server, spec in zip(servers, specs, strict=True):
            body = httpx.get(f"{server.url}/v1/models").json()
            assert body["data"][0]["id"] == spec.alias
            assert body["env_port"] is None
            pids.append(body["pid"])
    assert not any(_alive(pid) for pid in pids)
    assert all(s.proc.returncode is not None for s in servers)


def test_servers_are_stopped_when_the_body_raises(fake_engine: Path, tmp_path: Path) -> None:
    spec = ServerSpec("a", tmp_path / "a.gguf", "smol-a")
    with (
        pytest.raises(RuntimeError, match="test failed"),
        running_servers(fake_engine, [spec], tmp_path / "logs") as servers,
    ):
        raise RuntimeError("test failed")
    assert servers[0].proc.returncode is not None


def test_a_server_that_exits_early_is_one_line_with_its_log(
    fake_engine: Path, tmp_path: Path
) -> None:
    good = ServerSpec("good", tmp_path / "g.gguf", "smol-good")
    bad = ServerSpec("bad", tmp_path / "b.gguf", "crash")
    with pytest.raises(QtuiError, match=r"'bad' exited with 4 .*not a GGUF"):  # noqa: SIM117
        with running_servers(fake_engine, [good, bad], tmp_path / "logs"):
            pytest.fail("must not get here")


def test_wait_ready_gives_up_on_a_silent_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = ServerSpec("mute", tmp_path / "m.gguf", "mute")
    # `python -m llama_cpp.server` with a module that sleeps: alive, never listening.
    pkg = tmp_path / "mute" / "llama_cpp" / "server"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "__main__.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "mute"))
    server = start_server(Path(sys.executable), spec, tmp_path / "logs")
    try:
        with pytest.raises(QtuiError, match="not ready after 0 s"):
            wait_ready(server, timeout_s=0.3, poll_s=0.05)
    finally:
        server.stop()
    assert server.proc.returncode is not None


# A parent that starts a server, reports its pid, then hangs until killed.
PARENT = """
import sys, time, httpx
from pathlib import Path
from qtui.engines.server import ServerSpec, start_server, wait_ready
spec = ServerSpec("orphan", Path("m.gguf"), "smol-orphan")
server = start_server(Path(sys.executable), spec, Path(sys.argv[1]))
wait_ready(server, timeout_s=30)
print(httpx.get(server.url + "/v1/models").json()["pid"], flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_killed_parent_takes_its_servers_with_it(fake_engine: Path, tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path / "logs")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert _alive(server_pid)
        parent.kill()  # SIGKILL: no finally, no atexit in the parent
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(server_pid), "the server outlived its killed parent"
    finally:
        parent.kill()
        parent.wait(timeout=10)
