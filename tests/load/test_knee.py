"""The knee search: its steps on a known curve, and the knee it finds against the simulator's own
(its engine on a virtual clock, with noise: uniform prompt lengths, Poisson arrivals, a new seed
every step)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fakevllm import Behaviour, FakeServer

from qtui.config.load import load_model
from qtui.config.profile import LengthDist, Profile, Slo
from qtui.evidence.accumulate import Evidence
from qtui.evidence.capacity import CLIENT_STOPPED, capacity_text
from qtui.evidence.slo import breaches
from qtui.load.engine import LoadRun
from qtui.load.knee import KneeSearch, KneeStep, bracket_precision, slo_ratio
from qtui.load.selfcheck import ClientHealth, LoopMonitor
from qtui.load.split import more_processes
from qtui.session import load_session
from qtui.session.decision import session_evidence
from qtui.session.recorder import Recorder
from qtui.session.rows import sweep_level_row
from qtui.session.writer import SessionWriter
from qtui.sim.capacity import model_capacity, model_knee_step
from qtui.sim.physics import Plan
from qtui.sim.server import endpoint_setup

ROOT = Path(__file__).resolve().parents[2]


def run_on_curve(search: KneeSearch, knee: float) -> KneeSearch:
    """A server whose worst SLO ratio is (level / knee)²: it passes below ``knee``."""
    while (lv := search.next_level()) is not None:
        ratio = (lv / knee) ** 2
        search.record(lv, ratio < 1, ratio)
    return search


def test_ramps_then_narrows_to_the_precision() -> None:
    s = run_on_curve(KneeSearch([1, 4, 16], precision=0.05, integer=False), knee=58.4)
    assert s.stop == "converged" and s.lo is not None and s.hi is not None
    assert s.lo < 58.4 <= s.hi and bracket_precision(s.lo, s.hi) <= 0.05
    assert sorted(s.tested)[:4] == [1, 4, 16, 32]  # the given levels, then × 2
    assert s.steps <= 9


def test_whole_users_stop_at_adjacent_levels() -> None:
    s = run_on_curve(KneeSearch([1, 2, 4, 8], precision=0.01), knee=6.5)
    assert (s.lo, s.hi, s.stop) == (6.0, 7.0, "adjacent")


def test_the_budget_stops_the_search_with_its_bracket() -> None:
    s = run_on_curve(KneeSearch([1], precision=0.001, max_steps=8, integer=False), knee=37.0)
    assert s.stop == "budget" and s.steps == 8 and s.lo is not None and s.hi is not None
    assert s.lo < 37.0 <= s.hi


def test_an_slo_never_met_and_a_sweep_that_never_broke() -> None:
    assert run_on_curve(KneeSearch([4]), knee=0.5).stop == "never-met"
    s = run_on_curve(KneeSearch([1], max_steps=4), knee=1e6)
    assert s.stop == "never-broke" and s.hi is None and s.lo == 8.0


def test_a_sharp_knee_takes_no_more_steps_than_bisection() -> None:
    """A queueing cliff: the ratio jumps a hundredfold past the knee; interpolation alone would
    crawl from the passing side, the guard keeps each step within the middle half."""
    s = KneeSearch([64, 128], precision=0.05, integer=False)
    while (lv := s.next_level()) is not None:
        ratio = 0.5 if lv < 74.0 else 50.0
        s.record(lv, ratio < 1, ratio)
    assert s.stop == "converged" and s.steps <= 2 + 4  # bisection of ×2 to ±5 %: 3 steps


def test_the_status_line_shows_step_and_bracket() -> None:
    s = KneeSearch([16, 32], max_steps=10)
    s.record(16, True, 0.5)
    s.record(32, False, 1.4)
    assert s.progress() == "step 2 of ≤ 10, bracket 16–32 (±33.3 %)"


def demo_plan(name: str) -> Plan:
    """The simulator's plan for one endpoint of the demo profile (Llama-3.1-8B on an H100)."""
    p = load_model(ROOT / "profiles/demo.toml", Profile)
    return endpoint_setup(p.endpoint(name), seed=0).plan


def seventy_b_int4() -> Plan:
    """Llama-3.1-70B, INT4 weights, on one simulated H100: another model and precision."""
    p = Profile.model_validate(
        {
            "profile": {"name": "70b"},
            "endpoints": [
                {
                    "name": "e",
                    "precision": "int4-awq",
                    "gpu": "H100",
                    "simulate": {"model": "llama-3.1-70b", "weights": "int4"},
                }
            ],
        }
    )
    return endpoint_setup(p.endpoint("e"), seed=0).plan


