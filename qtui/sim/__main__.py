"""`python -m qtui.sim --profile FILE [--port N] [--seed N] [--golden FILE]`: the simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qtui.errors import QtuiError


def _cli(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qtui.sim", description=__doc__)
    ap.add_argument("--profile", type=Path, required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--golden", type=Path, default=None)
    args = ap.parse_args(argv)
    from qtui.sim.server import main

    try:
        main(args.profile, args.port, args.seed, args.golden)
    except QtuiError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
