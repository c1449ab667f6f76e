"""One load level as measured against one replica: the point every capacity figure rests on.

A level is a sweep step (a ``sweep_level`` record, measured as a whole) or a held load (the
median of the per-second client windows measured at one concurrency or rate). Pure.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

LatencyMetric = Literal["ttft", "itl", "e2e"]
MIN_LEVEL_SECONDS = 3  # seconds at a held level before it counts as a point
CLIENT_BOUND_SHARE = 0.1  # more than this share of seconds client-bound: the level is
BACKLOG_RISE = 2.0  # a rate step's last third waited this many times its first third: backlog
BACKLOG_MIN = 60  # fewer measured successes than this: no backlog verdict (20 a third)


def num(rec: Mapping[str, Any], *keys: str) -> float | None:
    """The first of ``keys`` that holds a number (bools are not numbers here)."""
    for k in keys:
        v = rec.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
    return None


def is_client_bound(bound_seconds: int, seconds: int) -> bool:
    """The one client-bound rule: more than a tenth of the measured seconds had the client, not
    the server, as the limit."""
    return seconds > 0 and bound_seconds > CLIENT_BOUND_SHARE * seconds


@dataclass(frozen=True, slots=True)
class LevelPoint:
    """One load level: what it delivered, its p95s (s), and how it was measured."""

    level: float
    rps: float
    input_tps: float
    output_tps: float
    ttft_p95_s: float | None = None
    itl_p95_s: float | None = None
    e2e_p95_s: float | None = None
    error_rate: float = 0.0
    requests: int | None = None  # successes; None where the record does not say
    client_bound: bool = False
    held: bool = False  # a held load (median of seconds), not a sweep step
    unit: str = "users"  # what the level counts: users (concurrency) or req/s (rate)
    asked_precision: float | None = None  # a knee-search step: the ± precision it searched to
    max_steps: int | None = None  # a knee-search step: its step budget
    ttft_rise: float | None = None  # a rate step: its last third's median TTFT ÷ its first's
    close_call: bool = False  # a knee step judged with its p95 still within its noise of a limit

    @property
    def backlog(self) -> bool:
        """An open-loop step whose queue grew through it (``BACKLOG_RISE``): its p95 is a
        short window's view of a latency still climbing, not what the rate sustains."""
        return self.unit == "req/s" and not self.held and (self.ttft_rise or 0.0) >= BACKLOG_RISE

    def p95(self, metric: LatencyMetric) -> float | None:
        return {"ttft": self.ttft_p95_s, "itl": self.itl_p95_s, "e2e": self.e2e_p95_s}[metric]

    @property
    def label(self) -> str:
        """'8 users' or '2.5 req/s'."""
        return f"{self.level:g} {self.unit}"


def sustained(p: LevelPoint) -> LevelPoint:
    """A rate step's req/s as the rate it was offered, its token rates scaled alike.

    An open loop's delivered req/s is its Poisson arrivals counted over a short window: at 100
    requests it reads ±10 % (1/√n) around the offered rate, either way
    (benchmarks/results/rate-bias.md), while the failing side of a rate bracket is the offered
    rate. A step that met every SLO served the rate offered, so that is its figure, as the
    failing side's is. A step that delivered well below it (beyond 4/√n: the server fell
    behind) keeps what it delivered."""
    if p.unit != "req/s" or p.held or p.rps <= 0 or p.level <= 0:
        return p
    n = max(1, p.requests or 1)
    if p.rps < p.level * (1 - 4 / math.sqrt(n)):
        return p
    k = p.level / p.rps
    return replace(p, rps=p.level, input_tps=p.input_tps * k, output_tps=p.output_tps * k)


def sweep_point(row: Mapping[str, Any], unit: str = "users") -> LevelPoint:
    """A ``sweep_level`` record as a point."""
    req = num(row, "requests")
    return LevelPoint(
        level=float(row["level"]),
        rps=num(row, "rps") or 0.0,
        input_tps=num(row, "in_tps") or 0.0,
        output_tps=num(row, "out_tps") or 0.0,
        ttft_p95_s=num(row, "ttft_p95"),
        itl_p95_s=num(row, "itl_p95"),
        e2e_p95_s=num(row, "e2e_p95"),
        error_rate=num(row, "error_rate") or 0.0,
        requests=None if req is None else int(req),
        client_bound=bool(row.get("client_bound")),
        unit=unit,
        asked_precision=num(row, "precision"),
        max_steps=None if (m := num(row, "max_steps")) is None else int(m),
        ttft_rise=num(row, "ttft_rise"),
        close_call=bool(row.get("close_call")),
    )


