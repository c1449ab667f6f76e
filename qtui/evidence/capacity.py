"""The one capacity rule: what one replica sustains while meeting every SLO, how that was
obtained, and how sure it is — in the same words wherever it is shown (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from qtui.config.profile import Slo
from qtui.evidence.closecall import CLOSE_CALL_WHY
from qtui.evidence.levels import Bracket, LatencyMetric, LevelPoint, bracket, sustained
from qtui.evidence.slo import breaches

NO_LOAD = "no load measured yet"
SLO_NEVER_MET = "SLO never met"
NO_SWEEP = "no sweep"
CLIENT_BOUND = "client-bound: the client, not the server, was the limit"
SWEEP_NEVER_BROKE = "the sweep's highest level met every SLO"
LOWER_BOUND = "capacity is a lower bound"
ENDPOINT_FAILED = "endpoint failed"
CLIENT_STOPPED = "client-bound"  # a knee search stopped at a step the client limited
CLOSE_CALL = "a close call"  # a bracket end judged with its p95 within its own noise of a limit


@dataclass(frozen=True, slots=True)
class Capacity:
    """What one replica sustains while meeting every SLO; ``reason`` says why there is none.

    ``lower_bound``: the true capacity may be higher (``bound_why`` says why: a held load with
    no sweep, a sweep that never broke an SLO, a client that was the limit).
    """

    rps: float | None = None
    output_tps: float | None = None
    input_tps: float | None = None
    p95_s: float | None = None
    source: str = ""
    met_slo: bool = False
    reason: str | None = None
    detail: str = ""
    level: float | None = None  # the load level the capacity was measured at
    lower_bound: bool = False
    bound_why: str = ""
    client_bound: bool = False
    bracket: Bracket | None = None  # a sweep that broke: the first failing load above ``rps``
    bracket_why: str = ""  # why the bracket is wider than the precision asked, if it is
    breach_at: str = ""  # 'first breach at 32 users'
    shared: str = ""  # 'measured while sharing GPU 0 with fp8' (``qtui.evidence.sharing``)
    failed: str = ""  # 'endpoint failed mid-search (...); steps before it kept'
    close: str = ""  # 'a close call at 39.4 req/s: ...' (``qtui.evidence.closecall``)

    @classmethod
    def none(cls, reason: str, detail: str = "") -> Capacity:
        return cls(reason=reason, detail=detail)

    @property
    def usable(self) -> bool:
        return self.met_slo and self.reason is None and bool(self.rps) and bool(self.output_tps)

    @property
    def qualifier(self) -> str:
        """How it was obtained and how sure it is, e.g. 'held at 8 users; no sweep'."""
        parts = (self.source, self.breach_at, self.close, self.bound_why, self.failed, self.shared)
        return "; ".join(x for x in parts if x)

    @property
    def precision(self) -> float | None:
        """The bracket's ± fraction (None without a bracket)."""
        return None if self.bracket is None else self.bracket.precision


def capacity_text(cap: Capacity, digits: int = 3) -> str:
    """The capacity as every view and record states it, e.g. '≥ 58.1 req/s, < 61.0 req/s per
    replica; ±2.4 % (load level 16; first breach at 18)', '≥ 6.1 req/s per replica (held at 8
    users; no sweep)' or '— (SLO never met: level 1: ttft p95 900 ms > 500 ms)'."""
    if not cap.usable or cap.rps is None:
        why = cap.reason or SLO_NEVER_MET
        return f"— ({why}{f': {cap.detail}' if cap.detail else ''})"
    b = cap.bracket
    if b is not None and not cap.lower_bound:
        if b.upper_rps <= b.rps:
            saturated = "saturated: more users delivered no more"
            head = f"{_num(b.rps, digits)} req/s per replica; {saturated}"
        else:
            head = (
                f"≥ {_num(b.rps, digits)} req/s, < {_num(b.upper_rps, digits)} req/s per replica;"
                f" ±{b.precision * 100:.1f} %"
            )
        return f"{head} ({cap.qualifier})"
    sign = "≥ " if cap.lower_bound else ""
    return f"{sign}{cap.rps:.{digits}g} req/s per replica ({cap.qualifier})"


def failed_capacity(cap: Capacity, why: str, what: str = ENDPOINT_FAILED) -> Capacity:
    """The capacity of a search stopped mid-way (``what``: the endpoint failed, or the client
    was the limit; ``why``: what it did), in the same words everywhere: the steps before it are
    kept and labelled; with none, that is the reason there is no capacity."""
    if not why:
        return cap
    if cap.reason == NO_LOAD:
        return Capacity.none(what, f"mid-search ({why}); no step before it")
    return replace(cap, failed=f"{what} mid-search ({why}); the steps before it kept")


