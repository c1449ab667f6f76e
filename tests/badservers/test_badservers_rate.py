"""Open loop (rate mode) against an endpoint answering HTTP 500: its arrivals are held while it
fails (one probe per back-off wait), not sent at the asked rate; the user is told how many were
not sent; the good endpoint beside it gets the whole rate (real sockets)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from badhttp import Bad, servers
from click.testing import CliRunner

from qtui.cli import cli
from qtui.session import load_session

RATE = 40.0
DURATION_S = 3.0


@pytest.mark.parametrize("processes", [1, 2], ids=["one-loop", "worker-processes"])
def test_a_failing_endpoint_is_not_hammered_in_open_loop(tmp_path: Path, processes: int) -> None:
    bad = Bad(stream="http500")
    with servers() as s:
        urls = {"good": s.start(Bad()), "err500": s.start(bad)}
        prof = tmp_path / "p.toml"
        prof.write_text(
            '[profile]\nname = "rate"\n'
            + "".join(
                f'[[endpoints]]\nname = "{n}"\nurl = "{u}"\nprecision = "bf16"\n'
                for n, u in urls.items()
            )
            + "[workload]\ninput_tokens = { mean = 8 }\noutput_tokens = { mean = 4 }\n"
            + f'[load]\nmode = "rate"\nrate = {RATE}\narrival = "constant"\n'
            + f"duration_s = {DURATION_S}\n"
        )
        out = tmp_path / "out"
        args = ["bench", str(prof), "--out", str(out), "--processes", str(processes)]
        res = CliRunner().invoke(cli, args)
    assert res.exit_code == 4, res.output
    # waits of 0.125–0.25, 0.25–0.5, 0.5–1, 1–2 s… after each failed probe: a handful, not 120
    assert 2 <= bad.received <= 12 * processes, bad.received  # each process backs off
    req = load_session(next(out.glob("*.qtsession"))).frame("request")
    assert req.filter(pl.col("endpoint") == "err500").height == bad.received  # all recorded
    good = req.filter((pl.col("endpoint") == "good") & (pl.col("error_class") == "none"))
    assert good.height >= RATE * DURATION_S * 0.5
    warn = [ln for ln in res.stderr.splitlines() if "arrivals not sent while backing off" in ln]
    assert len(warn) == 1 and warn[0].startswith("qtui: warning: err500: ")
