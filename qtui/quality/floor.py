"""The quality floor from the profile → GO / NO-GO / NOT DECIDED, with a one-line reason.

Each limit is judged on its 95% interval, never on a point estimate alone: the drop vs the
baseline on the paired items (Newcombe's hybrid score interval), success and schema failures
on their Wilson intervals. A limit is met when the whole interval is on the right side, surely
broken when it is wholly on the wrong side, and open otherwise; one broken limit is NO-GO,
else one open limit is NOT DECIDED ("not enough items", with how many would decide), else GO.
Method and hand-checked numbers: docs/golden-set.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qtui.config.profile import QualityFloor
from qtui.quality.scores import (
    EndpointScore,
    Paired,
    Rate,
    items_needed,
    paired_items_needed,
)

Status = Literal["go", "no-go", "not-decided"]
Undecided = Literal["not measured", "no floor set", "not enough items"]
WORDS: dict[str, str] = {"go": "GO", "no-go": "NO-GO", "not-decided": "NOT DECIDED"}
FLOOR_HINT = "[slo] quality = { max_drop_vs_baseline = 0.02, min_items = 200 }"
NOT_MEASURED = "no quality run recorded (press Q in the app, or qtui bench --quality)"
NO_FLOOR = f"set a floor in the profile: {FLOOR_HINT}"

Limit = Literal["met", "broken", "open"]


def words(status: str | None, undecided: str | None = None) -> str:
    """GO, NO-GO or NOT DECIDED (its reason): the words every view and the record show."""
    if status is None:
        return f"NOT DECIDED ({undecided or 'not measured'})"
    text = WORDS.get(status, status.upper())
    return f"{text} ({undecided})" if status == "not-decided" and undecided else text


@dataclass(frozen=True)
class Verdict:
    endpoint: str
    status: Status
    reason: str  # one line, starts with the verdict's words
    undecided: Undecided | None = None  # why it is NOT DECIDED
    items_needed: int | None = None  # about this many items would decide the open limit

    @property
    def words(self) -> str:
        return words(self.status, self.undecided)


def not_measured(endpoint: str) -> Verdict:
    return Verdict(endpoint, "not-decided", f"{words(None)}: {NOT_MEASURED}", "not measured")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _ci(ci: tuple[float, float] | None, unit: str = "%") -> str:
    return "" if ci is None else f"95% CI {_pts(ci[0])} to {_pts(ci[1])}{unit}"


def _about(n: int | None, what: str) -> str:
    if n is None:
        return f"no practical number of items decides {what}"
    return f"about {n:,} items would decide {what}"


def _var(p: float, n: int) -> float:
    """One item's variance p(1 − p), with p kept 1/n from 0 and 1 (none failed yet still needs
    items)."""
    q = min(max(p, 1 / n), 1 - 1 / n) if n > 1 else 0.5
    return q * (1 - q)


def _more(needed: int | None, have: int) -> int | None:
    """Items that would decide: at least one more than the undecided ``have``."""
    return None if needed is None else max(needed, have + 1)


def _at_least(rate: Rate, floor: float, label: str) -> tuple[Limit, str, int | None]:
    """A rate that must be ≥ ``floor`` (success)."""
    lo, hi = rate.interval or (0.0, 1.0)
    p = rate.value or 0.0
    shown = f"{label} {_pct(p)} ({_ci(rate.interval)})"
    if lo >= floor:
        return "met", f"{shown} ≥ floor {_pct(floor)}", None
    if hi < floor:
        return "broken", f"{shown} wholly below floor {_pct(floor)}", None
    n = _more(items_needed(_var(p, rate.n), p - floor), rate.n)
    return "open", f"{shown} straddles floor {_pct(floor)}; {_about(n, f'{label} of {_pct(p)}')}", n


def _at_most(rate: Rate, limit: float, label: str) -> tuple[Limit, str, int | None]:
    """A rate that must be ≤ ``limit`` (schema failures)."""
    lo, hi = rate.interval or (0.0, 1.0)
    p = rate.value or 0.0
    shown = f"{label} {_pct(p)} ({_ci(rate.interval)})"
    if hi <= limit + 1e-12:
        return "met", f"{shown} ≤ max {_pct(limit)}", None
    if lo > limit + 1e-12:
        return "broken", f"{shown} wholly above max {_pct(limit)}", None
    n = _more(items_needed(_var(p, rate.n), limit - p), rate.n)
    return "open", f"{shown} straddles max {_pct(limit)}; {_about(n, f'{label} of {_pct(p)}')}", n


def _drop(paired: Paired, limit: float) -> tuple[Limit, str, int | None]:
    """The paired drop vs the baseline, which must be ≤ ``limit``."""
    drop, ci = paired.drop or 0.0, paired.drop_ci or (-1.0, 1.0)
    shown = (
        f"drop {_pts(drop)} pts vs {paired.baseline} on {paired.pairs} paired items "
        f"({_ci(ci, ' pts')})"
    )
    if ci[1] <= limit + 1e-12:
        return "met", f"{shown} within max {_pts(limit)} pts", None
    if ci[0] > limit + 1e-12:
        return "broken", f"{shown} wholly beyond max {_pts(limit)} pts", None
    n = _more(
        paired_items_needed(paired.only_baseline, paired.only_endpoint, paired.pairs, limit),
        paired.pairs,
    )
    what = f"a drop of {_pts(drop)} pts"
    return "open", f"{shown} straddles max {_pts(limit)} pts; {_about(n, what)}", n


def verdict(score: EndpointScore, floor: QualityFloor, paired: Paired | None = None) -> Verdict:
    """Judge one endpoint; `paired` is its comparison with the baseline (None for the baseline,
    which is judged on the absolute limits only)."""
    name = score.endpoint
    if score.items == 0:
        return not_measured(name)
    if not floor.is_set:
        got = f"success {_pct(score.success.value)}; " if score.success.value is not None else ""
        return Verdict(
            name, "not-decided", f"{words('not-decided', 'no floor set')}: {got}{NO_FLOOR}",
            "no floor set",
        )  # fmt: skip
    pairs = score.answered if paired is None else paired.pairs
    if score.answered < floor.min_items or pairs < floor.min_items:
        errs = f" ({score.errors} errors)" if score.errors else ""
        both = "" if paired is None else f", {paired.pairs} answered by both"
        return Verdict(
            name, "not-decided",
            f"{words('not-decided', 'not enough items')}: {score.answered} answered{both} < "
            f"min_items {floor.min_items}{errs}",
            "not enough items", max(floor.min_items, 1),
        )  # fmt: skip
    limits: list[tuple[Limit, str, int | None]] = []
    if floor.min_success is not None:
        limits.append(_at_least(score.success, floor.min_success, "success"))
    if paired is not None and floor.max_drop_vs_baseline is not None:
        limits.append(_drop(paired, floor.max_drop_vs_baseline))
    if floor.max_schema_failure is not None and score.schema_failure.n:
        limits.append(_at_most(score.schema_failure, floor.max_schema_failure, "schema failures"))
    broken = [text for state, text, _ in limits if state == "broken"]
    if broken:
        return Verdict(name, "no-go", f"{words('no-go')}: " + "; ".join(broken))
    open_ = [(text, n) for state, text, n in limits if state == "open"]
    if open_:
        needs = [n for _, n in open_ if n is not None]
        return Verdict(
            name, "not-decided",
            f"{words('not-decided', 'not enough items')}: " + "; ".join(t for t, _ in open_),
            "not enough items", max(needs) if len(needs) == len(open_) else None,
        )  # fmt: skip
    met = [text for _, text, _ in limits] or [f"success {_pct(score.success.value or 0.0)}"]
    base = " (the baseline)" if paired is None else ""
    return Verdict(name, "go", f"{words('go')}{base}: " + "; ".join(met))
