"""A session's TTFT per turn position (``qtui.evidence.turns``) from its request rows."""

from __future__ import annotations

import polars as pl

from qtui.evidence.accounting import OK
from qtui.evidence.turns import TurnTtft, ttft_by_turn
from qtui.session.reader import Session


def session_turns(s: Session) -> dict[str, list[TurnTtft]]:
    """Each endpoint's TTFT by turn (measured, successful turns); empty without turns."""
    if "request" not in s.tables:
        return {}
    lf = s.tables["request"]
    cols = lf.collect_schema().names()
    if "turn" not in cols:
        return {}
    lf = lf.filter(pl.col("turn") > 0, pl.col("t_first_token").is_not_null())
    if "phase" in cols:
        lf = lf.filter(pl.col("phase").is_null() | (pl.col("phase") == "measure"))
    lf = lf.filter(pl.col("error_class").is_null() | (pl.col("error_class") == OK))
    df = lf.select("endpoint", "turn", ttft=pl.col("t_first_token") - pl.col("t_send")).collect()
    out: dict[str, list[TurnTtft]] = {}
    for name in s.endpoints:
        part = df.filter(pl.col("endpoint") == name)
        if part.height:
            out[name] = ttft_by_turn(
                zip(part["turn"].to_list(), part["ttft"].to_list(), strict=True)
            )
    return out
