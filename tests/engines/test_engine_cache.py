"""Cache location and file hashing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qtui.engines.cache import cache_dir, cpu_fingerprint, sha256_file


def test_cache_dir_prefers_explicit_then_xdg_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QTUI_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("QTUI_CACHE_DIR")
    assert cache_dir() == tmp_path / "xdg" / "qtui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "qtui"


def test_sha256_file_reads_in_chunks(tmp_path: Path) -> None:
    data = b"gguf" * 1000
    path = tmp_path / "m.gguf"
    path.write_bytes(data)
    assert sha256_file(path, chunk=7) == hashlib.sha256(data).hexdigest()


def test_cpu_fingerprint_depends_on_the_instruction_set_only() -> None:
    a = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\nprocessor\t: 1\n"
    same = "model name\t: other\nflags\t\t: avx512f avx2 sse fpu\n"
    older = "flags\t\t: fpu sse avx2\n"
    assert cpu_fingerprint(a) == cpu_fingerprint(same)
    assert cpu_fingerprint(a) != cpu_fingerprint(older)
    assert len(cpu_fingerprint(a)) == 12
    assert cpu_fingerprint("") == cpu_fingerprint("no flags here")  # falls back to the machine
