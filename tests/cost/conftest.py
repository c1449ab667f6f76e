"""Small price tables built in code, so cost tests don't move when shipped tables are rebuilt."""

from __future__ import annotations

import pytest

from qtui.config.pricing import PriceTable


def make_table(rows: list[dict[str, object]], provider: str = "Test Cloud") -> PriceTable:
    return PriceTable.model_validate(
        {
            "table": {"provider": provider, "region": "r1", "source": "test", "as_of": "2026-01"},
            "rows": rows,
        }
    )


@pytest.fixture
def tables() -> dict[str, PriceTable]:
    """``t``: H100 $4.00 on-demand only, L4 $0.80/$0.30, A100-80GB 8-GPU instance at $24/$8.
    ``u``: T4 only."""
    t = make_table(
        [
            {"gpu": "H100", "instance": "h1", "gpus_per_instance": 1, "region": "r1",
             "on_demand_usd_per_hour": 4.0},
            {"gpu": "L4", "instance": "l1", "gpus_per_instance": 1, "region": "r1",
             "on_demand_usd_per_hour": 0.8, "spot_usd_per_hour": 0.3},
            {"gpu": "L4", "instance": "l1-west", "gpus_per_instance": 1, "region": "r2",
             "on_demand_usd_per_hour": 0.7},
            {"gpu": "A100-80GB", "instance": "a8", "gpus_per_instance": 8, "region": "r1",
             "on_demand_usd_per_hour": 24.0, "spot_usd_per_hour": 8.0},
        ]
    )  # fmt: skip
    u = make_table(
        [{"gpu": "T4", "instance": "t1", "gpus_per_instance": 1, "region": "r1",
          "on_demand_usd_per_hour": 0.526}],
        provider="Other",
    )  # fmt: skip
    return {"t": t, "u": u}