@pytest.fixture(scope="module")
def fp8() -> Plan:
    return demo_plan("fp8")


PROMPT = LengthDist(mean=512, dist="uniform", spread=0.25)
OUTPUT = LengthDist(mean=128)


@pytest.mark.parametrize(
    ("by", "slo", "precision"),
    [
        ("concurrency", Slo(ttft_p95_ms=500), 0.05),
        ("concurrency", Slo(e2e_p95_ms=2500), 0.1),
        ("rate", Slo(ttft_p95_ms=300, itl_p95_ms=40), 0.05),
    ],
)
def test_the_knee_found_is_within_the_precision_of_the_truth(
    fp8: Plan, by: str, slo: Slo, precision: float
) -> None:
    assert_knee_near_truth(fp8, by, slo, precision)


@pytest.mark.parametrize(
    ("plan", "by", "slo"),
    [
        (lambda: demo_plan("bf16"), "concurrency", Slo(ttft_p95_ms=500)),
        (lambda: demo_plan("int4-awq"), "concurrency", Slo(e2e_p95_ms=3000)),
        (seventy_b_int4, "concurrency", Slo(ttft_p95_ms=800, itl_p95_ms=60)),
        (lambda: demo_plan("int4-awq"), "rate", Slo(e2e_p95_ms=3000)),
    ],
    ids=["8b-bf16-users-ttft", "8b-int4-users-e2e", "70b-int4-users-ttft-itl", "8b-int4-rate-e2e"],
)
def test_the_knee_is_near_the_truth_for_other_models_and_precisions(
    plan: Callable[[], Plan], by: str, slo: Slo
) -> None:
    assert_knee_near_truth(plan(), by, slo, 0.05)


def assert_knee_near_truth(plan: Plan, by: str, slo: Slo, precision: float) -> None:
    """A knee search with noise (each step its own seed, a close call run on as `LoadRun` runs
    it) brackets the simulator's analytic capacity (``model_capacity``: the same physics, 600
    requests) to its precision: the passing side never oversells the truth by more than the
    precision (too few replicas), the failing side never sits below it by more (too many)."""
    truth = model_capacity(plan, by, slo, PROMPT, OUTPUT, requests=600, duration_s=10)
    assert truth.level is not None
    s = KneeSearch([1, 4, 16], precision=precision, max_steps=14, integer=by == "concurrency")
    seed = 0
    while (lv := s.next_level()) is not None:
        seed += 1  # every step its own noise
        pt, _ = model_knee_step(plan, by, lv, slo, PROMPT, OUTPUT, requests=100, duration_s=10,
                                seed=seed)  # fmt: skip
        s.record(lv, not breaches(pt, slo), slo_ratio(pt, slo))
    assert s.stop in ("converged", "adjacent") and s.lo is not None
    slack = 1.0 if by == "concurrency" else 0.0  # whole users: one user either side
    assert (s.hi is not None and bracket_precision(s.lo, s.hi) <= precision) or s.stop == "adjacent"
    assert s.lo <= truth.level * (1 + precision) + slack, ("oversold", s.lo, truth.level)
    assert s.hi >= truth.level * (1 - precision) - slack, ("undersold", s.hi, truth.level)


def knee_profile(max_extend: float) -> Profile:
    """One endpoint; a knee search of at most 3 steps, judged after 20 successes, no errors."""
    return Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": {"input_tokens": {"mean": 16}, "output_tokens": {"mean": 4}},
            "load": {
                "mode": "sweep",
                "sweep": {
                    "search": "knee",
                    "levels": [1, 2],
                    "step_duration_s": 0.05,
                    "max_steps": 3,
                    "min_requests": 20,
                    "max_extend": max_extend,
                },
            },
            "slo": {"max_error_rate": 0.0},
        }
    )


async def test_the_engine_searches_and_records_each_step() -> None:
    """Against a server over sockets: a step too short to judge runs on to min_requests; each
    step is a knee step row saying where it stood."""
    p = knee_profile(max_extend=400)
    async with FakeServer(Behaviour()) as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert [lv.level for lv in res.levels] == [1.0, 2.0, 4.0]
    assert all(isinstance(lv, KneeStep) for lv in res.levels)
    assert all(lv.stats.requests >= 20 and lv.ok for lv in res.levels)
    row = sweep_level_row("e0", res.levels[-1])
    assert (row["search"], row["step"], row["max_steps"], row["precision"]) == ("knee", 3, 3, 0.05)
    assert res.capacity is not None and res.capacity.lower_bound  # never broke in 3 steps


