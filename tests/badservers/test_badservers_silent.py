"""The issue's "two chunks, then stalls forever" server in a run shorter than the stall limit
(30 s): the streams still open at the stop are "silent for N s", counted apart from "cancelled
at stop", their tokens are partial (not throughput), and the endpoint completed nothing (exit 4);
the good endpoint beside it is measured throughout."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from badhttp import Bad, servers
from click.testing import CliRunner

from qtui.cli import cli
from qtui.session import load_session


def test_a_server_silent_at_the_stop_is_visible_in_a_short_run(tmp_path: Path) -> None:
    with servers() as s:
        urls = {"good": s.start(Bad()), "stall": s.start(Bad(stream="stall"))}
        prof = tmp_path / "p.toml"
        prof.write_text(
            '[profile]\nname = "silent"\n'
            + "".join(
                f'[[endpoints]]\nname = "{n}"\nurl = "{u}"\nprecision = "bf16"\n'
                for n, u in urls.items()
            )
            + "[workload]\ninput_tokens = { mean = 8 }\noutput_tokens = { mean = 4 }\n"
            + "[load]\nconcurrency = 2\nduration_s = 3\n"
        )
        out = tmp_path / "out"
        res = CliRunner().invoke(cli, ["bench", str(prof), "--out", str(out)])
    assert res.exit_code == 4, res.output
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("stall: "))
    assert line.startswith("stall: 0 requests, 0.0 out tok/s, error rate — (no request ended)")
    assert "2 silent for" in line and "cancelled at stop" not in line
    assert "4 partial tokens (not throughput)" in line  # two chunks each, shown apart
    req = load_session(next(out.glob("*.qtsession"))).frame("request")
    stall = req.filter(pl.col("endpoint") == "stall")
    assert stall.height == 2 and set(stall["error_class"]) == {"cancelled"}
    assert all(d.startswith("stopped by qtui; silent for ") for d in stall["error_detail"])
    good = req.filter((pl.col("endpoint") == "good") & (pl.col("error_class") == "none"))
    assert good.height >= 4
    summary = json.loads((out / "summary.json").read_text())
    dec = summary["decision"]["endpoints"]["stall"]
    assert dec["partial_tokens"] == 4 and dec["stopped"].startswith("2 silent for")
