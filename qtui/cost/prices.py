"""Pick a $/GPU-hour from loaded price tables, keeping where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from qtui.config.pricing import PriceRow, PriceTable

Category = Literal["on-demand", "spot", "committed"]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """One endpoint's $/GPU-hour and its provenance (table, instance, source, as-of)."""

    usd_per_gpu_hour: float
    table: str
    category: str
    provider: str = ""
    source: str = ""
    as_of: str = ""
    instance: str = ""
    region: str = ""
    gpus_per_instance: int = 1
    committed_discount_pct: float = 0.0
    overridden: bool = False

    @property
    def label(self) -> str:
        """Short provenance line shown next to a cost, e.g. ``aws g6.xlarge (us-east-1) ...``."""
        if self.overridden:
            return f"own price ({self.table}/{self.category})"
        cat = self.category
        if cat == "committed":
            cat = f"committed −{self.committed_discount_pct:g}%"
        return f"{self.table} {self.instance} ({self.region}) {cat}, as of {self.as_of}"


@dataclass(frozen=True, slots=True)
class NoPrice:
    """Why there is no price: shown in cost cells instead of a number."""

    reason: str


def quote(
    tables: Mapping[str, PriceTable],
    table: str,
    gpu: str,
    category: str,
    committed_discount_pct: float = 0.0,
    region: str | None = None,
    override_usd_per_gpu_hour: float | None = None,
) -> PriceQuote | NoPrice:
    """The cheapest $/GPU-hour for ``gpu`` in ``table`` (optionally one region), or why not.

    Instance prices are divided by GPUs per instance: replicas are assumed to pack onto shared
    instances. A user override wins over the table and is taken as the final $/GPU-hour.
    """
    if override_usd_per_gpu_hour is not None:
        return PriceQuote(
            override_usd_per_gpu_hour,
            table,
            category,
            committed_discount_pct=committed_discount_pct,
            overridden=True,
        )
    loaded = tables.get(table)
    if loaded is None:
        return NoPrice(f"price table {table} not loaded")
    if loaded.table.currency != "USD":
        return NoPrice(f"price table {table} is in {loaded.table.currency}; qtui needs USD")
    best: tuple[float, PriceRow] | None = None
    for row in loaded.rows_for(gpu):
        if region is not None and row.region != region:
            continue
        price = row.usd_per_gpu_hour(category, committed_discount_pct)
        if price is not None and (best is None or price < best[0]):
            best = (price, row)
    if best is None:
        where = f"{table}/{category}" + (f" in {region}" if region else "")
        return NoPrice(f"no price for {gpu} in table {where}")
    price, row = best
    return PriceQuote(
        usd_per_gpu_hour=price,
        table=table,
        category=category,
        provider=loaded.table.provider,
        source=loaded.table.source,
        as_of=loaded.table.as_of,
        instance=row.instance,
        region=row.region,
        gpus_per_instance=row.gpus_per_instance,
        committed_discount_pct=committed_discount_pct if category == "committed" else 0.0,
    )


def regions(table: PriceTable | None, gpu: str, category: str) -> tuple[str, ...]:
    """The regions where ``table`` prices ``gpu`` in ``category``, in table order."""
    if table is None:
        return ()
    found = (r.region for r in table.rows_for(gpu) if r.usd_per_gpu_hour(category) is not None)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class TableInfo:
    """What the UI shows about a price table: who published it and when."""

    name: str
    provider: str
    region: str
    source: str
    as_of: str
    currency: str
    based_on: str | None
    gpus: tuple[str, ...]


def table_info(name: str, table: PriceTable) -> TableInfo:
    meta = table.table
    gpus = tuple(dict.fromkeys(r.gpu for r in table.rows))
    return TableInfo(
        name,
        meta.provider,
        meta.region,
        meta.source,
        meta.as_of,
        meta.currency,
        meta.based_on,
        gpus,
    )
