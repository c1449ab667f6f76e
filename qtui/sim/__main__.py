"""`python -m qtui.sim --profile FILE [--port N] [--seed N] [--golden FILE] [--write-cost-us US]`:
the simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qtui.errors import QtuiError


def _positive(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{raw!r}: expected microseconds per write > 0")
    return value


def _cli(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qtui.sim", description=__doc__)
    ap.add_argument("--profile", type=Path, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--golden", type=Path, default=None)
    ap.add_argument(
        "--write-cost-us",
        type=_positive,
        default=None,
        help="a fixed CPU cost per stream write for the pacer (benchmarks): chunk sizes then "
        "depend on the live streams alone; default: measured",
    )
    args = ap.parse_args(argv)
    from qtui.sim.server import main

    try:
        main(args.profile, args.port, args.seed, args.golden, args.write_cost_us)
    except QtuiError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
