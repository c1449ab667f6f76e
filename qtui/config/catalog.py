"""Find and load price tables by name across the pricing directories."""

from __future__ import annotations

from pathlib import Path

from qtui.config.load import load_model
from qtui.config.paths import pricing_dirs
from qtui.config.pricing import PriceTable
from qtui.errors import ConfigError


def list_price_tables(extra_dirs: list[Path] | None = None) -> dict[str, Path]:
    """Table name → file; a user's table shadows a shipped one of the same name."""
    found: dict[str, Path] = {}
    for d in reversed(pricing_dirs(extra_dirs)):
        if d.is_dir():
            for f in sorted(d.glob("*.toml")):
                found[f.stem] = f
    return dict(sorted(found.items()))


def load_price_table(name_or_path: str, extra_dirs: list[Path] | None = None) -> PriceTable:
    """Load a table by name (``aws``) or by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load_model(path, PriceTable)
    tables = list_price_tables(extra_dirs)
    if name_or_path not in tables:
        known = ", ".join(tables) or "none"
        raise ConfigError(f"price table {name_or_path!r} not found (known: {known})")
    return load_model(tables[name_or_path], PriceTable)