def test_a_failed_endpoint_keeps_its_bracket_and_says_so() -> None:
    s = KneeSearch(levels=[8, 32], max_steps=12)
    s.record(8, True, 0.5)
    s.record(32, False, 1.5)
    msg = s.fail("40 requests connect, none completed")
    assert s.next_level() is None and s.stop == "failed"
    assert (s.lo, s.hi) == (8, 32)
    assert msg == (
        "stopped at step 3 of ≤ 12: endpoint failed (40 requests connect, none completed);"
        " kept: bracket 8–32 (±60.0 %)"
    )


async def test_an_endpoint_failing_over_sockets_stops_its_search_without_a_verdict() -> None:
    """Every stream cut: the step is not an SLO breach (no bracket end), the search stops."""
    p = knee_profile(max_extend=10)
    async with FakeServer(Behaviour(stream="disconnect")) as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert res.levels == [] and res.capacity is None
    assert any(
        "knee search stopped at step 1 of ≤ 3: endpoint failed" in w and "kept: no bracket yet" in w
        for w in res.warnings
    )


def test_the_kept_bracket_is_labelled_endpoint_failed_everywhere() -> None:
    """The capacity rule's words for the steps an endpoint left before it failed: the same in
    the app, `qtui bench` and the record (all through ``capacity_text``)."""
    p = knee_profile(max_extend=10)
    ev = Evidence(p, measuring=False)
    row = {"endpoint": "e0", "requests": 100, "in_tps": 1.0, "out_tps": 10.0, "error_rate": 0.0}
    ev.ingest("sweep_level", {**row, "level": 8, "rps": 4.0})
    ev.ingest("sweep_level", {**row, "level": 32, "rps": 6.0, "error_rate": 0.5})
    why = "40 requests connect, none completed"
    failed = {"endpoint": "e0", "why": why, "text": "..."}
    ev.ingest("event", {"kind": "load", "key": "search_failed", "value": failed})
    assert capacity_text(ev.capacity("e0")) == (
        "≥ 4 req/s, < 6 req/s per replica; ±20.0 % (load level 8; first breach at 32 users;"
        f" endpoint failed mid-search ({why}); the steps before it kept)"
    )
    alone = Evidence(p, measuring=False)
    alone.ingest("event", {"kind": "load", "key": "search_failed", "value": failed})
    assert capacity_text(alone.capacity("e0")) == (
        f"— (endpoint failed: mid-search ({why}); no step before it)"
    )


async def test_a_failed_endpoint_is_in_the_record(tmp_path: Path) -> None:
    """The recorder writes the failure into the session, so a report judges the same words."""
    p = knee_profile(max_extend=10)
    async with FakeServer(Behaviour(stream="disconnect")) as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert "none completed" in res.failed
    path = tmp_path / "f.qtsession"
    writer = SessionWriter(path, profile=p, price_tables={}, meta={})
    rec = Recorder(writer, ["e0"])
    rec.levels("e0", res.levels, "sweep")
    rec.search_failed("e0", res.failed, res.failed_text)
    writer.close()
    s = load_session(path)
    assert [e["value"]["text"] for e in s.docs("event")] == [res.failed_text]
    text = capacity_text(session_evidence(s, p).capacity("e0"))
    assert text == f"— (endpoint failed: mid-search ({res.failed}); no step before it)"


class BusyClient(LoopMonitor):
    """A self-check that finds the client the limit every second."""

    def sample(self) -> ClientHealth:
        return ClientHealth(time.time(), 0.2, 0.3, 1.0, True)


async def test_a_client_bound_step_stops_the_search_instead_of_judging() -> None:
    """The client's limit is not the server's capacity: the step is not a verdict, the search
    stops keeping what it had, and says how many load processes to run instead."""
    p = knee_profile(max_extend=10)
    sweep = p.load.sweep.model_copy(update={"step_duration_s": 1.5})
    p = p.model_copy(update={"load": p.load.model_copy(update={"sweep": sweep})})
    async with FakeServer(Behaviour()) as url:
        run = LoadRun(p, {"e0": url}, scrape=False)
        run._monitor = BusyClient()
        res = (await run.run())["e0"]
    assert res.levels == [] and res.failed_what == CLIENT_STOPPED
    more = more_processes(run.processes, run.cpus)
    hint = f"rerun with [load] processes = {more}" if more else "every CPU already runs"
    assert res.failed_text.startswith(
        "e0: knee search stopped at step 1 of ≤ 3: client-bound (at 1 users, "
    )
    assert "client-bound at 1 load process; not judged); kept: no bracket yet" in res.failed_text
    assert hint in res.failed_text
    ev = Evidence(p, measuring=False)
    failed = {"endpoint": "e0", "why": res.failed, "what": res.failed_what}
    ev.ingest("event", {"kind": "load", "key": "search_failed", "value": failed})
    assert (
        capacity_text(ev.capacity("e0"))
        == f"— (client-bound: mid-search ({res.failed}); no step before it)"
    )


