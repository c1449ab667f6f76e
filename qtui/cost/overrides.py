"""User prices saved as a new price table (tomli-w), never by editing a shipped table."""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import tomli_w

from qtui.config.paths import shipped_pricing_dir, user_pricing_dir
from qtui.config.pricing import PriceRow, PriceTable, PriceTableMeta
from qtui.cost.whatif import WhatIf
from qtui.errors import ConfigError

__all__ = [
    "PriceOverride",
    "default_name",
    "override_table",
    "overrides_from_whatif",
    "save_price_table",
    "user_pricing_dir",
    "whatif_table",
]

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """A user's $/GPU-hour for one GPU type in one pricing category (discount already applied)."""

    gpu: str
    category: str
    usd_per_gpu_hour: float
    committed_discount_pct: float = 0.0
    region: str | None = None  # the region chosen in the what-if; None: the base table's


def overrides_from_whatif(whatif: WhatIf) -> dict[str, list[PriceOverride]]:
    """The user prices set in the what-if, grouped by the table they override."""
    out: dict[str, list[PriceOverride]] = {}
    for ep in whatif.endpoints.values():
        if ep.usd_per_gpu_hour is not None:
            out.setdefault(ep.price_table, []).append(
                PriceOverride(
                    ep.gpu, ep.pricing, ep.usd_per_gpu_hour, ep.committed_discount_pct, ep.region
                )
            )
    return out


def whatif_table(whatif: WhatIf, base_name: str, now: float) -> PriceTable:
    """The own prices of the endpoints priced from ``base_name``, as a new table based on it.

    ConfigError (one line) when the table is not loaded or no endpoint on it has an own price.
    """
    base = whatif.tables.get(base_name)
    if base is None:
        raise ConfigError(f"price table {base_name!r} is not loaded; nothing to base a copy on")
    overrides = overrides_from_whatif(whatif).get(base_name)
    if not overrides:
        raise ConfigError(
            f"no own $/GPU-hour set on an endpoint priced from {base_name}; "
            "type one with $ first (nothing saved)"
        )
    return override_table(base_name, base, overrides, now)


def _min_per_gpu(rows: Iterable[PriceRow], category: str) -> float | None:
    prices = [p for r in rows if (p := r.usd_per_gpu_hour(category)) is not None]
    return min(prices) if prices else None


def override_table(
    base_name: str, base: PriceTable, overrides: Iterable[PriceOverride], now: float
) -> PriceTable:
    """A copy of ``base`` where each overridden GPU has one 1-GPU row at the user's prices.

    A committed price is stored as on-demand ÷ (1 − discount), so the same category and discount
    give the same $/GPU-hour back. The other category keeps the base table's cheapest per-GPU
    price. ``based_on`` names the base table; ``as_of`` is today's UTC date.
    """
    by_gpu: dict[str, dict[str, float]] = {}
    regions: dict[str, str] = {}
    for o in overrides:
        if not o.usd_per_gpu_hour > 0:
            raise ConfigError(
                f"price for {o.gpu} must be > 0 $/GPU-hour (got {o.usd_per_gpu_hour})"
            )
        column = "spot" if o.category == "spot" else "on-demand"
        price = o.usd_per_gpu_hour
        if o.category == "committed":
            price /= 1 - o.committed_discount_pct / 100
        seen = by_gpu.setdefault(o.gpu, {})
        if column in seen and not math.isclose(seen[column], price, rel_tol=1e-9):
            raise ConfigError(
                f"two own {column} prices for {o.gpu} (${seen[column]:.4g} and ${price:.4g} per "
                "GPU-hour before discount); a price table holds one: make them equal"
            )
        seen[column] = price
        if o.region:
            regions.setdefault(o.gpu, o.region)
    rows: list[PriceRow] = [r for r in base.rows if r.gpu not in by_gpu]
    for gpu, prices in by_gpu.items():
        old = base.rows_for(gpu)
        region = regions.get(gpu) or (old[0].region if old else (base.table.region or "any"))
        rows.append(
            PriceRow(
                gpu=gpu,
                instance=f"{gpu} (user price)",
                gpus_per_instance=1,
                region=region,
                on_demand_usd_per_hour=prices.get("on-demand", _min_per_gpu(old, "on-demand")),
                spot_usd_per_hour=prices.get("spot", _min_per_gpu(old, "spot")),
                notes="user price set in the qtui what-if; other column from " + base_name,
            )
        )
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    meta = base.table
    return PriceTable(
        table=PriceTableMeta(
            provider=meta.provider,
            region=meta.region,
            currency=meta.currency,
            source=f"user override of {base_name} ({meta.source}, as of {meta.as_of})",
            as_of=day,
            notes=[f"User prices for: {', '.join(sorted(by_gpu))}.", *meta.notes],
            based_on=base_name,
        ),
        rows=rows,
    )


def default_name(base_name: str, now: float) -> str:
    return f"{base_name}-user-{datetime.fromtimestamp(now, UTC):%Y%m%d-%H%M%S}"


def save_price_table(
    table: PriceTable,
    name: str,
    directory: Path | None = None,
    reserved: Mapping[str, Path] | None = None,
    loaded: Collection[str] = (),
) -> Path:
    """Write ``table`` as ``<directory>/<name>.toml``; never over a shipped or existing file.

    A name taken by a shipped table, or by one of the ``loaded`` tables, is refused; an existing
    user file gets a ``-2``, ``-3`` … suffix rather than being overwritten. Written to a
    temporary file, then renamed.
    """
    if not _NAME.match(name):
        raise ConfigError(f"price table name {name!r}: use letters, digits, '.', '_' or '-'")
    shipped = (
        reserved
        if reserved is not None
        else {p.stem: p for p in shipped_pricing_dir().glob("*.toml")}
    )
    if name in shipped:
        raise ConfigError(f"price table name {name!r} is a shipped table; choose another name")
    if name in loaded:
        raise ConfigError(
            f"price table name {name!r} is already taken by a loaded table; choose another name"
        )
    target_dir = directory or user_pricing_dir()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"{target_dir}: cannot create the price table directory ({exc})"
        ) from None
    path, n = target_dir / f"{name}.toml", 1
    while path.exists() or path.stem in loaded or path.stem in shipped:
        n += 1
        path = target_dir / f"{name}-{n}.toml"
    header = (
        f"# Price table saved by qtui from a what-if; based on {table.table.based_on}.\n"
        "# Check it with `qtui check FILE`.\n"
    )
    body = tomli_w.dumps(table.model_dump(mode="json", exclude_none=True))
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header + body)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write the price table ({exc})") from None
    return path
