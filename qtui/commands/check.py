"""`qtui check FILE`: validate a profile, a price table or a session by what it contains."""

from __future__ import annotations

from pathlib import Path

from qtui.config.load import load_model, read_toml
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.errors import ConfigError
from qtui.quality.floor import FLOOR_HINT


def check_file(path: Path) -> str:
    """Validate ``path`` and return a one-line summary; raise ConfigError when invalid."""
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if path.suffix == ".toml":
        data = read_toml(path)
        if "table" in data or "rows" in data:
            table = load_model(path, PriceTable)
            return f"{path}: ok (price table, {table.table.provider}, {len(table.rows)} rows)"
        profile = load_model(path, Profile)
        hint = (
            ""
            if profile.slo.quality.is_set
            else f"; no quality floor set: quality stays NOT DECIDED; add {FLOOR_HINT}"
        )
        return (
            f"{path}: ok (profile {profile.profile.name!r}, {len(profile.endpoints)} endpoints)"
            + hint
        )
    try:
        from qtui.session import check as session_check
    except ImportError:
        raise ConfigError(f"{path}: session files cannot be checked yet") from None
    return session_check.check_session(path)