def ttft_rise(sent: Sequence[float], ttft: Sequence[float]) -> float | None:
    """The median TTFT of the last third of a step's successes (by send time) over that of its
    first third: about 1 while the server keeps up, growing with the queue when an open loop
    offers more than it serves. None below ``BACKLOG_MIN`` successes or a first third of 0."""
    if len(sent) != len(ttft) or len(ttft) < BACKLOG_MIN:
        return None
    order = sorted(range(len(sent)), key=lambda i: sent[i])
    k = len(order) // 3
    first = statistics.median(ttft[i] for i in order[:k])
    last = statistics.median(ttft[i] for i in order[-k:])
    return last / first if first > 0 else None


@dataclass(frozen=True, slots=True)
class Bracket:
    """Where a sweep's knee lies: at or above the highest passing load, below the first failing
    one above it (req/s per replica), and the ± precision that implies."""

    rps: float  # the passing side: what sizing uses
    upper_rps: float  # the failing side
    level: float
    upper_level: float

    @property
    def precision(self) -> float:
        """± half-width over midpoint: 58.1 and 61.0 req/s → 0.024."""
        total = self.upper_rps + self.rps
        return (self.upper_rps - self.rps) / total if total > 0 else 0.0


def bracket(passing: LevelPoint, failing: LevelPoint) -> Bracket:
    """The bracket of two sweep steps. A rate step's failing side is the rate offered (what the
    replica could not serve within the SLOs); a concurrency step's is the throughput it delivered
    (throughput grows with users, so the knee's lies below it). A failing step that delivered no
    more than the passing one (a saturated server) closes the bracket at the passing side."""
    upper = failing.level if failing.unit == "req/s" else failing.rps
    return Bracket(passing.rps, max(upper, passing.rps), passing.level, failing.level)


def seconds_rate(seconds: Sequence[Mapping[str, Any]], key: str) -> float | None:
    """A per-second rate (``out_tps``, ``in_tps``) over a run of ``client_second`` rows: the
    amount over the seconds' total duration (per-second figures are lumpy: 8 users may finish 8
    requests in one second and none in the next, so their median is not the rate). ``out_tps``
    is what the server delivered each second, streams still running included, less the tokens of
    requests that failed later (a second takes out the tokens of the requests that failed in it
    down to zero; the rest, ``unpaid_tokens``, comes out of the run's total here, never below
    zero: a server that stalls every stream delivered nothing). None: no seconds."""
    span = sum(num(s, "duration_s") or 1.0 for s in seconds)
    if span <= 0:
        return None
    total = sum((num(s, key) or 0.0) * (num(s, "duration_s") or 1.0) for s in seconds)
    if key == "out_tps":
        total = max(0.0, total - sum(num(s, "unpaid_tokens") or 0.0 for s in seconds))
    return total / span


def held_point(
    level: float, seconds: Sequence[Mapping[str, Any]], unit: str = "users"
) -> LevelPoint | None:
    """A held level from its per-second ``client_second`` rows: its rates over the whole level
    (requests and tokens ÷ seconds), the median of each second's p95s and error rate; None while
    fewer than ``MIN_LEVEL_SECONDS`` were measured."""
    if len(seconds) < MIN_LEVEL_SECONDS:
        return None

    def med(key: str) -> float | None:
        vals = [v for s in seconds if (v := num(s, key)) is not None]
        return statistics.median(vals) if vals else None

    reqs = int(sum(num(s, "requests") or 0 for s in seconds))
    bound = sum(1 for s in seconds if s.get("client_bound"))
    span = sum(num(s, "duration_s") or 1.0 for s in seconds)
    return LevelPoint(
        level=level,
        rps=reqs / span,
        input_tps=seconds_rate(seconds, "in_tps") or 0.0,
        output_tps=seconds_rate(seconds, "out_tps") or 0.0,
        ttft_p95_s=med("ttft_p95"),
        itl_p95_s=med("itl_p95"),
        e2e_p95_s=med("e2e_p95"),
        error_rate=(med("error_rate") or 0.0) if reqs else 0.0,
        requests=reqs,
        client_bound=is_client_bound(bound, len(seconds)),
        held=True,
        unit=unit,
    )
