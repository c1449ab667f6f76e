"""Regenerate sessions/demo-llama8b-sim.qtsession: `qtui bench profiles/demo.toml --quality`.

Runs the real command against qtui's simulator (started by bench for the simulated endpoints) on
127.0.0.1, then copies the recorded session into sessions/. Usage:

    python tools/record_demo_session.py [--step-s 8] [--out sessions/demo-llama8b-sim.qtsession]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from qtui.cli import cli

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 1_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step-s", type=float, default=8.0, help="seconds per sweep step")
    ap.add_argument("--out", type=Path, default=ROOT / "sessions" / "demo-llama8b-sim.qtsession")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cli.main(
            [
                "bench", str(ROOT / "profiles" / "demo.toml"), "--quality", "--mode", "sweep",
                "--duration", f"{args.step_s:g}", "--out", tmp,
            ],
            standalone_mode=False,
        )  # fmt: skip
        (session,) = Path(tmp).glob("*.qtsession")
        size = session.stat().st_size
        if size > MAX_BYTES:
            raise SystemExit(
                f"{session.name}: {size:,} bytes > {MAX_BYTES:,}; use a shorter --step-s"
            )
        shutil.copyfile(session, args.out)
    print(f"wrote {args.out} ({size:,} bytes)")


if __name__ == "__main__":
    main()
