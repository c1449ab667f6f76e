"""Shared synthetic sessions (generated once per test session: deterministic and small)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.session.synth import write_synthetic_session


@pytest.fixture(scope="session")
def synth_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "synth.qtsession"
    return write_synthetic_session(path, endpoints=3, minutes=1, quality_items=60)


@pytest.fixture(scope="session")
def synth_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "synth-journal.qtsession"
    return write_synthetic_session(path, endpoints=3, minutes=1, quality_items=60, finalise=False)
