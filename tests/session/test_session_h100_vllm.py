"""The session recorded against real vLLM servers on an H100 (issue 10) replays without a GPU."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from qtui.session.reader import load_session

SESSION = Path(__file__).parents[2] / "sessions" / "h100-smollm2-bf16-fp8-nf4.qtsession"


def test_the_h100_session_reads_back_with_nvml_samples_and_quality() -> None:
    s = load_session(SESSION)
    assert s.finalised and s.endpoints == ["bf16", "fp8", "nf4"]
    gpu = s.table("gpu_sample").collect()
    assert gpu["source"].unique().to_list() == ["nvml"]
    assert gpu["memory_used"].max() > 20 * 1024**3  # three vLLM servers held > 20 GiB
    # three servers on GPU 0: each endpoint has the memory its own server processes held
    shared = gpu.filter(gpu["state"] == "shared")
    assert sorted(shared["endpoint"].unique().to_list()) == ["bf16", "fp8", "nf4"]
    per_server = shared.group_by("endpoint").agg(pl.col("memory_used").max().alias("m"))
    assert all(9 * 1024**3 < m < 10 * 1024**3 for m in per_server["m"])  # nvidia-smi: 9.3–9.4 GiB
    assert s.table("quality_item").collect().height == 27 * 3
    assert s.table("request").collect().height > 1000
    levels = s.table("sweep_level").collect()
    # every precision delivered tokens and completed requests at every step (1, 8, 32 streams)
    assert levels.height == 9 and levels["requests"].min() > 0 and levels["out_tps"].min() > 200
    assert not levels["client_bound"].any()
