"""Cost and capacity: $/1M tokens, replicas for a traffic target at the SLO, monthly cost,
deltas against the baseline, and the what-if state behind them (docs/cost-formulas.md)."""

from __future__ import annotations

from qtui.cost.breakeven import BreakEven, break_even
from qtui.cost.capacity import P95Estimate, expected_p95
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
    "BreakEven",
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
    "TableInfo",
    "Traffic",
    "WhatIf",
    "break_even",
    "build_comparison",
    "expected_p95",
    "quote",
    "table_info",
]
