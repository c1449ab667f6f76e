"""The knee search: the highest load meeting every SLO, to a stated precision (pure).

`KneeSearch` proposes a level (`next_level()`), is told the verdict of the step measured there
(`record()`), and proposes the next, until the bracket — the highest passing level and the first
failing one above it — is within ``precision`` or the step budget is spent:

1. **ramp**: the profile's levels in order, then × ``ramp`` past the last one, until one fails
   (the first level failing: ÷ ``ramp`` down to the floor, 1 user);
2. **narrow**: between the last pass and the first fail. Like ``vllm bench sweep serve_sla``
   the next level is interpolated where the worst SLO ratio (p95 ÷ limit) crosses 1 (log ratio
   over log load), nudged by half the precision past the estimate on the side that has not
   moved yet (so that one pass and one fail close the bracket), and kept in the middle half of
   the bracket (log scale: each step removes at least a quarter of it, however sharp the
   knee); after two steps that moved the same end it bisects (geometric midpoint).

The precision is the bracket's half-width over its midpoint, ±(hi − lo) / (hi + lo): the same
figure `qtui.evidence.capacity.capacity_text` states. Concurrency levels are whole users, so a
bracket of two adjacent users is as narrow as it gets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from qtui.config.profile import Slo, Sweep
from qtui.evidence.levels import LevelPoint
from qtui.load.slo import LevelResult

MIN_REQUESTS_WHY = (
    "at 100 completed requests a p95 has 5 of them above it, so one slow request moves it only"
    " to the next order statistic; below 59 the sample's maximum misses the true p95 more than"
    " 5 % of the time (0.95^59 < 0.05)"
)
GUARD = 0.25  # an interpolated level stays this fraction of the bracket (log scale) from its ends
Stop = Literal[
    "", "converged", "adjacent", "budget", "never-met", "never-broke", "halted", "failed",
    "client-bound", "short",
]  # fmt: skip


def bracket_precision(lo: float, hi: float) -> float:
    """± half-width over midpoint: 58.1 and 61.0 → 0.024."""
    return (hi - lo) / (hi + lo) if hi + lo > 0 else 0.0


def slo_ratio(p: LevelPoint, slo: Slo) -> float | None:
    """The worst of p95 ÷ limit over the latency SLOs and error rate ÷ limit (≥ 1 breaks);
    None when nothing to compare was measured."""
    ratios: list[float] = []
    for limit_ms, value in (
        (slo.ttft_p95_ms, p.ttft_p95_s),
        (slo.itl_p95_ms, p.itl_p95_s),
        (slo.e2e_p95_ms, p.e2e_p95_s),
    ):
        if limit_ms is not None and value is not None:
            ratios.append(value * 1000.0 / limit_ms)
    if slo.max_error_rate > 0:
        ratios.append(p.error_rate / slo.max_error_rate)
    return max(ratios) if ratios else None


@dataclass(slots=True)
class KneeStep(LevelResult):
    """A knee-search step: a sweep step plus where it stood in the search (recorded with it)."""

    step: int = 0
    max_steps: int = 0
    precision: float = 0.0  # the precision asked for
    extended_s: float = 0.0  # seconds the step ran past step_duration_s (min_requests, close call)
    close_call: str = ""  # judged with its p95 still within its noise of a limit: why


@dataclass(slots=True)
class KneeSearch:
    """One endpoint's search; levels in users (whole) or req/s."""

    levels: Sequence[float]
    precision: float = 0.05
    max_steps: int = 12
    ramp: float = 2.0
    integer: bool = True  # concurrency: whole users
    floor: float = 1.0  # the lowest level worth trying
    tested: dict[float, tuple[bool, float | None]] = field(default_factory=dict)
    moves: list[str] = field(default_factory=list)  # "lo" / "hi": which end each step moved
    stop: Stop = ""
    failed_why: str = ""  # stop == "failed": what the endpoint did (its bracket so far is kept)

    @classmethod
    def from_sweep(cls, sweep: Sweep, by: str) -> KneeSearch:
        integer = by == "concurrency"
        return cls(
            levels=list(sweep.levels),
            precision=sweep.precision,
            max_steps=sweep.max_steps,
            ramp=sweep.ramp,
            integer=integer,
            floor=1.0 if integer else min([*sweep.levels, 1.0]) / sweep.ramp**4,
        )

    # ---- the bracket
    @property
    def lo(self) -> float | None:
        """The highest passing level below the first failing one."""
        hi = self.hi
        ok = [lv for lv, (p, _) in self.tested.items() if p and (hi is None or lv < hi)]
        return max(ok) if ok else None

    @property
    def hi(self) -> float | None:
        """The lowest failing level."""
        bad = [lv for lv, (p, _) in self.tested.items() if not p]
        return min(bad) if bad else None

    @property
    def steps(self) -> int:
        return len(self.tested)

    @property
    def width(self) -> float | None:
        """The bracket's ± precision, None until it has both ends."""
        lo, hi = self.lo, self.hi
        return None if lo is None or hi is None else bracket_precision(lo, hi)

    def progress(self) -> str:
        """For the status line: 'step 5 of ≤ 12, bracket 16–20 users (±11 %)'."""
        lo, hi = self.lo, self.hi
        head = f"step {self.steps} of ≤ {self.max_steps}"
        if lo is not None and hi is not None:
            return f"{head}, bracket {lo:g}–{hi:g} (±{bracket_precision(lo, hi) * 100:.1f} %)"
        if lo is not None:
            return f"{head}, passing at {lo:g}"
        if hi is not None:
            return f"{head}, failing at {hi:g}"
        return head

    def status(self, name: str, level: float, unit: str) -> str:
        """For the app's status line, short enough for 80 columns: 'fp8 24 users, 16–32
        (±33.3 %), step 3 of ≤ 12' — the level measured now, the bracket, the step."""
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            where = f", {lo:g}–{hi:g} (±{bracket_precision(lo, hi) * 100:.1f} %)"
        elif lo is not None:
            where = f", passing at {lo:g}"
        elif hi is not None:
            where = f", failing at {hi:g}"
        else:
            where = ""
        return f"{name} {level:g} {unit}{where}, step {self.steps + 1} of ≤ {self.max_steps}"

    # ---- driving
    def record(self, level: float, passed: bool, ratio: float | None = None) -> None:
        """The verdict of the step at ``level`` (and its worst SLO ratio, for interpolation)."""
        self.tested[level] = (passed, ratio)
        self.moves.append("lo" if passed else "hi")

    def next_level(self) -> float | None:
        """The level to measure next; None when done (``stop`` says why)."""
        if self.stop:
            return None
        lo, hi = self.lo, self.hi
        if hi is not None and lo is not None and self._narrow_enough(lo, hi):
            return self._done("adjacent" if self._adjacent(lo, hi) else "converged")
        if self.steps >= self.max_steps:
            return self._done("budget" if hi is not None else "never-broke")
        if hi is None:
            return self._up()
        if lo is None:
            return self._down(hi)
        return self._between(lo, hi)

    def halt(self) -> None:
        self.stop = self.stop or "halted"

    def fail(self, why: str, what: str = "endpoint failed") -> str:
        """The endpoint failed mid-search, or the client was the limit (``what``; no step
        verdict): stop, keep the bracket so far, say so: 'stopped at step 4 of ≤ 12: endpoint
        failed (...); kept: bracket 16–32 (±33.3 %)'."""
        stops: dict[str, Stop] = {
            "client-bound": "client-bound",
            "too few requests to judge": "short",
        }
        self.stop = stops.get(what, "failed")
        self.failed_why = why
        kept = self.progress().partition(", ")[2] or "no bracket yet"
        head = f"stopped at step {self.steps + 1} of ≤ {self.max_steps}"
        return f"{head}: {what} ({why}); kept: {kept}"

    def _done(self, why: Stop) -> float | None:
        """Stop the search (no next level)."""
        self.stop = why
        return None

    def _round(self, x: float) -> float:
        if self.integer:
            return float(max(1, round(x)))
        return float(f"{x:.3g}")

    def _adjacent(self, lo: float, hi: float) -> bool:
        return self.integer and hi - lo <= 1

    def _narrow_enough(self, lo: float, hi: float) -> bool:
        return self._adjacent(lo, hi) or bracket_precision(lo, hi) <= self.precision

    def _up(self) -> float | None:
        """Ramp: the next given level, then × ramp past the highest tested."""
        for lv in self.levels:
            x = self._round(lv)
            if x not in self.tested:
                return x
        top = max(self.tested) if self.tested else self.floor
        x = self._round(top * self.ramp)
        if x <= top:
            x = top + 1 if self.integer else top * self.ramp
        return x

    def _down(self, hi: float) -> float | None:
        """Every level so far failed: ÷ ramp towards the floor."""
        if hi <= self.floor or (self.integer and hi <= 1):
            return self._done("never-met")
        x = self._round(max(self.floor, hi / self.ramp))
        if x >= hi:
            return self._done("never-met")
        return x

    def _between(self, lo: float, hi: float) -> float:
        """The next level inside the bracket, as a fraction of its width on a log scale."""
        width = math.log(hi / lo)
        frac = self._interpolate(lo, hi)
        if frac is None or self.moves[-2:] in (["lo", "lo"], ["hi", "hi"]):
            frac = 0.5  # bisection
        else:
            nudge = math.log(1 + self.precision / 2) / width
            frac += nudge if self.moves[-1] == "lo" else -nudge
            frac = min(max(frac, GUARD), 1 - GUARD)
        x = self._round(lo * math.exp(frac * width))
        if self.integer:
            return min(max(x, lo + 1), hi - 1)
        return x if lo < x < hi else math.sqrt(lo * hi)

    def _interpolate(self, lo: float, hi: float) -> float | None:
        """Where the worst SLO ratio crosses 1, as a fraction of the bracket: linear in log
        ratio over log load (latency grows about geometrically towards a knee)."""
        r_lo, r_hi = self.tested[lo][1], self.tested[hi][1]
        if r_lo is None or r_hi is None or not 0 < r_lo < 1 <= r_hi or r_hi <= r_lo:
            return None
        return -math.log(r_lo) / (math.log(r_hi) - math.log(r_lo))
