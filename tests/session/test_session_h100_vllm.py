"""The session recorded against real vLLM servers on an H100 (issue 10) replays without a GPU."""

from __future__ import annotations

from pathlib import Path

from qtui.session.reader import load_session

SESSION = Path(__file__).parents[2] / "sessions" / "h100-smollm2-bf16-fp8-nf4.qtsession"


def test_the_h100_session_reads_back_with_nvml_samples_and_quality() -> None:
    s = load_session(SESSION)
    assert s.finalised and s.endpoints == ["bf16", "fp8", "nf4"]
    gpu = s.table("gpu_sample").collect()
    assert gpu["source"].unique().to_list() == ["nvml"]
    assert gpu["memory_used"].max() > 20 * 1024**3  # three vLLM servers held > 20 GiB
    assert s.table("quality_item").collect().height == 27 * 3
    assert s.table("request").collect().height > 1000
    levels = s.table("sweep_level").collect()
    # every precision delivered tokens and completed requests at every step (1, 8, 32 streams)
    assert levels.height == 9 and levels["requests"].min() > 0 and levels["out_tps"].min() > 200
    assert not levels["client_bound"].any()
