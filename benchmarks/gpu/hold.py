#!/usr/bin/env python3
"""Keep a profile's vLLM servers up across several device calls (run it under setsid).

Starts the servers exactly as `--launch` does (qtui.launch: same command lines, same process
code, same logs), but may start them all at once (`--parallel`), so three cold
torch.compile + CUDA-graph starts overlap instead of adding up: with
`--kv-cache-memory` set, vLLM 0.26 skips the memory profiling that parallel starts would
upset. Writes STATE (JSON: pids, urls, seconds to healthy, servers that failed) and stops
every server on SIGTERM.

    setsid nohup python3 benchmarks/gpu/hold.py PROFILE --state /root/run/servers.json \
        --logs /root/run/logs [--parallel] &
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.engines.server import ServerProcess
from qtui.errors import QtuiError
from qtui.launch.plan import plan
from qtui.launch.vllm import STOP_GRACE_S, refuse_unfit, start, wait_healthy


def write(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path)


def healthy(proc: ServerProcess, doc: dict[str, Any], t0: float, state: Path) -> None:
    """Wait for one server's /health; note when (seconds since the holder started) or why not.

    A server that dies is noted and the others stay up, so one precision vLLM cannot serve
    does not cost the rest of the run.
    """
    try:
        wait_healthy(proc, 3600, print, every_s=30)
    except QtuiError as exc:
        doc["servers"][proc.spec.name]["failed"] = str(exc)
        write(state, doc)
        print(f"hold: {exc}", flush=True)
        return
    at = round(time.monotonic() - t0, 1)
    doc["servers"][proc.spec.name]["healthy_at_s"] = at
    write(state, doc)
    print(f"hold: {proc.spec.name} healthy at {at:.0f} s", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile", type=Path)
    ap.add_argument("--state", type=Path, required=True)
    ap.add_argument("--logs", type=Path, required=True)
    ap.add_argument("--parallel", action="store_true", help="start all servers at once")
    args = ap.parse_args()
    servers = plan(load_model(args.profile, Profile))
    refuse_unfit(servers)
    env = {**os.environ, "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    doc: dict[str, Any] = {"holder_pid": os.getpid(), "ready": False, "servers": {}}
    started: list[ServerProcess] = []
    stop = {"now": False}

    def on_term(_sig: int, _frame: object) -> None:
        stop["now"] = True
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    t0 = time.monotonic()
    try:
        for s in servers:
            proc = start(s, args.logs, env)
            started.append(proc)
            doc["servers"][s.name] = {"pid": proc.proc.pid, "url": s.url,
                                      "started_at_s": round(time.monotonic() - t0, 1)}  # fmt: skip
            write(args.state, doc)
            print(f"hold: started {s.name} pid {proc.proc.pid}", flush=True)
            if not args.parallel:  # as --launch does: the next one starts once this is healthy
                healthy(proc, doc, t0, args.state)
        for proc in started:
            if not {"healthy_at_s", "failed"} & doc["servers"][proc.spec.name].keys():
                healthy(proc, doc, t0, args.state)
        doc["ready"] = True
        write(args.state, doc)
        while True:
            signal.pause()
    except BaseException as exc:  # SIGTERM (SystemExit) or a server that died
        doc["error"] = None if stop["now"] else repr(exc)
        raise
    finally:
        for proc in reversed(started):
            proc.stop(STOP_GRACE_S)
        doc["ready"], doc["stopped"] = False, True
        write(args.state, doc)
        print("hold: all servers stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
