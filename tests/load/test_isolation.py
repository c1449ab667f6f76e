"""Endpoints sharing a GPU: which they are, the order a sweep loads them in, and the label of a
capacity measured while sharing — by hand, then against the simulator over real sockets (a sweep
in turn and one all at once), then through `qtui bench` and `qtui report`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchrun import bench_to_end
from click.testing import CliRunner

from qtui.cli import cli
from qtui.config.profile import Profile
from qtui.evidence.accumulate import Evidence
from qtui.evidence.capacity import capacity_text
from qtui.evidence.records import ProcessSample, RequestRecord
from qtui.evidence.sharing import Isolation, gpu_groups, lanes, nvml_keys, plan, sharing_label
from qtui.load.engine import LoadRun
from qtui.session import load_session
from qtui.session.decision import decide
from qtui.session.rows import sweep_level_row
from qtui.sim.launcher import SimProcess

URLS = {"a": "http://127.0.0.1:8001", "b": "http://localhost:8002", "c": "http://127.0.0.1:8003"}


def profile(urls: dict[str, str], gpus: dict[str, list[int]], isolate: str = "auto") -> Profile:
    """Endpoints a, b, c (as ``urls`` names them) on the GPU indices given; a two-level sweep of
    short steps, an SLO the simulator meets."""
    return Profile.model_validate(
        {
            "profile": {"name": "iso", "baseline": "a"},
            "endpoints": [
                {"name": n, "url": u, "precision": "bf16", "gpu_indices": gpus.get(n, [])}
                for n, u in urls.items()
            ],
            "workload": {"input_tokens": {"mean": 32}, "output_tokens": {"mean": 4}},
            "load": {
                "mode": "sweep",
                "isolate": isolate,
                "sweep": {"levels": [1, 2], "step_duration_s": 0.6},
            },
            "slo": {"ttft_p95_ms": 5000, "max_error_rate": 0.5},
        }
    )


def test_same_host_and_index_share_a_gpu() -> None:
    p = profile({**URLS, "d": "http://gpu-b:8000"}, {"a": [0], "b": [0], "c": [1], "d": [0]})
    iso = plan(p.endpoints, {}, "auto", sweep=True)
    assert [(g.gpu, g.names) for g in iso.groups] == [
        ("GPU 0", ("a", "b")), ("GPU 1", ("c",)), ("GPU 0 on gpu-b", ("d",))
    ]  # fmt: skip
    assert iso.lanes == (("a", "b"), ("c",), ("d",))
    assert iso.text == (
        "isolate = auto: a, b swept in turn (one loaded, the others idle); c, d swept at once"
        " (a, b share GPU 0)"
    )


def test_nvml_joins_an_endpoint_the_profile_does_not_place() -> None:
    seen = nvml_keys([ProcessSample(pid=1, gpu=0, used_memory=None, endpoint="c"),
                      ProcessSample(pid=2, gpu=3, used_memory=None, endpoint=None)])  # fmt: skip
    assert seen == {"c": {("local", 0)}}
    iso = plan(profile(URLS, {"a": [0]}).endpoints, {}, "auto", sweep=True, seen=seen)
    assert [g.names for g in iso.groups] == [("a", "c"), ("b",)]


def test_lanes_for_each_setting() -> None:
    groups = gpu_groups(["a", "b", "c"], {"a": {("local", 0)}, "b": {("local", 0)}})
    assert lanes(groups, "auto") == [["a", "b"], ["c"]]
    assert lanes(groups, "always") == [["a", "b", "c"]]
    assert lanes(groups, "never") == [["a"], ["b"], ["c"]]
    held = plan(profile(URLS, {"a": [0], "b": [0]}).endpoints, {}, "auto", sweep=False)
    assert held.lanes == (("a",), ("b",), ("c",))
    assert held.text == "isolate = auto: a held load, every endpoint at once (a, b share GPU 0)"
    assert Isolation.from_dict(held.to_dict()) == held


def test_the_one_label() -> None:
    label = sharing_label("GPU 0", ["fp8", "fp8kv"])
    assert label == "measured while sharing GPU 0 with fp8, fp8kv"


def sim_urls(sim: SimProcess) -> dict[str, str]:
    return dict(zip("abc", sim.endpoints.values(), strict=False))


async def measure(p: Profile) -> tuple[LoadRun, list[RequestRecord]]:
    recs: list[RequestRecord] = []
    run = LoadRun(p, on_record=recs.append, scrape=False)
    await run.run()
    return run, recs


def span(recs: list[RequestRecord], name: str) -> tuple[float, float]:
    mine = [r for r in recs if r.endpoint == name]
    return min(r.t_send for r in mine), max(r.t_end for r in mine)


def evidence(run: LoadRun, p: Profile) -> Evidence:
    ev = Evidence(p, measuring=False)
    ev.ingest("event", {"kind": "load", "key": "isolation", "value": run.isolation.to_dict()})
    for name, r in run.results().items():
        for lv in r.levels:
            ev.ingest("sweep_level", sweep_level_row(name, lv))
    return ev


async def test_a_sweep_in_turn_on_a_shared_gpu(sim_demo: SimProcess) -> None:
    """a and b on GPU 0: b's first request is sent after a's last ended; c (GPU 1) runs beside
    a. Every step says it had its GPU to itself; no capacity carries the sharing label."""
    p = profile(sim_urls(sim_demo), {"a": [0], "b": [0], "c": [1]})
    run, recs = await measure(p)
    (_, a1), (b0, _), (c0, _) = span(recs, "a"), span(recs, "b"), span(recs, "c")
    assert a1 <= b0 and c0 < a1
    res = run.results()
    assert all(lv.sharing == () and lv.shared_gpu == "" for r in res.values() for lv in r.levels)
    assert [len(r.levels) for r in res.values()] == [2, 2, 2]
    ev = evidence(run, p)
    assert all("sharing" not in capacity_text(ev.capacity(n)) for n in "abc")


async def test_a_sweep_all_at_once_says_whom_it_shared_with(sim_demo: SimProcess) -> None:
    p = profile(sim_urls(sim_demo), {"a": [0], "b": [0], "c": [1]}, isolate="never")
    run, recs = await measure(p)
    (_, a1), (b0, _) = span(recs, "a"), span(recs, "b")
    assert b0 < a1  # at once
    res = run.results()
    assert {lv.sharing for lv in res["a"].levels} == {("b",)}
    assert {lv.shared_gpu for lv in res["b"].levels} == {"GPU 0"}
    assert all(lv.sharing == () for lv in res["c"].levels)
    ev = evidence(run, p)
    text = capacity_text(ev.capacity("a"))
    assert text.endswith("; measured while sharing GPU 0 with b)"), text
    assert "sharing" not in capacity_text(ev.capacity("c"))


def test_a_sweep_step_measured_alone_wins_over_one_shared() -> None:
    p = profile(URLS, {"a": [0], "b": [0]})
    ev = Evidence(p, measuring=False)
    base: dict[str, Any] = {"endpoint": "a", "requests": 100, "in_tps": 1.0, "out_tps": 10.0,
                            "error_rate": 0.0, "ttft_p95": 0.1}  # fmt: skip
    ev.ingest("sweep_level", {**base, "level": 1, "rps": 5.0, "sharing": "", "shared_gpu": ""})
    ev.ingest("sweep_level", {**base, "level": 2, "rps": 7.0, "sharing": "b",
                              "shared_gpu": "GPU 0"})  # fmt: skip
    cap = ev.capacity("a")
    assert cap.rps == 5.0 and not cap.shared


def test_a_held_load_on_a_shared_gpu_is_labelled() -> None:
    p = profile(URLS, {"a": [0], "b": [0]})
    p = p.model_copy(update={"load": p.load.model_copy(update={"mode": "concurrency"})})
    ev = Evidence(p, measuring=True)
    iso = plan(p.endpoints, {}, "auto", sweep=False)
    ev.ingest("event", {"kind": "load", "key": "isolation", "value": iso.to_dict()})
    for t in range(5):
        for n in "ac":
            row = {"endpoint": n, "t": t, "duration_s": 1.0, "requests": 4, "in_tps": 10.0}
            ev.ingest("client_second", {**row, "out_tps": 40.0, "ttft_p95": 0.1})
    assert capacity_text(ev.capacity("a")).endswith("; measured while sharing GPU 0 with b)")
    assert "sharing" not in capacity_text(ev.capacity("c"))


PROFILE = """
[profile]
name = "iso bench"
baseline = "a"
{endpoints}
[workload]
input_tokens = {{ mean = 32 }}
output_tokens = {{ mean = 4 }}

