#!/usr/bin/env python3
"""`vllm bench serve`, imported once and run many times: the peer side of vllm_peer.py --repeat.

A fresh `vllm bench serve` process spends 25-50 s importing vLLM before it sends a request, which
made alternating short qtui / peer windows too costly on the GPU machine. This process imports
`vllm.benchmarks.serve` once, prints `ready`, then for every line on stdin (a JSON list: the
arguments after `vllm bench serve`) runs vLLM's own `main(args)` - the function the CLI calls -
with its printout sent to the log named by `--result-dir`/<filename>.log, and answers one JSON
line `{"rc": 0|1, "error": ...}` on stdout. EOF ends it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from pathlib import Path


def main() -> int:
    reply = sys.stdout
    sys.stdout = sys.stderr  # vLLM prints; only our answers go to the real stdout
    from vllm.benchmarks.serve import add_cli_args
    from vllm.benchmarks.serve import main as bench_main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    print("ready", file=reply, flush=True)
    for line in sys.stdin:
        argv = json.loads(line)
        parser = FlexibleArgumentParser(prog="vllm bench serve")
        add_cli_args(parser)
        args = parser.parse_args(argv)
        log = Path(args.result_dir) / f"{Path(args.result_filename).stem}.log"
        answer: dict[str, object] = {"rc": 0}
        with log.open("w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
            try:
                bench_main(args)
            except Exception as e:  # reported to the driver, which goes on
                traceback.print_exc()
                answer = {"rc": 1, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(answer), file=reply, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
