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
    assert (rows["bf16"][6], rows["fp8-kv8"][6]) == ("169.5 at 2,048 tok", "339.1 at 2,048 tok")
    # the workload's own length: 2,280 requests of 321 tokens on average (63-65 in + 256 out);
    # 347,216 / 321.0 = 1,081.6 requests at once
    assert rows["bf16"][5] == "1,081.6 at 321 tok (measured mean of 2,280 requests)"
    # 8e9 B / 2^30 = 7.45 GiB for all three (--kv-cache-memory 8000000000)
    assert {r[2] for r in rows.values()} == {"7.45"}
    assert rows["fp8"][9] == "0.13 (estimated: 0.1349 B params × 1 B (fp8))"
    # vllm:num_preemptions_total did not move on any of the three (KV use peaked at 22 %)
    assert {r[8] for r in rows.values()} == {"0"}


def test_record_prices_every_gpu_measured_rows_marked_projections_with_their_basis() -> None:
    from qtui.data import gpu_specs
    from qtui.session.report import gpu_table

    h100 = SESSION.with_name("h100-smollm2-bf16-fp8-nf4.qtsession")
    rows = gpu_table(decide(load_session(h100))).rows
    assert len(rows) == 3 * len(gpu_specs())  # three precisions × every GPU type
    measured = [r for r in rows if r[2].endswith("(measured)")]
    assert [r[2] for r in measured] == ["H100 (measured)"] * 3
    projected = [r for r in rows if "projected from H100: decode × " in r[3]]
    # fp8 on T4 (compute 7.5): vLLM refuses fp8 below 8.0, so it is not projected there
    assert len(projected) == 3 * (len(gpu_specs()) - 1) - 1
    t4 = next(r for r in rows if r[1] == "fp8" and r[2] == "T4")
    assert t4[3] == "— (not supported on T4: vLLM's fp8 needs compute capability ≥ 8.0; T4 has 7.5)"
    assert all(r[6].startswith(("fits: needs", "needs")) for r in rows)