[load]
mode = "sweep"
isolate = "never"
sweep = {{ levels = [1, 2], step_duration_s = 0.6 }}

[slo]
ttft_p95_ms = 5000
max_error_rate = 0.5
"""


def test_bench_and_report_record_what_was_done(sim_demo: SimProcess, tmp_path: Path) -> None:
    urls = sim_urls(sim_demo)
    eps = "".join(
        f'\n[[endpoints]]\nname = "{n}"\nurl = "{u}"\nprecision = "bf16"\ngpu_indices = [0]\n'
        f'telemetry = "none"\n'
        for n, u in list(urls.items())[:2]
    )
    prof = tmp_path / "iso.toml"
    prof.write_text(PROFILE.format(endpoints=eps))
    out = tmp_path / "out"
    summary = bench_to_end(prof, out, show_progress=False, session=tmp_path / "s.qtsession")
    what = "isolate = never: a, b swept at once (a, b share GPU 0)"
    s = load_session(tmp_path / "s.qtsession")
    assert [e["value"]["text"] for e in s.docs("event") if e.get("key") == "isolation"] == [what]
    d = decide(s)
    assert what in d.notes
    label = "measured while sharing GPU 0 with b"
    assert label in summary["decision"]["endpoints"]["a"]["capacity"]
    res = CliRunner().invoke(cli, ["report", str(tmp_path / "s.qtsession"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = next(out.glob("*.md")).read_text()
    assert what in md and label in md