async def test_a_step_too_short_to_judge_is_no_verdict() -> None:
    """Slow answers (0.05 s a token, 4 tokens): one user cannot complete 20 requests in the
    0.1 s a step may run (max_extend 2); no SLO broken by what did complete, so the step is no
    breach — the search stops there and says what to raise, instead of walking down."""
    p = knee_profile(max_extend=2)
    async with FakeServer(Behaviour(token_delay_s=0.05)) as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert res.levels == [] and res.failed_what == "too few requests to judge"
    assert res.failed_text.startswith(
        "e0: knee search stopped at step 1 of ≤ 3: too few requests to judge (at 1 users, "
    )
    assert res.failed_text.endswith(
        "no SLO broken so far); kept: no bracket yet; raise [load] sweep max_extend or"
        " step_duration_s"
    )
    # no step recorded: the summary's rates are over the seconds measured, not over nothing
    # (4 tokens a request can never stream faster than 4 / 0.05 s per token, 80 tok/s a user)
    assert res.summary is not None and res.summary.out_tps <= 80


async def test_a_close_call_runs_on_before_it_is_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    """A step whose p95 stays within its noise of a limit runs on to 4× the successes it had at
    its first judgement (n → 2n → 4n), says so, and is recorded as judged on a close call."""
    monkeypatch.setattr("qtui.load.engine.close_call", lambda recs, slo: "ttft p95 holds it")
    notes: list[str] = []
    p = knee_profile(max_extend=1000)
    async with FakeServer(Behaviour()) as url:
        run = LoadRun(p, {"e0": url}, scrape=False, on_event=lambda k, m: notes.append(m))
        res = (await run.run())["e0"]
    first = res.levels[0]
    said = [m for m in notes if m.startswith("e0: 1: a close call (ttft p95 holds it): run on to")]
    targets = [int(m.rpartition(" ")[2]) for m in said]
    assert len(targets) == 2 and targets[1] == 2 * targets[0] and targets[0] >= 40
    assert isinstance(first, KneeStep) and first.stats.requests >= targets[1]
    assert first.close_call == "ttft p95 holds it"
    assert sweep_level_row("e0", first)["close_call"] == "ttft p95 holds it"


async def test_a_call_that_clears_is_judged_once_it_clears(monkeypatch: pytest.MonkeyPatch) -> None:
    """Close at 20 successes, clear at 40: the step runs on once and is not a close call."""
    answers = iter(["e2e p95 holds it", ""] * 3)
    monkeypatch.setattr("qtui.load.engine.close_call", lambda recs, slo: next(answers))
    p = knee_profile(max_extend=1000)
    async with FakeServer(Behaviour()) as url:
        res = (await LoadRun(p, {"e0": url}, scrape=False).run())["e0"]
    assert all(isinstance(lv, KneeStep) and lv.close_call == "" for lv in res.levels)
    assert all(lv.stats.requests >= 40 for lv in res.levels)


def test_a_close_call_at_a_bracket_end_is_said_with_the_capacity() -> None:
    """The capacity rule's words when the passing or failing step was judged on a close call:
    the same through ``capacity_text`` in the app, `qtui bench` and the record."""
    p = knee_profile(max_extend=10)
    ev = Evidence(p, measuring=False)
    row = {"endpoint": "e0", "requests": 100, "in_tps": 1.0, "out_tps": 10.0, "error_rate": 0.0}
    ev.ingest("sweep_level", {**row, "level": 8, "rps": 4.0, "close_call": ""})
    ev.ingest("sweep_level", {**row, "level": 9, "rps": 4.4, "error_rate": 0.5,
                              "close_call": "e2e p95 … holds the 3000 ms limit"})  # fmt: skip
    assert capacity_text(ev.capacity("e0")) == (
        "≥ 4 req/s, < 4.4 req/s per replica; ±4.8 % (load level 8; first breach at 9 users;"
        " a close call at 9 users: its p95 still within its own noise of the SLO when run on to"
        " 4× its requests (or its time cap); judged on the p95 measured)"
    )
