#!/usr/bin/env python3
"""Drive the TUI in a real pseudo-terminal, as a user over SSH would, and keep what it drew.

    python benchmarks/gpu/tui_pty.py --out DIR [--size 80x24] [--keys SCRIPT] -- qtui run P --launch

Starts the command on a pty of the given size (TERM=xterm-256color), records every byte it
writes to DIR/screen.raw with DIR/screen.times (one "seconds offset" line per read), waits for
the app's alternate screen, then plays SCRIPT: space-separated steps, `5` waits 5 s, `key:c`
sends c (`key:space`, `key:enter` by name). After the script it waits for the command to exit
(`--exit-timeout`), and writes DIR/result.json (exit code, seconds to the app, the step times).
Render a moment afterwards with `python benchmarks/gpu/tui_screen.py DIR [SECONDS]`.
This is a hand-run procedure for the GPU machine (issue 10), not a test: its waits are sleeps.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

NAMED = {"space": " ", "enter": "\r", "escape": "\x1b", "tab": "\t"}
ALT_SCREEN = b"\x1b[?1049h"
DEFAULT_KEYS = "8 key:space 60 key:Q 40 key:c 5 key:f 5 key:g 5 key:m 3 key:q"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", default="80x24")
    ap.add_argument("--keys", default=DEFAULT_KEYS)
    ap.add_argument("--app-timeout", type=float, default=600, help="seconds to the app's screen")
    ap.add_argument("--exit-timeout", type=float, default=120)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    cols, rows = (int(x) for x in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    t0 = time.monotonic()
    raw = (args.out / "screen.raw").open("wb")
    times = (args.out / "screen.times").open("w")
    offset = 0
    seen_app: float | None = None
    steps: list[dict[str, object]] = []

    def pump(until: float) -> bool:
        """Copy output until `until` (monotonic) or EOF; False at EOF."""
        nonlocal offset, seen_app
        while (left := until - time.monotonic()) > 0:
            ready, _, _ = select.select([master], [], [], min(left, 0.2))
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                return False
            if not data:
                return False
            raw.write(data)
            offset += len(data)
            times.write(f"{time.monotonic() - t0:.3f} {offset}\n")
            if seen_app is None and ALT_SCREEN in data:
                seen_app = time.monotonic() - t0
        return True

    alive = True
    while alive and seen_app is None and time.monotonic() - t0 < args.app_timeout:
        alive = pump(time.monotonic() + 1)
    if seen_app is not None:
        for step in args.keys.split():
            if step.startswith("key:"):
                key = step[4:]
                os.write(master, NAMED.get(key, key).encode())
                steps.append({"t": round(time.monotonic() - t0, 3), "key": key})
            else:
                alive = pump(time.monotonic() + float(step))
            if not alive:
                break
    deadline = time.monotonic() + args.exit_timeout
    while proc.poll() is None and time.monotonic() < deadline:
        pump(time.monotonic() + 0.5)
    if proc.poll() is None:  # the app did not quit: stop it the way a closed SSH session would
        os.killpg(proc.pid, signal.SIGHUP)
        proc.wait(timeout=60)
    pump(time.monotonic() + 0.5)
    raw.close()
    times.close()
    result = {
        "command": cmd,
        "size": args.size,
        "exit_code": proc.returncode,
        "seconds_to_app": seen_app,
        "steps": steps,
        "seconds": round(time.monotonic() - t0, 3),
    }
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
