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


def power_basis(session: Session, name: str, level: float) -> tuple[dict[str, Any], float, str]:
    """The level's row, the W per GPU the energy is priced at, and the basis as shown: the mean
    inside the level, else (no sample in it) the mean of the last 60 s of samples."""
    row = (
        session.frame("sweep_level")
        .filter((pl.col("endpoint") == name) & (pl.col("level") == level))
        .row(0, named=True)
    )
    gpu = session.frame("gpu_sample").filter(pl.col("endpoint") == name)
    inside = gpu.filter((pl.col("t") >= row["t_start"]) & (pl.col("t") <= row["t_end"]))
    if inside.height:
        watts = inside["power_w"].mean()
        basis = f"at load level {level:g}"
    else:
        t_end = gpu["t"].max()
        watts = gpu.filter(pl.col("t") >= t_end - 60)["power_w"].mean()  # type: ignore[operator]
        basis = f"mean of the last 60 s; none measured at load level {level:g}"
    assert isinstance(watts, float)
    return row, watts, basis
