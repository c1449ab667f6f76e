"""How the main and finance views look at 80x24 and 160x48 (deterministic fake feed)."""

from __future__ import annotations

import pytest

from qtui.live.fake import FakeFeed
from qtui.tui.app import QtuiApp


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("view", ["m", "f", "c"], ids=["main", "finance", "cost"])
def test_view_snapshot(snap_compare, size: tuple[int, int], view: str) -> None:  # type: ignore[no-untyped-def]
    app = QtuiApp(FakeFeed(n=4, dead=("int8",)))
    assert snap_compare(app, press=[view], terminal_size=size)
