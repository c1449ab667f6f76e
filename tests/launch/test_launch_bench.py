"""`qtui bench --launch` end to end: fake `vllm` executables serving qtui's simulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from qtui.commands import bench
from qtui.engines.server import free_port
from qtui.errors import QtuiError
from qtui.launch import vllm


def test_bench_launches_measures_and_stops(
    fake_vllm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm, "gpu_memory", lambda: None)
    monkeypatch.chdir(tmp_path)
    ports = [free_port(), free_port()]
    eps = "".join(
        f'[[endpoints]]\nname = "{n}"\nprecision = "{n}"\ntelemetry = "none"\n'
        f'[endpoints.launch]\nmodel = "sim"\nexecutable = "{fake_vllm}"\nport = {p}\n'
        for n, p in zip(("bf16", "fp8"), ports, strict=True)
    )
    prof = tmp_path / "p.toml"
    prof.write_text(
        f'[profile]\nname = "launch"\n{eps}'
        "[workload]\ninput_tokens = { mean = 32 }\noutput_tokens = { mean = 8 }\n"
        '[load]\nmode = "concurrency"\nconcurrency = 2\nduration_s = 30\n'
    )
    summary = bench.run(
        prof, out=tmp_path / "out", max_requests=6, launch=True, show_progress=False
    )
    assert set(summary["endpoints"]) == {"bf16", "fp8"}
    for name in ("bf16", "fp8"):
        assert summary["endpoints"][name]["summary"]["requests"] > 0
        assert (
            "fake vllm argv: serve sim" in (tmp_path / "qtui-out/logs" / f"{name}.log").read_text()
        )
    for port in ports:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/health")
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["endpoints"]
    from qtui.evidence.memory import GIB, recorded_weights
    from qtui.session.reader import load_session

    (spath,) = (tmp_path / "out").glob("*.qtsession")
    events = load_session(spath).docs("event")
    w = recorded_weights(events, "fp8")  # the server's own figure, from its launch log
    assert w is not None and w.bytes == pytest.approx(0.26 * GIB)
    assert w.basis == "server's log: Model loading took 0.26 GiB"


def _crash_profile(tmp_path: Path, fake_vllm: Path, crash_model: str) -> Path:
    eps = "".join(
        f'[[endpoints]]\nname = "{n}"\nprecision = "{n}"\ntelemetry = "none"\n'
        f'[endpoints.launch]\nmodel = "{m}"\nexecutable = "{fake_vllm}"\nport = {free_port()}\n'
        for n, m in (("bf16", "sim"), ("int4", crash_model))
    )
    prof = tmp_path / "p.toml"
    prof.write_text(
        f'[profile]\nname = "crash"\n{eps}'
        "[workload]\ninput_tokens = { mean = 32 }\noutput_tokens = { mean = 8 }\n"
        '[load]\nmode = "concurrency"\nconcurrency = 2\nduration_s = 60\n'
    )
    return prof


def _server_exits(session: Path) -> list[str]:
    from qtui.session.reader import load_session

    s = load_session(session)
    return [e["value"] for e in s.docs("event") if e.get("key") == "server_exit"]


def test_a_server_that_dies_mid_stream_is_one_line_and_the_others_go_on(
    fake_vllm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm, "gpu_memory", lambda: None)
    monkeypatch.chdir(tmp_path)
    prof = _crash_profile(tmp_path, fake_vllm, "crash0")  # dies in its first stream
    session = tmp_path / "crash.qtsession"
    with pytest.raises(QtuiError) as err:
        bench.run(
            prof, out=tmp_path / "out", max_requests=6, launch=True, show_progress=False,
            session=session,
        )  # fmt: skip
    line = (
        "endpoint int4: server exited with signal 11 (SIGSEGV) while measured; "
        "see qtui-out/logs/int4.log"
    )
    assert str(err.value).startswith(f"no request completed on int4 ({line});")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["endpoints"]["bf16"]["summary"]["requests"] > 0  # measured to the end
    assert summary["endpoints"]["int4"]["summary"]["requests"] == 0
    assert [e["value"] for e in summary["events"] if e["key"] == "server_exit"] == [line]
    assert _server_exits(session) == [line]
    # whichever of the concurrent streams reaches its second token first takes the crash
    assert "fake vllm: crashing in stream" in (tmp_path / "qtui-out/logs/int4.log").read_text()


def test_a_server_that_dies_after_answering_is_reported_and_bench_succeeds(
    fake_vllm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm, "gpu_memory", lambda: None)
    monkeypatch.chdir(tmp_path)
    prof = _crash_profile(tmp_path, fake_vllm, "crash2")  # two whole answers, then dies
    session = tmp_path / "crash.qtsession"
    summary = bench.run(
        prof, out=tmp_path / "out", max_requests=6, launch=True, show_progress=False,
        session=session,
    )  # fmt: skip
    assert summary["endpoints"]["int4"]["summary"]["requests"] == 2
    assert summary["endpoints"]["bf16"]["summary"]["requests"] > 0
    assert _server_exits(session) == [
        "endpoint int4: server exited with signal 11 (SIGSEGV) while measured; "
        "see qtui-out/logs/int4.log"
    ]


def test_the_decision_record_names_a_server_that_died(
    fake_vllm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtui.session.decision import decide
    from qtui.session.reader import load_session

    monkeypatch.setattr(vllm, "gpu_memory", lambda: None)
    monkeypatch.chdir(tmp_path)
    prof = _crash_profile(tmp_path, fake_vllm, "crash2")
    session = tmp_path / "crash.qtsession"
    bench.run(prof, out=tmp_path / "out", max_requests=4, launch=True, show_progress=False,
              session=session)  # fmt: skip
    notes = decide(load_session(session)).notes
    assert (
        "endpoint int4: server exited with signal 11 (SIGSEGV) while measured; "
        "see qtui-out/logs/int4.log"
    ) in notes