def _num(x: float, digits: int) -> str:
    """Three significant figures, but never fewer than one decimal below 1000: 58.1, 61.0."""
    return f"{x:.1f}" if 10 ** (digits - 2) <= abs(x) < 1000 else f"{x:.{digits}g}"


def capacity(points: Sequence[LevelPoint], slo: Slo, latency: LatencyMetric = "e2e") -> Capacity:
    """A sweep's capacity when there are sweep levels; else a held load's, as a lower bound."""
    swept = sorted((sustained(p) for p in points if not p.held), key=lambda p: p.level)
    if swept:
        return _from_sweep(swept, slo, latency)
    held = sorted((p for p in points if p.held), key=lambda p: p.level)
    if held:
        return _from_held(held, slo, latency)
    return Capacity.none(NO_LOAD)


def _found(best: LevelPoint, latency: LatencyMetric, source: str, why: list[str]) -> Capacity:
    if best.client_bound:
        why.append(f"{CLIENT_BOUND} at {best.label}")
    return Capacity(
        rps=best.rps,
        output_tps=best.output_tps,
        input_tps=best.input_tps,
        p95_s=best.p95(latency),
        source=source,
        met_slo=True,
        level=best.level,
        lower_bound=bool(why),
        bound_why="; ".join(why),
        client_bound=best.client_bound,
    )


def _from_sweep(points: list[LevelPoint], slo: Slo, latency: LatencyMetric) -> Capacity:
    """The passing level of most throughput before the first SLO breach (levels in increasing
    order).

    A level that passes after an earlier one failed is noise, not capacity: a sweep stops at the
    first breach, so only the passing prefix counts. Within it the level that delivered most
    req/s is the capacity: a closed loop past saturation delivers less with more users (256
    users in lockstep waves gave 51.2 req/s where 128 gave 76.8 on the H200), and a rate the
    server sustained within every SLO is capacity whichever level showed it. A breach the
    client limited is no verdict on the server (as in a knee search, "client-bound
    mid-search"): the steps before it give a lower bound, with no bracket.
    """
    best: LevelPoint | None = None
    broke = False
    for point in points:
        broken = breaches(point, slo)
        if not broken:
            if point.rps > 0 and point.output_tps > 0 and (best is None or point.rps >= best.rps):
                best = point
            continue
        if point.client_bound:  # the client's limit, not the server's: no bracket end
            limit = f"at {point.label}, {CLIENT_BOUND.partition(': ')[2]}; not judged"
            if best is None:
                return failed_capacity(Capacity.none(NO_LOAD), limit, CLIENT_STOPPED)
            found = _found(best, latency, f"load level {best.level:g}", [])
            return failed_capacity(replace(found, lower_bound=True), limit, CLIENT_STOPPED)
        if best is None:
            return Capacity.none(SLO_NEVER_MET, f"level {point.level:g}: {'; '.join(broken)}")
        broke = True
        break
    if best is None:
        return Capacity.none(SLO_NEVER_MET, "no level completed any request")
    why = [] if broke else [SWEEP_NEVER_BROKE]
    found = _found(best, latency, f"load level {best.level:g}", why)
    if not broke:
        return found
    fail = next(p for p in points if p.level > best.level and breaches(p, slo))
    b = bracket(best, fail)
    wide = _wider_than_asked(b, fail, points)
    close = [p.label for p in (best, fail) if p.close_call]
    return replace(
        found,
        bracket=b,
        bracket_why=wide,
        breach_at=f"first breach at {fail.label}",
        close=f"{CLOSE_CALL} at {' and '.join(close)}: {CLOSE_CALL_WHY}" if close else "",
        bound_why="; ".join(x for x in (found.bound_why, wide) if x),
    )


def _wider_than_asked(b: Bracket, fail: LevelPoint, points: list[LevelPoint]) -> str:
    """A knee search that stopped at its step budget says so: '±12.0 % is wider than the ±5 %
    asked: step budget (12) spent'. Adjacent whole users are as narrow as a search gets."""
    asked = fail.asked_precision
    if asked is None or b.precision <= asked + 1e-9:
        return ""
    if fail.unit == "users" and fail.level - b.level <= 1:
        return ""
    budget = fail.max_steps
    spent = f": step budget ({budget}) spent" if budget and len(points) >= budget else ""
    return f"±{b.precision * 100:.1f} % is wider than the ±{asked * 100:g} % asked{spent}"


def _from_held(points: list[LevelPoint], slo: Slo, latency: LatencyMetric) -> Capacity:
    """The highest held level that met every SLO, always a lower bound: no sweep looked above."""
    passing = [p for p in points if not breaches(p, slo) and p.rps > 0 and p.output_tps > 0]
    if not passing:
        top = points[-1]
        return Capacity.none(SLO_NEVER_MET, f"held at {top.label}: {'; '.join(breaches(top, slo))}")
    best = passing[-1]
    return _found(best, latency, f"held at {best.label}", [NO_SWEEP])
