"""Turn journal records into typed polars frames (pure): known columns typed, the rest inferred."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from qtui.session.schema import COLUMNS, JSON_COLUMNS


def _json_text(name: str, values: list[Any]) -> pl.Series:
    text = [None if v is None else json.dumps(v, default=str) for v in values]
    return pl.Series(name, text, dtype=pl.String)


def _column(name: str, values: list[Any], dtype: Any) -> pl.Series:
    """One column; values polars cannot hold in one type are kept as JSON text."""
    if dtype is None and name in JSON_COLUMNS:
        return _json_text(name, values)
    if dtype is not None:
        try:
            return pl.Series(name, values, dtype=dtype, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            pass
    else:
        try:
            return pl.Series(name, values, strict=True)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            pass
    return _json_text(name, values)


def rows_to_frame(kind: str, rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """A frame with the kind's known columns first (typed, even when empty), then any others."""
    known = COLUMNS.get(kind, {})
    names: dict[str, None] = dict.fromkeys(known)
    for row in rows:
        for key in row:
            if key != "k":
                names.setdefault(key)
    columns = []
    for name in names:
        values = [row.get(name) for row in rows]
        columns.append(_column(name, values, known.get(name)))
    return pl.DataFrame(columns)


def frame_to_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows back as dicts (for document kinds and tests)."""
    return frame.to_dicts()
