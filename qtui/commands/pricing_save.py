"""`qtui pricing save BASE --gpu G --price P`: your price as a new table in the user pricing dir."""

from __future__ import annotations

import time
from pathlib import Path

from qtui.config.catalog import load_price_table
from qtui.config.profile import _check_gpu
from qtui.cost.overrides import (
    PriceOverride,
    default_name,
    override_table,
    save_price_table,
    user_pricing_dir,
)
from qtui.errors import ConfigError


def run(
    base: str,
    gpu: str,
    price: float,
    category: str = "on-demand",
    discount: float = 0.0,
    name: str | None = None,
    directory: Path | None = None,
) -> Path:
    """Write BASE with GPU at PRICE $/GPU-hour as ``<name>.toml``; the shipped file is untouched."""
    try:
        _check_gpu(gpu)
    except ValueError as exc:
        raise ConfigError(f"--gpu: {exc}") from None
    if not 0 <= discount < 100:
        raise ConfigError(f"--discount {discount:g}: must be at least 0 and below 100 (%)")
    table = load_price_table(base)
    now = time.time()
    new = override_table(base, table, [PriceOverride(gpu, category, price, discount)], now)
    return save_price_table(new, name or default_name(base, now), directory or user_pricing_dir())
