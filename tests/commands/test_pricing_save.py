"""`qtui pricing save`: a user's price becomes a new table that `pricing list/show` find."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from qtui.cli import cli
from qtui.config.catalog import load_price_table
from qtui.config.paths import shipped_pricing_dir


def _cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "QTUI_PRICING_DIR": ""}
    res = CliRunner(env=env).invoke(cli, list(args))
    return res.exit_code, res.output


def test_saved_override_is_listed_and_used(tmp_path: Path) -> None:
    shipped = (shipped_pricing_dir() / "aws.toml").read_bytes()
    code, out = _cli(tmp_path, "pricing", "save", "aws", "--gpu", "H100", "--price", "2.5",
                     "--name", "negotiated")  # fmt: skip
    saved = tmp_path / "xdg" / "qtui" / "pricing" / "negotiated.toml"
    assert code == 0 and str(saved) in out
    code, out = _cli(tmp_path, "pricing", "list")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("negotiated"))
    assert str(saved) in line
    (row,) = load_price_table(str(saved)).rows_for("H100")
    assert row.usd_per_gpu_hour("on-demand") == 2.5
    assert (shipped_pricing_dir() / "aws.toml").read_bytes() == shipped  # never edited in place
    # saving again under the same name never overwrites
    code, out = _cli(tmp_path, "pricing", "save", "aws", "--gpu", "H100", "--price", "2.4",
                     "--name", "negotiated")  # fmt: skip
    assert code == 0 and "negotiated-2.toml" in out


def test_bad_price_and_gpu_are_one_line_each(tmp_path: Path) -> None:
    for args, why in (
        (["--gpu", "H100", "--price", "-3"], "must be > 0"),
        (["--gpu", "X100", "--price", "3"], "unknown GPU type 'X100'"),
        (
            ["--gpu", "H100", "--price", "3", "--category", "committed", "--discount", "100"],
            "below 100",
        ),
    ):
        code, out = _cli(tmp_path, "pricing", "save", "aws", *args)
        assert code == 2 and why in out and out.count("\n") == 1, out
    assert not (tmp_path / "xdg").exists()
