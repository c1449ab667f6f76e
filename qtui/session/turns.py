"""A session's TTFT per turn position (``qtui.evidence.turns``) from its request rows."""

from __future__ import annotations

import polars as pl

from qtui.evidence.accounting import OK
from qtui.evidence.turns import TurnTtft, ttft_by_turn
from qtui.session.reader import Session


def _turn_rows(s: Session) -> pl.DataFrame | None:
    """The measured, successful conversation turns: endpoint, level, turn, TTFT (s)."""
    if "request" not in s.tables:
        return None
    lf = s.tables["request"]
    cols = lf.collect_schema().names()
    if "turn" not in cols:
        return None
    lf = lf.filter(pl.col("turn") > 0, pl.col("t_first_token").is_not_null())
    if "phase" in cols:
        lf = lf.filter(pl.col("phase").is_null() | (pl.col("phase") == "measure"))
    lf = lf.filter(pl.col("error_class").is_null() | (pl.col("error_class") == OK))
    ttft = pl.col("t_first_token") - pl.col("t_send")
    return lf.select("endpoint", "level", "turn", ttft=ttft).collect()


def session_turns_by_level(s: Session) -> dict[tuple[str, float], list[TurnTtft]]:
    """Each endpoint's TTFT by turn at each load level (a sweep's steps); empty without turns."""
    df = _turn_rows(s)
    if df is None or not df.height:
        return {}
    out: dict[tuple[str, float], list[TurnTtft]] = {}
    for name in s.endpoints:
        part = df.filter(pl.col("endpoint") == name)
        for level in sorted({float(v) for v in part["level"].drop_nulls().to_list()}):
            at = part.filter(pl.col("level") == level)
            pairs = zip(at["turn"].to_list(), at["ttft"].to_list(), strict=True)
            out[(name, level)] = ttft_by_turn(pairs)
    return out


def session_turns(s: Session) -> dict[str, list[TurnTtft]]:
    """Each endpoint's TTFT by turn (measured, successful turns); empty without turns."""
    df = _turn_rows(s)
    if df is None:
        return {}
    out: dict[str, list[TurnTtft]] = {}
    for name in s.endpoints:
        part = df.filter(pl.col("endpoint") == name)
        if part.height:
            out[name] = ttft_by_turn(
                zip(part["turn"].to_list(), part["ttft"].to_list(), strict=True)
            )
    return out
