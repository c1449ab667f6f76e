import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from benchrun import FINISHED
from click.testing import CliRunner
from fakevllm import Behaviour, FakeServer, refused_url

from qtui.cli import cli


@pytest.fixture
def server() -> Iterator[tuple[str, Behaviour]]:
    """A fake vLLM on its own thread and loop, so the CLI can run its own asyncio.run."""
    b = Behaviour()
    ready = threading.Event()
    box: dict[str, object] = {}

    def serve() -> None:
        async def main() -> None:
            async with FakeServer(b) as url:
                box["url"] = url
                box["stop"] = asyncio.Event()
                box["loop"] = asyncio.get_running_loop()
                ready.set()
                await box["stop"].wait()  # type: ignore[attr-defined]

        asyncio.run(main())

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    ready.wait(10)
    yield str(box["url"]), b
    box["loop"].call_soon_threadsafe(box["stop"].set)  # type: ignore[attr-defined]
    t.join(10)


def test_scrape_prints_json(server: tuple[str, Behaviour]) -> None:
    res = CliRunner().invoke(cli, ["scrape", server[0]])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["model_names"] == ["fake-model"] and data["generation_tokens"] == 0.0


def test_scrape_unreachable_is_one_line_exit_2() -> None:
    res = CliRunner().invoke(cli, ["scrape", refused_url()])
    assert res.exit_code == 2 and "unreachable" in res.output
    assert res.output.count("\n") == 1


def test_bench_writes_records_series_summary(server: tuple[str, Behaviour], tmp_path: Path) -> None:
    url, b = server
    prof = tmp_path / "p.toml"
    prof.write_text(
        f'[profile]\nname = "t"\n[[endpoints]]\nname = "a"\nurl = "{url}"\nprecision = "bf16"\n'
        "[workload]\ninput_tokens = { mean = 8 }\noutput_tokens = { mean = 4 }\n"
        "[load]\nconcurrency = 3\n"
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["bench", str(prof), "--out", str(out), "--max-requests", "9"])
    assert res.exit_code in FINISHED, res.output
    recs = pl.read_parquet(out / "requests.parquet")
    assert recs.height == 9 and recs["completion_tokens"].sum() == b.served["generation"] == 36
    assert (out / "requests.csv").read_text().count("\n") == 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["endpoints"]["a"]["summary"]["requests"] == 9
    assert (out / "client_seconds.csv").exists() and (out / "server_seconds.csv").exists()


@pytest.mark.parametrize(
    ("load_toml", "flags"), [("processes = 2\n", []), ("", ["--processes", "2"])],
    ids=["profile", "flag"],
)  # fmt: skip
def test_bench_spreads_load_over_worker_processes(
    server: tuple[str, Behaviour], tmp_path: Path, load_toml: str, flags: list[str]
) -> None:
    url, b = server
    prof = tmp_path / "p.toml"
    prof.write_text(
        f'[profile]\nname = "t"\n[[endpoints]]\nname = "a"\nurl = "{url}"\nprecision = "bf16"\n'
        "[workload]\ninput_tokens = { mean = 8 }\noutput_tokens = { mean = 4 }\n"
        f"[load]\nconcurrency = 4\n{load_toml}"
    )
    out = tmp_path / "out"
    args = ["bench", str(prof), "--out", str(out), "--max-requests", "10", *flags]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in FINISHED, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["load_processes"] == 2 and summary["load_hosts"] is None
    recs = pl.read_parquet(out / "requests.parquet")
    assert recs.height == 10 and recs["request_id"].n_unique() == 10
    assert recs["completion_tokens"].sum() == b.served["generation"] == 40


def test_bench_rejects_zero_processes(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["bench", str(tmp_path / "p.toml"), "--processes", "0"])
    assert res.exit_code == 2 and "--processes" in res.output
