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


def pricing_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Directories searched for price tables: user-named first, then the shipped ones."""
    dirs = list(extra or [])
    env = os.environ.get("QTUI_PRICING_DIR")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.append(shipped_pricing_dir())
    return dirs


def demo_profile() -> Path:
    return shipped_profiles_dir() / "demo.toml"
