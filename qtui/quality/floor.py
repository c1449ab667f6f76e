"""The quality floor from the profile → go / no-go / not-enough-data, with a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from qtui.config.profile import QualityFloor
from qtui.quality.scores import EndpointScore, Paired

Status = Literal["go", "no-go", "not-enough-data"]


@dataclass(frozen=True)
class Verdict:
    endpoint: str
    status: Status
    reason: str  # one line, starts with the status


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _pts(x: float) -> str:
    return f"{100 * x:.1f} pts"


def verdict(score: EndpointScore, floor: QualityFloor, paired: Paired | None = None) -> Verdict:
    """Judge one endpoint; `paired` is its comparison with the baseline (None for the baseline).

    Point estimates are compared with the floor; the McNemar p-value is quoted, not used to pass.
    """
    name = score.endpoint
    success = score.success.value
    if score.answered < floor.min_items or success is None:
        errs = f" ({score.errors} errors)" if score.errors else ""
        return Verdict(
            name,
            "not-enough-data",
            f"not-enough-data: {score.answered} answered items < min {floor.min_items}{errs}",
        )
    problems: list[str] = []
    if success < floor.min_success:
        problems.append(f"success {_pct(success)} < floor {_pct(floor.min_success)}")
    drop = None if paired is None or paired.delta is None else -paired.delta
    if drop is not None and paired is not None and drop > floor.max_drop_vs_baseline + 1e-12:
        problems.append(
            f"{_pts(drop)} below {paired.baseline} > max {_pts(floor.max_drop_vs_baseline)}"
            f" (McNemar p={paired.p_value:.3f})"
        )
    schema = score.schema_failure.value
    if schema is not None and schema > floor.max_schema_failure + 1e-12:
        problems.append(f"schema failures {_pct(schema)} > max {_pct(floor.max_schema_failure)}")
    if problems:
        return Verdict(name, "no-go", "no-go: " + "; ".join(problems))
    parts = [f"success {_pct(success)} ≥ floor {_pct(floor.min_success)}"]
    if drop is not None and paired is not None:
        parts.append(f"{-100 * drop:+.1f} pts vs {paired.baseline}")
    if schema is not None:
        parts.append(f"schema failures {_pct(schema)}")
    return Verdict(name, "go", "go: " + ", ".join(parts))
