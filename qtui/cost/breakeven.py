"""Break-even traffic: where the candidate's and the baseline's monthly-cost step functions cross.

Monthly cost at peak traffic T is a step function, M(T) = ceil(T × headroom ÷ capacity) × R,
with R = $/month per replica. For large T it tends to the line a × T, a = R × headroom ÷ capacity
($/month per req/s of peak), so whichever endpoint has the smaller ``a`` wins at high traffic.
At low traffic whole-replica rounding can reverse that. The break-even traffic is the *last*
crossing: the peak req/s beyond which the cheaper-per-req/s endpoint is never the dearer one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from qtui.cost.formulas import replicas_needed

MAX_STEPS = 20_000  # breakpoints examined before calling two slopes "equal"

Kind = Literal["always", "never", "above", "below", "tie"]


@dataclass(frozen=True, slots=True)
class BreakEven:
    """``kind``: always/never cheaper, cheaper ``above`` or only ``below`` ``rps``, or ``tie``."""

    kind: Kind
    rps: float | None
    text: str


def _rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _monthly(t: float, per_replica: float, capacity: float, headroom: float) -> float:
    return replicas_needed(t, capacity, headroom) * per_replica


def break_even(
    base_month_per_replica: float,
    base_capacity_rps: float,
    cand_month_per_replica: float,
    cand_capacity_rps: float,
    headroom: float,
) -> BreakEven:
    """Compare the candidate with the baseline over all peak traffic levels (req/s)."""
    rb, cb, rc, cc, h = (
        base_month_per_replica,
        base_capacity_rps,
        cand_month_per_replica,
        cand_capacity_rps,
        headroom,
    )
    a_base, a_cand = rb * h / cb, rc * h / cc
    if math.isclose(a_base, a_cand, rel_tol=1e-12):
        return BreakEven("tie", None, "same cost per req/s; only whole-replica rounding differs")
    cand_wins_late = a_cand < a_base
    # Past t_max the line gap exceeds one replica's price, so the order is fixed.
    t_max = rc / (a_base - a_cand) if cand_wins_late else rb / (a_cand - a_base)
    steps = t_max * h / cc + t_max * h / cb
    if steps > MAX_STEPS:
        return BreakEven("tie", None, "cost per req/s within rounding of the baseline's")
    points = sorted(
        {k * cc / h for k in range(1, math.ceil(t_max * h / cc) + 2)}
        | {k * cb / h for k in range(1, math.ceil(t_max * h / cb) + 2)}
    )
    last_flip: float | None = None
    for t in points:  # cost is constant on (previous point, t]; evaluate at t
        cand = _monthly(t, rc, cc, h)
        base = _monthly(t, rb, cb, h)
        late_order_holds = cand <= base if cand_wins_late else cand > base
        if not late_order_holds:
            last_flip = t
    if cand_wins_late:
        if last_flip is None:
            return BreakEven("always", None, "never dearer than the baseline at any traffic")
        return BreakEven("above", last_flip, f"cheaper above {_rps(last_flip)} req/s peak")
    if last_flip is None:
        return BreakEven("never", None, "dearer than the baseline at every traffic")
    return BreakEven("below", last_flip, f"dearer above {_rps(last_flip)} req/s peak")
