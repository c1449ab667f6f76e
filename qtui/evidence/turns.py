"""TTFT per turn position of multi-turn conversations (pure): turn 1 against the later turns,
which resend a growing history that prefix caching and KV capacity treat differently per
precision. One computation and one wording for `qtui bench`, the record and the app."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from qtui.metrics.stats import latency_stats


@dataclass(frozen=True, slots=True)
class TurnTtft:
    """TTFT percentiles (s) of the measured, successful requests at one turn position."""

    label: str  # "1", "2", …, or "2+" (every turn after the first)
    requests: int
    p50: float | None
    p95: float | None


def _row(label: str, values: list[float]) -> TurnTtft:
    st = latency_stats(values)
    return TurnTtft(label, len(values), st.p50, st.p95)


def ttft_by_turn(samples: Iterable[tuple[int, float]]) -> list[TurnTtft]:
    """Each turn position's TTFT from ``(turn, ttft_s)`` samples (turn 0, not a conversation
    turn, is left out), then "2+" (all later turns together) when there are later turns."""
    by: dict[int, list[float]] = defaultdict(list)
    for turn, ttft in samples:
        if turn > 0:
            by[turn].append(ttft)
    rows = [_row(str(t), by[t]) for t in sorted(by)]
    later = [v for t in sorted(by) if t > 1 for v in by[t]]
    if later:
        rows.append(_row("2+", later))
    return rows


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:,.0f}"


def turn_text(rows: list[TurnTtft], most: int = 4) -> str:
    """The words every place uses: 'TTFT p50 / p95 by turn: 1: 412 / 530 ms (40 requests); …'
    (at most ``most`` positions, then "2+")."""
    if not rows:
        return "TTFT by turn: no completed conversation turn"
    shown = [r for r in rows if r.label != "2+"][:most] + [r for r in rows if r.label == "2+"]
    parts = [f"{r.label}: {_ms(r.p50)} / {_ms(r.p95)} ms ({r.requests} requests)" for r in shown]
    return "TTFT p50 / p95 by turn: " + "; ".join(parts)


def first_vs_later(rows: list[TurnTtft]) -> str:
    """The short form (the app's status line): 'turn 1 530 ms, 2+ 210 ms p95'."""
    first = next((r for r in rows if r.label == "1"), None)
    later = next((r for r in rows if r.label == "2+"), None)
    parts = [f"turn 1 {_ms(first.p95)} ms" if first else "turn 1 —"]
    if later:
        parts.append(f"2+ {_ms(later.p95)} ms")
    return ", ".join(parts) + " p95"
