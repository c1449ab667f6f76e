"""A profile and a price table edited into invalid TOML while `qtui bench` runs (the edit is made
when the server receives its first request): the run goes on with what it read at the start,
the decision uses the prices recorded in the session and says why, and the next read of either
file is one line naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from badhttp import Bad, servers
from benchrun import FINISHED
from click.testing import CliRunner

from qtui.cli import cli
from qtui.config.paths import shipped_pricing_dir
from qtui.session import load_session
from qtui.session.decision import decide

BROKEN = '[table]\nprovider = "half-saved\n'


def test_files_broken_mid_run_lose_nothing_and_say_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "pricing"
    prices.mkdir()
    monkeypatch.setenv("QTUI_PRICING_DIR", str(prices))
    table = prices / "mine.toml"
    shutil.copy(shipped_pricing_dir() / "aws.toml", table)
    prof = tmp_path / "p.toml"
    out = tmp_path / "out"

    def edit(n: int) -> None:
        if n == 1:  # the run has read both files: break them now
            table.write_text(BROKEN)
            prof.write_text(prof.read_text().replace("[load]", "[load\nbroken"))

    with servers() as s:
        url = s.start(Bad(on_request=edit))
        prof.write_text(
            f'[profile]\nname = "toml"\n[[endpoints]]\nname = "a"\nurl = "{url}"\n'
            'precision = "bf16"\n[workload]\ninput_tokens = { mean = 8 }\n'
            "output_tokens = { mean = 4 }\n[load]\nconcurrency = 2\n"
            '[cost]\nprice_table = "mine"\n'
        )
        res = CliRunner().invoke(
            cli, ["bench", str(prof), "--out", str(out), "--max-requests", "8"]
        )
    assert res.exit_code in FINISHED, res.output
    assert "a: 8 requests" in res.stdout
    session = load_session(next(out.glob("*.qtsession")))
    assert session.frame("request").height == 8  # nothing recorded was lost
    assert "mine" in session.price_tables  # the prices as read at the start
    note = [n for n in decide(session).notes if "'mine'" in n]
    assert note and "is unreadable here" in note[0] and "malformed TOML" in note[0]
    assert "using the prices recorded in" in note[0]
    assert f"note: {note[0]}" in res.stdout  # qtui bench says it too
    for path in (prof, table):
        check = CliRunner().invoke(cli, ["check", str(path)])
        assert check.exit_code == 2 and f"{path}:" in check.output
        assert "malformed TOML" in check.output and check.output.count("\n") == 1
