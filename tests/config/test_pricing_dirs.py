"""Where price tables are searched: --dir, $QTUI_PRICING_DIR, the user's overrides, shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.config.paths import pricing_dirs, shipped_pricing_dir, user_pricing_dir


def test_order_puts_the_user_dir_before_the_shipped_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("QTUI_PRICING_DIR", str(tmp_path / "env"))
    assert pricing_dirs([tmp_path / "cli"]) == [
        tmp_path / "cli",
        tmp_path / "env",
        tmp_path / "xdg" / "qtui" / "pricing",
        shipped_pricing_dir(),
    ]
    assert user_pricing_dir() == tmp_path / "xdg" / "qtui" / "pricing"
