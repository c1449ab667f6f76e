"""`qtui bench`, the headless command a user runs, against the real llama.cpp servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import tomli_w
from conftest import PROFILE, live_profile

from qtui.config.profile import Profile
from qtui.engines.server import ServerProcess

pytestmark = pytest.mark.llamacpp


def test_qtui_bench_measures_every_llamacpp_endpoint(
    llama_profile: Profile, llama_servers: dict[str, ServerProcess], tmp_path: Path
) -> None:
    live = live_profile(llama_profile, llama_servers).model_dump(exclude_none=True)
    live["workload"]["golden_set"] = str(PROFILE.parent / llama_profile.workload.golden_set)
    profile_file = tmp_path / "llamacpp-live.toml"
    profile_file.write_text(tomli_w.dumps(live))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "qtui", "bench", str(profile_file), "--out", str(out),
         "--mode", "concurrency", "--level", "2", "--duration", "240", "--max-requests", "4"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["endpoints"]) == {e.name for e in llama_profile.endpoints}
    for name, ep in summary["endpoints"].items():
        s = ep["summary"]
        assert s["requests"] == 4 and s["out_tps"] > 0, name  # all four sent, all finished
        assert s["counted_usage"] == s["requests"], name
        assert ep["info"]["model_id"] == f"smollm2-135m-{name}"
    servers = pl.read_csv(out / "server_seconds.csv")
    assert set(servers["status"]) == {"not_exposed"}
