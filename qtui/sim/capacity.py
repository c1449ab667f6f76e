"""The simulator's own capacity for a profile: what its physics says one replica sustains (pure).

The simulator knows its physics (`qtui/sim/physics.py`) and its scheduler (`qtui/sim/engine.py`),
so it can answer "the highest load meeting these SLOs" without sockets or wall time: the same
`Engine` the server steps, driven on a virtual clock by a closed loop of N users (each sends its
next request when the last one ends) or an open loop at λ req/s (Poisson or constant), the 20 ms
front end before the engine as the server has it, no network. Each request becomes the
`RequestRecord` a client would have made (one chunk per token, as the server writes them at low
load), and `qtui.metrics.stats.summarize` and `qtui.evidence.slo.breaches` judge them as a
measured sweep step is judged.

`model_point` measures one level; `model_capacity` finds the knee to a fine tolerance with long
runs (the truth tests and `benchmarks/bench_knee.py` compare a search against). What it leaves
out — HTTP and client CPU, the pacer merging chunks at high load, loop lag — makes a measured
knee a little lower than this one, never higher.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from qtui.config.profile import LengthDist, Profile, Slo
from qtui.evidence.closecall import close_call, extend_to
from qtui.evidence.levels import LevelPoint
from qtui.evidence.records import RequestRecord
from qtui.evidence.slo import breaches
from qtui.load.slo import point, step_rise
from qtui.metrics.stats import summarize
from qtui.sim.engine import Engine, SimRequest
from qtui.sim.physics import FRONTEND_S, Plan


def _lengths(d: LengthDist, rng: np.random.Generator, cap: int) -> int:
    if d.dist == "uniform" and d.spread:
        x = rng.uniform(d.mean * (1 - d.spread), d.mean * (1 + d.spread))
    elif d.dist == "normal" and d.spread:
        x = rng.normal(d.mean, d.spread)
    else:
        x = d.mean
    return int(min(max(1, round(x)), cap))


def model_point(
    plan: Plan,
    by: str,
    level: float,
    prompt: LengthDist,
    output: LengthDist,
    *,
    requests: int = 400,
    duration_s: float = 0.0,
    warmup: int | None = None,
    seed: int = 0,
    poisson: bool = True,
) -> LevelPoint:
    """One load level on the virtual clock (`model_step`'s point)."""
    return model_step(plan, by, level, prompt, output, requests=requests, duration_s=duration_s,
                      warmup=warmup, seed=seed, poisson=poisson)[0]  # fmt: skip


def model_step(
    plan: Plan,
    by: str,
    level: float,
    prompt: LengthDist,
    output: LengthDist,
    *,
    requests: int = 400,
    duration_s: float = 0.0,
    warmup: int | None = None,
    seed: int = 0,
    poisson: bool = True,
) -> tuple[LevelPoint, list[RequestRecord]]:
    """One load level on the virtual clock, and its measured records: ``requests`` measured
    (an open loop: at least ``duration_s`` of arrivals, so that an overload has the time to
    build its queue) after
    ``warmup`` (default: a quarter as many, at least one per user) sent to reach steady state."""
    rng = np.random.default_rng([seed, 17])
    engine = Engine(plan)
    users = max(1, int(level)) if by == "concurrency" else 0
    if by == "rate":
        requests = max(requests, math.ceil(level * duration_s))
    else:  # every user's requests, twice over, after every user has been served once
        requests = max(requests, 2 * users)
    warm = warmup if warmup is not None else max(requests // 4, users)
    total = warm + requests
    arrivals: list[tuple[float, int, SimRequest]] = []
    sent_at: dict[str, float] = {}
    tokens: dict[str, list[float]] = {}
    records: list[RequestRecord] = []
    n = 0

    def send(t: float) -> None:
        nonlocal n
        if n >= total:
            return
        n += 1
        out = _lengths(output, rng, plan.max_model_len - 1)
        inp = _lengths(prompt, rng, plan.max_model_len - out)
        req = SimRequest(f"r{n}", inp, out, out, prompt_key=int(rng.integers(1 << 62)))
        sent_at[req.id] = t
        heapq.heappush(arrivals, (t + FRONTEND_S, n, req))

    if by == "concurrency":
        for _ in range(users):
            send(0.0)
    else:
        t = 0.0
        for _ in range(total):
            t += rng.exponential(1 / level) if poisson else 1 / level
            send(t)
    t_measure = math.inf
    while len(records) < requests and (arrivals or engine.has_work()):
        if not engine.has_work() and arrivals:
            t, _, req = heapq.heappop(arrivals)
            engine.add(req, at=t)
            req.received = sent_at[req.id]
        while arrivals and arrivals[0][0] <= engine.now:
            t, _, req = heapq.heappop(arrivals)
            engine.add(req, at=t)
            req.received = sent_at[req.id]
        res = engine.step()
        if res is None:
            continue
        for req in res.tokens:
            tokens.setdefault(req.id, []).append(res.end)
        for req in res.finished:
            t0 = sent_at.pop(req.id)
            times = tokens.pop(req.id, [])
            k = int(req.id[1:])
            if k > warm:
                t_measure = min(t_measure, t0)
                records.append(
                    RequestRecord(
                        "model", req.id, "measure", level, t0, times[0] if times else None,
                        res.end, [x - t0 for x in times], req.prompt_tokens, req.generated,
                    )
                )  # fmt: skip
            if by == "concurrency":
                send(res.end)
    t_end = max((r.t_end for r in records), default=0.0)
    span = max(1e-9, t_end - (t_measure if t_measure < math.inf else 0.0))
    stats = summarize("model", records, t_end, span)
    unit = "req/s" if by == "rate" else "users"
    rise = step_rise(records) if by == "rate" else None
    return point(stats, level, unit=unit, rise=rise), records


def model_knee_step(
    plan: Plan,
    by: str,
    level: float,
    slo: Slo,
    prompt: LengthDist,
    output: LengthDist,
    *,
    requests: int = 100,
    duration_s: float = 0.0,
    seed: int = 0,
) -> tuple[LevelPoint, int]:
    """A knee-search step as `LoadRun` judges one: ``requests`` (and ``duration_s``) first, then,
    while its p95 is a close call (``qtui.evidence.closecall``), run on to twice the successes,
    up to ``CLOSE_CALL_GROWTH`` times. Returns the point judged and its successes."""
    pt, recs = model_step(plan, by, level, prompt, output, requests=requests,
                          duration_s=duration_s, seed=seed)  # fmt: skip
    first = ok = pt.requests or 0
    while (more := extend_to(ok, first, close_call(recs, slo))) is not None:
        pt, recs = model_step(plan, by, level, prompt, output, requests=more, seed=seed)
        ok = pt.requests or 0
    return pt, ok


@dataclass(frozen=True, slots=True)
class ModelCapacity:
    """The knee on the virtual clock: the highest passing level, the lowest failing one above
    it, and the passing level's point (its req/s is what a measured capacity approximates)."""

    level: float | None  # None: the SLO is not met at the lowest level
    fail_level: float | None  # None: no failure up to the search's ceiling
    point: LevelPoint | None
    why: str = ""

    @property
    def rps(self) -> float | None:
        return None if self.point is None else self.point.rps


def model_capacity(
    plan: Plan,
    by: str,
    slo: Slo,
    prompt: LengthDist,
    output: LengthDist,
    *,
    requests: int = 1500,
    duration_s: float = 60.0,
    tolerance: float = 0.005,
    ceiling: float = 4096.0,
    seed: int = 0,
    poisson: bool = True,
) -> ModelCapacity:
    """The highest level meeting every SLO: whole users for concurrency, req/s to ±tolerance for
    rate (a doubling ramp from 1, then bisection; latency grows with load on this engine)."""

    def at(level: float) -> LevelPoint:
        return model_point(plan, by, level, prompt, output, requests=requests,
                           duration_s=duration_s, seed=seed, poisson=poisson)  # fmt: skip

    def ok(p: LevelPoint) -> bool:
        return not breaches(p, slo)

    lo, hi = None, None
    lo_point: LevelPoint | None = None
    level = 1.0
    while level <= ceiling:
        p = at(level)
        if not ok(p):
            hi = level
            break
        lo, lo_point = level, p
        level *= 2
    if lo is None:
        why = "; ".join(breaches(at(1.0), slo))
        if by == "rate":  # below 1 req/s: keep halving
            level = 0.5
            while level > 1e-3 and lo is None:
                p = at(level)
                if ok(p):
                    lo, lo_point = level, p
                else:
                    hi, level = level, level / 2
        if lo is None:
            return ModelCapacity(None, hi, None, why)
    if hi is None:
        return ModelCapacity(lo, None, lo_point, f"no breach up to {ceiling:g}")
    while (hi - lo > 1) if by == "concurrency" else (hi - lo) / (hi + lo) > tolerance:
        mid = float(math.floor((lo + hi) / 2)) if by == "concurrency" else math.sqrt(lo * hi)
        p = at(mid)
        if ok(p):
            lo, lo_point = mid, p
        else:
            hi = mid
    return ModelCapacity(lo, hi, lo_point)


def profile_capacity(
    profile: Profile, endpoint: str, slo: Slo | None = None, by: str | None = None, **kw: object
) -> ModelCapacity:
    """``model_capacity`` for one ``[endpoints.simulate]`` endpoint of a profile, under its
    workload's lengths and its SLOs (or ``slo``), swept by its ``[load] sweep_by`` (or ``by``)."""
    from qtui.sim.server import endpoint_setup

    plan = endpoint_setup(profile.endpoint(endpoint), seed=0).plan
    w = profile.workload
    return model_capacity(
        plan,
        by or profile.load.sweep_by,
        slo or profile.slo,
        w.input_tokens,
        w.output_tokens,
        poisson=profile.load.arrival == "poisson",
        **kw,  # type: ignore[arg-type]
    )
