from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).with_name("fake_vllm.py")


@pytest.fixture
def fake_vllm(tmp_path: Path) -> Path:
    """An executable `vllm` that runs tests/launch/fake_vllm.py with this interpreter."""
    exe = tmp_path / "bin" / "vllm"
    exe.parent.mkdir()
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe
