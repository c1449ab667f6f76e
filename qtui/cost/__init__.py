"""Cost and capacity: $/1M tokens, replicas for a traffic target at the SLO, monthly cost,
deltas against the baseline, and the what-if state behind them (docs/cost-formulas.md)."""

from __future__ import annotations

from qtui.cost.breakeven import BreakEven, break_even
from qtui.cost.capacity import (
    NO_SWEEP,
    SLO_NEVER_MET,
    Capacity,
    P95Estimate,
    SweepPoint,
    capacity_from_sweep,
    expected_p95,
    slo_breaches,
)
from qtui.cost.compare import (
    COLUMNS,
    Column,
    CostComparison,
    EndpointMeasure,
    FinanceRow,
    Sizing,
    build_comparison,
)
from qtui.cost.figure import Figure
from qtui.cost.prices import NoPrice, PriceQuote, TableInfo, quote, table_info
from qtui.cost.whatif import Change, EndpointWhatIf, Traffic, WhatIf

__all__ = [
    "COLUMNS",
    "NO_SWEEP",
    "SLO_NEVER_MET",
    "BreakEven",
    "Capacity",
    "Change",
    "Column",
    "CostComparison",
    "EndpointMeasure",
    "EndpointWhatIf",
    "Figure",
    "FinanceRow",
    "NoPrice",
    "P95Estimate",
    "PriceQuote",
    "Sizing",
    "SweepPoint",
    "TableInfo",
    "Traffic",
    "WhatIf",
    "break_even",
    "build_comparison",
    "capacity_from_sweep",
    "expected_p95",
    "quote",
    "slo_breaches",
    "table_info",
]
