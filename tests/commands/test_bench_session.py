"""`qtui bench` against the real simulator (a child process, real sockets): session and quality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchrun import FINISHED
from click.testing import CliRunner

from qtui.cli import cli
from qtui.config.paths import shipped_profiles_dir
from qtui.session import load_session

GOLDEN = shipped_profiles_dir() / "golden" / "demo.jsonl"
SECRET = "sk-bench-test-0123456789"

PROFILE = """
[profile]
name = "bench test"
baseline = "bf16"

[[endpoints]]
name = "bf16"
precision = "bf16"
telemetry = "dcgm"
api_key_env = "QTUI_BENCH_TEST_KEY"
[endpoints.simulate]
model = "llama-3.1-8b"

[[endpoints]]
name = "int4"
precision = "int4-awq"
telemetry = "dcgm"
[endpoints.simulate]
model = "llama-3.1-8b"
weights = "int4"
quality_error_rate = 0.3
logprob_noise = 0.3

[workload]
input_tokens = {{ mean = 64 }}
output_tokens = {{ mean = 8 }}
golden_set = "{golden}"

[load]
concurrency = 4
duration_s = 60
max_requests = 24

[slo]
quality = {{ min_success = 0.85, max_drop_vs_baseline = 0.05, min_items = 10 }}
"""


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `qtui bench --quality` run on a two-endpoint simulated profile."""
    tmp = tmp_path_factory.mktemp("bench")
    prof = tmp / "bench.toml"
    prof.write_text(PROFILE.format(golden=GOLDEN.as_posix()))
    out = tmp / "out"
    res = CliRunner(env={"QTUI_BENCH_TEST_KEY": SECRET}).invoke(
        cli, ["bench", str(prof), "--out", str(out), "--quality"]
    )
    assert res.exit_code in FINISHED, res.output
    sessions = list(out.glob("*.qtsession"))
    assert len(sessions) == 1
    return {"out": out, "output": res.output, "session": sessions[0]}


def test_session_holds_every_kind_for_every_endpoint(bench_run: dict[str, Any]) -> None:
    path = bench_run["session"]
    assert path.name.startswith("bench-test-")
    s = load_session(path)
    assert s.finalised and not s.warnings
    assert s.profile is not None and s.profile.profile.name == "bench test"
    assert all(e.url.startswith("http://127.0.0.1:") for e in s.profile.endpoints)
    assert set(s.price_tables) == {"aws"}
    assert {d["endpoint"] for d in s.docs("discovery")} == {"bf16", "int4"}
    assert all(d["model_id"] for d in s.docs("discovery"))
    reqs = s.frame("request")
    assert reqs.group_by("endpoint").len().sort("endpoint")["len"].to_list() == [24, 24]
    for kind in ("client_second", "server_second"):
        assert set(s.frame(kind)["endpoint"].to_list()) == {"bf16", "int4"}, kind
    # the live app's 10 s latency window is recorded too, so a replay shows it
    secs = s.frame("client_second")
    assert secs["win_s"].min() >= 1 and secs["win_ttft_p95"].drop_nulls().len() > 0
    gpu = s.frame("gpu_sample")
    assert set(gpu["endpoint"].to_list()) == {"bf16", "int4"}
    assert set(gpu["source"].to_list()) == {"dcgm"} and gpu["memory_used"].min() > 0


def test_session_has_no_secret(bench_run: dict[str, Any]) -> None:
    s = load_session(bench_run["session"])
    assert s.profile is not None and s.profile.endpoints[0].api_key_env == "QTUI_BENCH_TEST_KEY"
    docs = json.dumps(s.documents)
    tables = "".join(str(s.frame(k).to_dicts()) for k in s.tables)
    assert SECRET not in docs and SECRET not in tables


def test_quality_scored_against_baseline(bench_run: dict[str, Any]) -> None:
    summary = json.loads((bench_run["out"] / "summary.json").read_text())
    q = {e["endpoint"]: e for e in summary["quality"]["endpoints"]}
    items = sum(1 for line in GOLDEN.read_text().splitlines() if line.strip())
    assert q["bf16"]["items"] == q["int4"]["items"] == items
    assert q["bf16"]["verdict"] == "go" and q["bf16"]["success"] == 1.0
    lo, hi = q["int4"]["success_ci95"]
    assert lo < q["int4"]["success"] < hi
    agree = q["int4"]["agreement"]
    assert agree["flip_rate"] > 0 and agree["mean_kl"] > 0
    reason = q["int4"]["verdict_reason"]
    assert q["int4"]["verdict"] == "no-go" and "vs bf16" in reason and "wholly beyond" in reason
    tags = q["bf16"]["by_tag"]
    assert tags["task:classification"]["n"] > 0
    assert sum(t["n"] for k, t in tags.items() if k.startswith("task:")) == items
    s = load_session(bench_run["session"])
    # bf16, int4, and bf16 again (its second pass, the noise floor; issue 18)
    assert s.frame("quality_item").height == 3 * items
    noise = summary["quality"]["noise_floor"]
    assert noise["pairs"] == items and 0 <= noise["self_flip_rate"] <= noise["self_flip_upper95"]
    assert isinstance(agree["within_noise"], bool)
    assert "bf16 vs itself" in bench_run["output"]
    assert s.docs("quality_summary")[0]["baseline"] == "bf16"
    assert "success %" in bench_run["output"] and "NO-GO" in bench_run["output"]


def test_bad_golden_set_stops_before_any_request(tmp_path: Path) -> None:
    golden = tmp_path / "g.jsonl"
    line = '{"id": "a", "prompt": "x", "expected": "y", "check": {"type": "exact"}}\n'
    golden.write_text(line * 2)
    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE.format(golden=golden.as_posix()))
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["bench", str(prof), "--out", str(out), "--quality"])
    assert res.exit_code == 2
    assert "g.jsonl:2" in res.output and "duplicate" in res.output.lower()
    assert not out.exists()


def test_bench_lines_show_the_records_throughput(bench_run: dict[str, Any]) -> None:
    # one figure under one name: "out tok/s" on bench's line is the record's "Measured under
    # load" output tok/s (was the engine's post-warm-up window: 751.3 printed, 709.0 recorded)
    from qtui.session.summary import summarize

    recorded = {r.endpoint: r.out_tps for r in summarize(load_session(bench_run["session"]))}
    lines = [
        ln
        for ln in bench_run["output"].splitlines()
        if ln.startswith(("bf16:", "int4:")) and " requests, " in ln
    ]
    assert len(lines) == 2
    for ln in lines:
        name = ln.split(":", 1)[0]
        assert f", {recorded[name]:.1f} out tok/s," in ln, (ln, recorded[name])
