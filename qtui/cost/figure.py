"""A number finance sees: a value with its unit, or the reason there is none."""

from __future__ import annotations

from dataclasses import dataclass

# Units used across qtui.cost; the text form of each figure depends on its unit.
USD_MONTH = "USD/month"
USD_PER_M_TOKENS = "USD/1M tokens"
USD_PER_REQUEST = "USD/request"
USD_PER_GPU_HOUR = "USD/GPU-hour"
USD_PER_HOUR = "USD/hour"
RPS = "req/s"
TPS = "tok/s"
SECONDS = "s"
PERCENT = "%"
POINTS = "pp"
REPLICAS = "replicas"
KWH_MONTH = "kWh/month"


@dataclass(frozen=True, slots=True)
class Figure:
    """``value`` in ``unit``; when ``value`` is None, ``reason`` says why (shown instead)."""

    value: float | None
    unit: str
    reason: str | None = None
    note: str = ""

    @classmethod
    def of(cls, value: float, unit: str, note: str = "") -> Figure:
        return cls(value, unit, None, note)

    @classmethod
    def missing(cls, reason: str, unit: str) -> Figure:
        return cls(None, unit, reason)

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def text(self) -> str:
        """Display text: the formatted number, or the reason."""
        if self.value is None:
            return self.reason or "n/a"
        return format_value(self.value, self.unit)


def replicas_and_cost_text(replicas: Figure, monthly: Figure, sizing: str = "") -> str:
    """'3 replica(s), $15,067/month', or what is missing and why, each said once; ``sizing`` is
    the sizing's own text ('3 (auto; 3–4 within the bracket)'), shown in place of the count."""
    if replicas.value is None:
        return f"replicas — ({replicas.reason})"
    money = monthly.text if monthly.value is not None else f"$/month — ({monthly.reason})"
    if sizing and sizing != replicas.text:
        return f"replicas {sizing}, {money}"
    return f"{replicas.text} replica(s), {money}"


def format_value(value: float, unit: str) -> str:
    """Finance formatting: $ with thousands separators, signed deltas, units spelled out."""
    if unit == USD_MONTH:
        return f"{_money(value, 0)}/month"
    if unit in (USD_PER_M_TOKENS, USD_PER_REQUEST, USD_PER_GPU_HOUR, USD_PER_HOUR):
        digits = 2 if abs(value) >= 0.1 or value == 0 else 4
        if unit == USD_PER_REQUEST:
            digits = 6 if abs(value) < 0.01 and value != 0 else 4
        suffix = {
            USD_PER_M_TOKENS: "/1M tok",
            USD_PER_REQUEST: "/req",
            USD_PER_GPU_HOUR: "/GPU-h",
            USD_PER_HOUR: "/h",
        }[unit]
        return f"{_money(value, digits)}{suffix}"
    if unit == PERCENT:
        return f"{value:+.1f}%"
    if unit == POINTS:
        return f"{value:+.1f} pp"
    if unit == REPLICAS:
        return f"{value:.0f}"
    if unit == SECONDS:
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit in (RPS, TPS):
        return f"{value:,.1f} {unit}"
    if unit == KWH_MONTH:
        return f"{value:,.0f} kWh/month"
    return f"{value:g} {unit}"


def _money(value: float, digits: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.{digits}f}"
