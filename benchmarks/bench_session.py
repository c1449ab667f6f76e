"""Session benchmark: a one-hour, 4-endpoint session — write, finalise, open for replay, report.

Run by hand: ``python benchmarks/bench_session.py [--rate 1.0] [--minutes 60] [--keep DIR]``.
The target (issue 9): opening a finalised one-hour session at 4 endpoints for replay < 2 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from qtui.session import load_session
from qtui.session.report import write_report
from qtui.session.summary import summarize
from qtui.session.synth import write_synthetic_session
from qtui.session.writer import finalise_journal


def timed(label: str, fn: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    out = fn()
    print(f"{label:48} {time.perf_counter() - t:7.3f} s")
    return out


def open_for_replay(path: Path) -> dict[str, int]:
    """What replay needs up front: every per-second series and the request timeline."""
    s = load_session(path)
    series = pl.collect_all(
        [s.table(k) for k in ("client_second", "server_second", "gpu_sample", "sweep_level")]
        + [s.table("request").select(pl.exclude("chunk_times"))]
    )
    return {"rows": sum(f.height for f in series)}


def replay_feed(path: Path) -> Any:
    """What `qtui replay` builds before the first frame."""
    from qtui.live.replay import ReplayFeed

    now = [0.0]
    feed = ReplayFeed(load_session(path), speed=60, clock=lambda: now[0])
    feed.clock_box = now  # type: ignore[attr-defined]
    return feed


def play_to_end(feed: Any) -> Any:
    feed.clock_box[0] = 1e9
    return feed.snapshot()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--endpoints", type=int, default=4)
    ap.add_argument("--rate", type=float, default=1.0, help="steady req/s per endpoint")
    ap.add_argument("--keep", type=Path, help="keep the files in this directory")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="qtui-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    path = work / "bench.qtsession"
    path.unlink(missing_ok=True)
    kw = {"endpoints": args.endpoints, "minutes": args.minutes, "rate": args.rate}
    timed(
        "generate + journal (fsync'd JSON lines)",
        lambda: write_synthetic_session(path, finalise=False, **kw),
    )
    journal_mb = path.stat().st_size / 1e6
    timed("open the journal (crash recovery path)", lambda: load_session(path))
    timed("finalise journal -> zip + parquet", lambda: finalise_journal(path))
    final_mb = path.stat().st_size / 1e6
    s = load_session(path)
    counts = {k: s.frame(k).height for k in s.tables}
    timed("load_session (finalised)", lambda: load_session(path))
    info = timed("open for replay (series + request timeline)", lambda: open_for_replay(path))
    feed = timed("qtui replay: ReplayFeed(load_session(path))", lambda: replay_feed(path))
    timed("qtui replay: play to the end (every record in)", lambda: play_to_end(feed))
    timed("collect everything incl. chunk_times", lambda: [s.frame(k) for k in s.tables])
    timed("summarize (per-endpoint figures)", lambda: summarize(load_session(path)))
    timed("qtui report (md + html + 2 csv)", lambda: write_report([path], work / "report"))
    print(f"journal {journal_mb:.1f} MB -> finalised {final_mb:.1f} MB; rows: {counts}")
    print(f"replay rows loaded: {info['rows']:,}; files in {work}")


if __name__ == "__main__":
    main()
