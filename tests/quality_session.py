"""A small recorded session with a golden run whose figures are known by hand (issue 18):
400 items tagged risk:low (the first 200) and risk:high; bf16 passes 360 (every 10th fails).

- bf16~again (the baseline's second pass) differs from bf16's text on 8 items: self-flip 2.0 %.
- fp8 passes what bf16 passes; its text differs on 12 items: flips 3.0 %, within the floor
  (Wilson upper of 8/400 = 3.89 %).
- int8 passes what bf16 passes on risk:low; on risk:high it loses 40 items bf16 passed
  (20 points on that tag, 10 overall) and its text differs on those 40: flips 10.0 %.
Floor (synth profile): min_success 70 %, max drop 10 points, min_items 20.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtui.config.pricing import PriceTable
from qtui.session.synth import SYNTH_PRICES, synth_profile
from qtui.session.writer import SessionWriter

N = 400


def _items(name: str, fails: set[int], differs: set[int], n: int = N) -> list[dict[str, Any]]:
    return [
        {
            "endpoint": name,
            "item_id": f"q{i:03d}",
            "passed": i not in fails,
            "reason": "wrong" if i in fails else "ok",
            "latency_s": 0.1,
            "retries": 0,
            "output_text": f"other {i}" if i in differs else f"answer {i}",
            "tags": ["risk:low" if i < n // 2 else "risk:high"],
            "t": 1_780_000_000.0 + i / 100,
        }
        for i in range(n)
    ]


def quality_records(n: int = N) -> list[dict[str, Any]]:
    """The records above; ``n`` items per pass (the figures above are for 400)."""
    base_fails = {i for i in range(n) if i % 10 == 0}
    high_lost = [i for i in range(n // 2, n) if i % 10 != 0][:40]
    return (
        _items("bf16", base_fails, set(), n)
        + _items("bf16~again", base_fails, set(range(1, 9)), n)
        + _items("fp8", base_fails, set(range(1, 13)), n)
        + _items("int8", base_fails | set(high_lost), set(high_lost), n)
    )


def write_quality_session(path: Path, n: int = N) -> Path:
    w = SessionWriter(
        path,
        profile=synth_profile(3),
        price_tables={"synth": PriceTable.model_validate(SYNTH_PRICES)},
        meta={"created": 1_780_000_000.0},
        overwrite=True,
    )
    for rec in quality_records(n):
        w.append("quality_item", rec)
    return w.close()
