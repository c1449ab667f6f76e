"""Figures tests recompute by hand from a recording's rows."""

from __future__ import annotations

from typing import Any

import polars as pl

from qtui.session.reader import Session


def level_power(session: Session, name: str, level: float) -> tuple[dict[str, Any], float]:
    """The sweep level's row and the mean power of the GPU samples inside it (W per GPU; the
    synthetic sessions have one GPU per endpoint)."""
    row = (
        session.frame("sweep_level")
        .filter((pl.col("endpoint") == name) & (pl.col("level") == level))
        .row(0, named=True)
    )
    watts = (
        session.frame("gpu_sample")
        .filter(
            (pl.col("endpoint") == name)
            & (pl.col("t") >= row["t_start"])
            & (pl.col("t") <= row["t_end"])
        )["power_w"]
        .mean()
    )
    assert isinstance(watts, float)
    return row, watts
