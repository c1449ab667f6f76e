"""The decision record's 'Where the memory goes' on the shipped H200 session (issue 19)."""

from __future__ import annotations

from pathlib import Path

from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.report import memory_table

SESSION = Path(__file__).parents[2] / "sessions" / "h200-smollm2-bf16-fp8-fp8kv.qtsession"


def test_record_states_the_kv_cache_each_server_logged() -> None:
    rows = {r[0]: r for r in memory_table(decide(load_session(SESSION))).rows}
    # server logs: "GPU KV cache size: 347,216 tokens" (bf16, fp8) and 694,432 (fp8 KV cache);
    # "Maximum concurrency for 2,048 tokens per request: 169.54x" / "339.08x"
    assert rows["bf16"][1] == rows["fp8"][1] == "347,216"
    assert rows["fp8-kv8"][1] == "694,432" and rows["fp8-kv8"][3] == "fp8"
    assert (rows["bf16"][5], rows["fp8-kv8"][5]) == ("169.5", "339.1")
    # 8e9 B / 2^30 = 7.45 GiB for all three (--kv-cache-memory 8000000000)
    assert {r[2] for r in rows.values()} == {"7.45"}
    assert rows["fp8"][7] == "0.13 (estimated: 0.1349 B params × 1 B (fp8))"
