"""Open a session (finalised or a journal cut short) as polars frames plus profile and prices."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from qtui import __version__
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.session.frames import rows_to_frame
from qtui.session.migrate import migrate
from qtui.session.schema import VERSION
from qtui.session.store import Raw, raw_from_container, raw_from_journal, sniff


def _version_tuple(v: object) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", str(v))[:3])


@dataclass
class Session:
    """A recorded session: lazy frames per kind, documents, and what went wrong reading it."""

    path: Path
    header: dict[str, Any]
    documents: dict[str, list[dict[str, Any]]]
    tables: dict[str, pl.LazyFrame]
    warnings: list[str] = field(default_factory=list)
    finalised: bool = False
    profile: Profile | None = None
    price_tables: dict[str, PriceTable] = field(default_factory=dict)
    label: str = ""

    def table(self, kind: str) -> pl.LazyFrame:
        """The kind's records (an empty frame with the known columns when none were recorded)."""
        lf = self.tables.get(kind)
        return lf if lf is not None else rows_to_frame(kind, []).lazy()

    def frame(self, kind: str) -> pl.DataFrame:
        """The kind's records, collected."""
        return self.table(kind).collect()

    def docs(self, kind: str) -> list[dict[str, Any]]:
        """Document records of ``kind`` (header, meta, discovery, quality_summary, event...)."""
        return self.documents.get(kind, [])

    @property
    def profile_data(self) -> dict[str, Any] | None:
        """The profile as recorded (raw dict), even when this qtui cannot validate it."""
        recs = self.docs("profile")
        return recs[-1] if recs else None

    @property
    def events(self) -> pl.DataFrame:
        """What-ifs, load changes, warnings and notes; value/previous as JSON text."""
        return rows_to_frame("event", self.docs("event")).sort("t", nulls_last=True)

    @property
    def endpoints(self) -> list[str]:
        """Endpoint names: the profile's order, then any others found in the records."""
        names: list[str] = [e.name for e in self.profile.endpoints] if self.profile else []
        for kind in ("request", "client_second", "server_second"):
            if kind in self.tables:
                found = self.tables[kind].select(pl.col("endpoint").unique()).collect()
                for n in sorted(x for x in found["endpoint"].to_list() if x is not None):
                    if n not in names:
                        names.append(n)
        return names

    @property
    def time_range(self) -> tuple[float, float] | None:
        """First and last timestamp among the per-second series (wall clock, s)."""
        bounds = [
            self.tables[k].select(pl.col("t").min().alias("a"), pl.col("t").max().alias("b"))
            for k in ("client_second", "server_second", "gpu_sample")
            if k in self.tables
        ]
        if not bounds:
            return None
        b = pl.concat(pl.collect_all(bounds))
        lo, hi = b["a"].min(), b["b"].max()
        return None if lo is None or hi is None else (float(lo), float(hi))  # type: ignore[arg-type]

    def price_table(self, name: str) -> tuple[PriceTable | None, str | None]:
        """The table named ``name`` here, else the recorded one with a note saying so."""
        from qtui.config.catalog import list_price_tables, load_price_table
        from qtui.errors import QtuiError

        try:
            return load_price_table(name), None
        except QtuiError as exc:
            # installed but unreadable (edited into bad TOML, say): say so, not "not installed"
            here = (
                f"is unreadable here ({exc})"
                if name in list_price_tables()
                else ("is not installed here")
            )
            rec = self.price_tables.get(name)
            if rec is None:
                return None, f"price table {name!r} {here}, and not recorded in {self.path.name}"
            return rec, (
                f"price table {name!r} {here}; using the prices recorded in "
                f"{self.path.name} (as of {rec.table.as_of})"
            )


def _interpret(path: Path, raw: Raw) -> Session:
    raw = migrate(raw)
    s = Session(
        path=path,
        header=raw.header,
        documents=raw.documents,
        tables=raw.tables,
        warnings=list(raw.warnings),
        finalised=raw.finalised,
    )
    writer = raw.header.get("qtui_version")
    if _version_tuple(writer) > _version_tuple(__version__):
        s.warnings.append(
            f"{path}: written by qtui {writer}, newer than this qtui {__version__} (format "
            f"version {raw.header.get('version')} of {VERSION}); fields it added are kept as-is"
        )
    data = s.profile_data
    if data is not None:
        try:
            s.profile = Profile.model_validate(data)
        except ValidationError as exc:
            s.warnings.append(
                f"{path}: recorded profile does not validate here ({exc.errors()[0]['msg']}); "
                "endpoint settings come from the records only"
            )
    for rec in s.docs("price_tables"):
        try:
            s.price_tables[str(rec.get("name"))] = PriceTable.model_validate(rec.get("table"))
        except ValidationError:
            s.warnings.append(f"{path}: recorded price table {rec.get('name')!r} is invalid")
    s.label = (s.profile.profile.name if s.profile else None) or path.stem.split(".")[0]
    return s


def load_session(path: str | Path) -> Session:
    """Open ``path`` for replay, report or compare; ConfigError (one line) when it is not one."""
    p = Path(path)
    raw = raw_from_container(p) if sniff(p) == "zip" else raw_from_journal(p)
    return _interpret(p, raw)
