"""What-if state: per-endpoint GPU, prices and replicas, plus the traffic target; every accepted
change is an event so a recorded session shows how the review reached its answer.

Pure: price tables come in already loaded; events go out through a callback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.cost.formulas import HEADROOM_DEFAULT, HOURS_PER_MONTH_DEFAULT, HOURS_PER_MONTH_MAX
from qtui.cost.formulas import peak_rps_from_daily as _peak_from_daily
from qtui.cost.prices import CATEGORIES, NoPrice, PriceQuote, quote, regions
from qtui.data import gpu_specs

Replicas = int | Literal["auto"]
Event = dict[str, Any]
ENDPOINT_FIELDS = (
    "gpu",
    "price_table",
    "pricing",
    "committed_discount_pct",
    "region",
    "replicas",
    "usd_per_gpu_hour",
)
GLOBAL_KEYS = (
    "traffic.peak_rps",
    "traffic.daily_requests",
    "traffic.peak_factor",
    "headroom",
    "hours_per_month",
    "energy_usd_per_kwh",
)
_CLEAR = ("", "none", "table", "any", "-")


@dataclass(frozen=True, slots=True)
class EndpointWhatIf:
    """How one endpoint is priced and sized in the what-if."""

    gpu: str
    price_table: str
    pricing: str = "on-demand"
    committed_discount_pct: float = 0.0
    region: str | None = None
    replicas: Replicas = "auto"
    usd_per_gpu_hour: float | None = None  # user's own price; None = from the table
    gpus_per_replica: int = 1  # a deployment fact, not a what-if


@dataclass(frozen=True, slots=True)
class Traffic:
    """The traffic target: peak req/s, or daily volume × peak factor."""

    peak_rps: float | None = None
    daily_requests: float | None = None
    peak_factor: float = 2.0

    @property
    def peak(self) -> float | None:
        """Peak req/s: ``peak_rps`` when set, else daily requests ÷ 86400 × peak factor."""
        if self.peak_rps is not None:
            return self.peak_rps
        if self.daily_requests is not None:
            return _peak_from_daily(self.daily_requests, self.peak_factor)
        return None


@dataclass(frozen=True, slots=True)
class Change:
    """The outcome of one ``WhatIf.set``: accepted (with its event, if anything changed) or not."""

    ok: bool
    key: str
    value: Any = None
    previous: Any = None
    reason: str | None = None
    events: tuple[Event, ...] = ()


class BadValue(ValueError):
    """A what-if value that is rejected; its message is the reason shown to the user."""


def _number(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise BadValue(f"{what} must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "").lstrip("$"))
        except ValueError:
            raise BadValue(f"{what} must be a number, got {value!r}") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise BadValue(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _optional(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _CLEAR)


def _positive(value: object, what: str, unit: str) -> float:
    number = _number(value, what)
    if number <= 0:
        raise BadValue(f"{what} must be > 0 {unit} (got {number:g}); the previous value stays")
    return number


def _replicas(value: object) -> Replicas:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    number = _number(value, "replicas")
    if number != int(number):
        raise BadValue(f'replicas must be a whole number or "auto" (got {number:g})')
    if number < 1:
        raise BadValue(
            f'replicas must be at least 1 (got {number:g}); use "auto" to size from traffic'
        )
    return int(number)


@dataclass
class WhatIf:
    """The live assumptions behind the cost table; change them only through ``set``."""

    endpoints: dict[str, EndpointWhatIf]
    tables: Mapping[str, PriceTable]
    traffic: Traffic = Traffic()
    headroom: float = HEADROOM_DEFAULT
    hours_per_month: float = HOURS_PER_MONTH_DEFAULT
    energy_usd_per_kwh: float = 0.12
    on_event: Callable[[Event], None] | None = None
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def from_profile(
        cls,
        profile: Profile,
        tables: Mapping[str, PriceTable],
        on_event: Callable[[Event], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> WhatIf:
        """Start from the profile's [cost] section and each endpoint's own overrides."""
        cost = profile.cost
        endpoints = {
            e.name: EndpointWhatIf(
                gpu=e.gpu,
                price_table=e.price_table or cost.price_table,
                pricing=e.pricing or cost.pricing,
                committed_discount_pct=cost.committed_discount_pct,
                replicas=e.replicas,
                gpus_per_replica=e.gpus_per_replica,
            )
            for e in profile.endpoints
        }
        return cls(
            endpoints=endpoints,
            tables=dict(tables),
            traffic=Traffic(cost.peak_rps, cost.daily_requests, cost.peak_factor),
            headroom=cost.headroom,
            hours_per_month=cost.hours_per_month,
            energy_usd_per_kwh=cost.energy_usd_per_kwh,
            on_event=on_event,
            clock=clock,
        )

    # -- reading ---------------------------------------------------------------------------

    def price(self, endpoint: str) -> PriceQuote | NoPrice:
        """The $/GPU-hour this endpoint is priced at now, or why there is none."""
        ep = self.endpoints[endpoint]
        return quote(
            self.tables,
            ep.price_table,
            ep.gpu,
            ep.pricing,
            ep.committed_discount_pct,
            ep.region,
            ep.usd_per_gpu_hour,
        )

    def get(self, key: str) -> Any:
        """The current value under an event key (``hours_per_month``, ``endpoints.fp8.gpu``)."""
        if key in GLOBAL_KEYS:
            if key.startswith("traffic."):
                return getattr(self.traffic, key.removeprefix("traffic."))
            return getattr(self, key)
        name, fld = self._split(key)
        return getattr(self.endpoints[name], fld)

    def snapshot(self) -> dict[str, Any]:
        """Every what-if value by event key: what a session records as the final assumptions."""
        keys = [*GLOBAL_KEYS]
        keys += [f"endpoints.{n}.{f}" for n in self.endpoints for f in ENDPOINT_FIELDS]
        return {k: self.get(k) for k in keys}

    # -- changing --------------------------------------------------------------------------

    def set(self, key: str, value: object) -> Change:
        """Validate and apply one change; on rejection nothing changes and ``reason`` says why."""
        try:
            changes = self._validated(key, value)
        except BadValue as exc:
            return Change(False, key, value, self._safe_get(key), str(exc))
        previous = self.get(key)
        events: list[Event] = []
        for k, v in changes:
            before = self.get(k)
            if v == before and type(v) is type(before):
                continue
            self._apply(k, v)
            event = {"t": self.clock(), "kind": "whatif", "key": k, "value": v, "previous": before}
            events.append(event)
            if self.on_event is not None:
                self.on_event(event)
        return Change(True, key, self.get(key), previous, None, tuple(events))

    def restore(self, values: Mapping[str, Any]) -> None:
        """Put back a ``snapshot()`` of a what-if over the same tables, exactly and silently.

        Not ``set`` key by key: a state reached step by step can be unreachable in one key's
        order (a GPU only the later-chosen table prices is rejected while the old table is still
        set), and implied changes would clear a region or own price. Unknown keys or endpoints
        and tables not loaded are BadValue, and nothing changes.
        """
        for key, value in values.items():
            if key not in GLOBAL_KEYS:
                _, fld = self._split(key)
                if fld == "price_table" and value not in self.tables:
                    raise BadValue(f"price table {value!r} not loaded")
        for key, value in values.items():
            self._apply(key, value)

    def replay(self, events: Iterable[Event]) -> list[Change]:
        """Re-apply recorded what-if events in order (other kinds are skipped)."""
        return [self.set(e["key"], e["value"]) for e in events if e.get("kind") == "whatif"]

    def add_table(self, name: str, table: PriceTable) -> None:
        """Make a newly saved (user) price table selectable."""
        self.tables = {**self.tables, name: table}

    # -- internals -------------------------------------------------------------------------

    def _safe_get(self, key: str) -> Any:
        try:
            return self.get(key)
        except (BadValue, KeyError):
            return None

    def _split(self, key: str) -> tuple[str, str]:
        if not key.startswith("endpoints."):
            raise BadValue(f"unknown what-if key {key!r}")
        name, _, fld = key.removeprefix("endpoints.").rpartition(".")
        if name not in self.endpoints:
            raise BadValue(f"unknown endpoint {name!r} (known: {', '.join(self.endpoints)})")
        if fld not in ENDPOINT_FIELDS:
            raise BadValue(f"unknown what-if field {fld!r} (known: {', '.join(ENDPOINT_FIELDS)})")
        return name, fld

    def _apply(self, key: str, value: Any) -> None:
        if key.startswith("traffic."):
            self.traffic = replace(self.traffic, **{key.removeprefix("traffic."): value})
        elif key in GLOBAL_KEYS:
            setattr(self, key, value)
        else:
            name, fld = self._split(key)
            self.endpoints[name] = replace(self.endpoints[name], **{fld: value})

    def _validated(self, key: str, value: object) -> list[tuple[str, Any]]:
        """The (key, parsed value) pairs to apply, or BadValue with the reason."""
        if key == "traffic.peak_rps":
            if _optional(value):
                if self.traffic.daily_requests is None:
                    raise BadValue(
                        "peak req/s is the only traffic target; set daily_requests first"
                    )
                return [(key, None)]
            return [(key, _positive(value, "peak traffic", "req/s"))]
        if key == "traffic.daily_requests":
            daily = _positive(value, "daily requests", "requests/day")
            return [(key, daily), ("traffic.peak_rps", None)]  # the last target set wins
        if key == "traffic.peak_factor":
            factor = _number(value, "peak factor")
            if factor < 1:
                raise BadValue(f"peak factor must be ≥ 1 (peak ÷ daily mean), got {factor:g}")
            return [(key, factor)]
        if key == "headroom":
            headroom = _number(value, "headroom")
            if not 1 <= headroom <= 10:
                raise BadValue(f"headroom must be between 1 and 10 (×peak), got {headroom:g}")
            return [(key, headroom)]
        if key == "hours_per_month":
            hours = _positive(value, "hours per month", "h")
            if hours > HOURS_PER_MONTH_MAX:
                raise BadValue(
                    f"hours per month must be ≤ {HOURS_PER_MONTH_MAX:g} (31 days), got {hours:g}"
                )
            return [(key, hours)]
        if key == "energy_usd_per_kwh":
            usd = _number(value, "energy price")
            if usd < 0:
                raise BadValue(f"energy price must be ≥ 0 $/kWh, got {usd:g}")
            return [(key, usd)]
        name, fld = self._split(key)
        ep = self.endpoints[name]
        if fld == "replicas":
            return [(key, _replicas(value))]
        if fld == "usd_per_gpu_hour":
            if _optional(value):
                return [(key, None)]
            return [(key, _positive(value, "price", "$/GPU-hour"))]
        if fld == "committed_discount_pct":
            pct = _number(value, "committed discount")
            if not 0 <= pct < 100:
                raise BadValue(f"committed discount must be in [0, 100) %, got {pct:g}")
            candidate = replace(ep, committed_discount_pct=pct)
        elif fld == "gpu":
            gpu = str(value).strip()
            if gpu not in gpu_specs():
                raise BadValue(
                    f"unknown GPU type {gpu!r} (not in qtui/data/gpus.toml); "
                    f"known: {', '.join(gpu_specs())}"
                )
            candidate = replace(ep, gpu=gpu)
        elif fld == "price_table":
            table = str(value).strip()
            if table not in self.tables:
                raise BadValue(
                    f"price table {table!r} not loaded (known: {', '.join(self.tables)})"
                )
            candidate = replace(ep, price_table=table)
        elif fld == "pricing":
            pricing = str(value).strip()
            if pricing not in CATEGORIES:
                raise BadValue(f"pricing must be one of {', '.join(CATEGORIES)}, got {pricing!r}")
            candidate = replace(ep, pricing=pricing)
        else:  # region
            candidate = replace(ep, region=None if _optional(value) else str(value).strip())
        if fld in ("gpu", "price_table", "pricing") and not self._has_region(candidate):
            candidate = replace(candidate, region=None)  # that region is not in the new lookup
        problem = self._price_problem(candidate)
        if problem:
            raise BadValue(problem)
        return self._lookup_changes(name, fld, ep, candidate)

    def _lookup_changes(
        self, name: str, fld: str, ep: EndpointWhatIf, new: EndpointWhatIf
    ) -> list[tuple[str, Any]]:
        """The field set, then what it implies: a region the new GPU or table lacks goes back
        to the cheapest, and a changed table lookup replaces the user's own price (the last
        price set wins)."""
        out: list[tuple[str, Any]] = [(f"endpoints.{name}.{fld}", getattr(new, fld))]
        if new == ep:
            return out
        if fld != "region" and new.region != ep.region:
            out.append((f"endpoints.{name}.region", new.region))
        if ep.usd_per_gpu_hour is not None:
            out.append((f"endpoints.{name}.usd_per_gpu_hour", None))
        return out

    def _has_region(self, ep: EndpointWhatIf) -> bool:
        """Whether the endpoint's table prices its GPU in its region and category."""
        table = self.tables.get(ep.price_table)
        if ep.region is None or table is None:
            return True
        return ep.region in regions(table, ep.gpu, ep.pricing)

    def _price_problem(self, ep: EndpointWhatIf) -> str | None:
        """Why the table cannot price this endpoint (checked even when a user price is set)."""
        table = self.tables.get(ep.price_table)
        if table is None:
            return f"price table {ep.price_table!r} not loaded"
        if not table.rows_for(ep.gpu):
            have = ", ".join(dict.fromkeys(r.gpu for r in table.rows))
            return f"GPU type {ep.gpu} is not in price table {ep.price_table} (has: {have})"
        got = quote(
            self.tables, ep.price_table, ep.gpu, ep.pricing, ep.committed_discount_pct, ep.region
        )
        return got.reason if isinstance(got, NoPrice) else None
