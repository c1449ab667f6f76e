"""`qtui sim`: serve the profile's simulated endpoints on 127.0.0.1 until Ctrl-C / SIGTERM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qtui.config.paths import demo_profile


def run(
    profile: Path | None = None,
    port: int = 0,
    seed: int = 0,
    golden: Path | None = None,
    **_: Any,
) -> None:
    from qtui.errors import ConfigError
    from qtui.sim.server import main

    if golden is not None and not golden.is_file():
        raise ConfigError(f"--golden {golden}: no such file (give a golden-set JSONL)")
    main(profile or demo_profile(), port=port or 0, seed=seed, golden=golden)
