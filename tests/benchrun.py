"""`qtui bench` in tests that check something other than the client-bound rule.

On a busy test machine (2 cores shared by the simulator, the client and pytest) the client can
find one of its own seconds late and `qtui bench` then ends with exit 5 (``ClientBound``) after
writing every file. The rule itself is tested in tests/evidence and
tests/badservers/test_badservers_exit_codes.py; elsewhere a run that finished either way counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qtui.commands import bench
from qtui.errors import ClientBound

FINISHED = (0, ClientBound.exit_code)  # `qtui bench` exit codes after which everything is written


def bench_to_end(profile: Path, out: Path = Path("qtui-out"), **kw: Any) -> dict[str, Any]:
    """`qtui.commands.bench.run`, its summary also when it ends client-bound."""
    try:
        return bench.run(profile, out, **kw)
    except ClientBound:
        return dict(json.loads((out / "summary.json").read_text()))


# Two simulated SmolLM2-135M endpoints, bf16 and fp8, no telemetry: profiles of the bench tests.
SMOL_BF16_FP8 = """
[[endpoints]]
name = "bf16"
precision = "bf16"
telemetry = "none"
[endpoints.simulate]
model = "smollm2-135m"

[[endpoints]]
name = "fp8"
precision = "fp8"
telemetry = "none"
[endpoints.simulate]
model = "smollm2-135m"
weights = "fp8"
"""
