"""Where shipped profiles and price tables live (repo checkout or installed wheel)."""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent


def _shipped(kind: str) -> Path:
    bundled = _PKG / "bundled" / kind
    return bundled if bundled.is_dir() else _PKG.parent / kind


def shipped_pricing_dir() -> Path:
    return _shipped("pricing")


def shipped_profiles_dir() -> Path:
    return _shipped("profiles")


def user_pricing_dir() -> Path:
    """Where qtui saves price overrides: $XDG_CONFIG_HOME/qtui/pricing (~/.config/qtui/pricing)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "qtui" / "pricing"


def pricing_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Directories searched for price tables, first wins: --dir, $QTUI_PRICING_DIR, the user's
    saved overrides (user_pricing_dir), then the shipped tables."""
    dirs = list(extra or [])
    env = os.environ.get("QTUI_PRICING_DIR")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.append(user_pricing_dir())
    dirs.append(shipped_pricing_dir())
    return dirs


def demo_profile() -> Path:
    return shipped_profiles_dir() / "demo.toml"
