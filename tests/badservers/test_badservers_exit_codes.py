"""`qtui bench`'s exit codes: one table (qtui.errors.BENCH_EXIT_CODES) in --help and the README,
and each code given by a run over real sockets (4, for an endpoint that completed nothing, is
tested against the issue's servers in test_badservers_bench.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from badhttp import Bad, Servers, servers
from click.testing import CliRunner

import qtui.load.engine as engine
from qtui.cli import cli
from qtui.errors import BENCH_EXIT_CODES

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def good() -> Iterator[str]:
    s: Servers
    with servers() as s:
        yield s.start(Bad())


def _profile(tmp_path: Path, url: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(
        f'[profile]\nname = "codes"\n[[endpoints]]\nname = "a"\nurl = "{url}"\n'
        'precision = "bf16"\n[workload]\ninput_tokens = { mean = 8 }\n'
        "output_tokens = { mean = 4 }\n[load]\nconcurrency = 2\n"
    )
    return p


def _bench(tmp_path: Path, url: str) -> tuple[int, str]:
    args = ["bench", str(_profile(tmp_path, url)), "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(cli, [*args, "--max-requests", "6"])
    return res.exit_code, res.stderr


def test_help_and_readme_state_the_one_table() -> None:
    help_text = CliRunner().invoke(cli, ["bench", "--help"]).output
    readme = README.read_text()
    assert [c for c, _ in BENCH_EXIT_CODES] == [0, 2, 4, 5]
    for code, what in BENCH_EXIT_CODES:
        assert f"    {code}  {what}\n" in help_text
        assert f"\n| {code} | " in readme


def test_all_good_is_0(tmp_path: Path, good: str) -> None:
    code, out = _bench(tmp_path, good)
    assert code == 0, out


def test_bad_input_is_2_in_one_line(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["bench", str(tmp_path / "missing.toml")])
    assert res.exit_code == 2 and "missing.toml" in res.output
    assert res.output.count("\n") == 1


def test_a_client_bound_run_is_5_and_keeps_its_records(
    tmp_path: Path, good: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "is_client_bound", lambda bound, seconds: True)
    code, out = _bench(tmp_path, good)
    assert code == 5, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("qtui: error: the client was the limit (a ") and "lower bounds" in last
    assert (tmp_path / "o" / "requests.csv").read_text().count("\n") == 7  # header + 6
