#!/usr/bin/env python3
"""The screen tui_pty.py's recording showed at a moment, as plain text (needs `pip install pyte`).

python benchmarks/gpu/tui_screen.py DIR [SECONDS ...]   (default: just before each key press)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def screen_at(root: Path, seconds: float) -> str:
    import pyte

    cols, rows = (int(x) for x in json.loads((root / "result.json").read_text())["size"].split("x"))
    end = 0
    for line in (root / "screen.times").read_text().splitlines():
        t, off = line.split()
        if float(t) > seconds:
            break
        end = int(off)
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    stream.feed((root / "screen.raw").read_bytes()[:end])
    return "\n".join(line.rstrip() for line in screen.display)


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    result = json.loads((root / "result.json").read_text())
    moments = [float(a) for a in argv[1:]] or [
        float(s["t"]) - 0.05 for s in result["steps"]
    ]  # fmt: skip
    for t in moments:
        print(f"--- {t:.1f} s ---")
        print(screen_at(root, t))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
