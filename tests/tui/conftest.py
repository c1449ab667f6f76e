"""Shared fixtures for the app's tests."""

from __future__ import annotations

import pytest

from qtui.live.fake import FakeFeed
from qtui.tui.app import QtuiApp


@pytest.fixture
def fake() -> FakeFeed:
    return FakeFeed(n=3)


@pytest.fixture
def app(fake: FakeFeed) -> QtuiApp:
    return QtuiApp(fake)
