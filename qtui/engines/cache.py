"""Where provisioned engines, wheels and models are kept between runs (CI caches this folder)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_dir() -> Path:
    """`$QTUI_CACHE_DIR`, else `$XDG_CACHE_HOME/qtui`, else `~/.cache/qtui`."""
    explicit = os.environ.get("QTUI_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "qtui"


def cpu_fingerprint(cpuinfo: str | None = None) -> str:
    """Short hash of this CPU's instruction-set flags.

    llama.cpp builds for the CPU it is compiled on (AVX-512 here): a wheel built on one machine
    can die with SIGILL on another, so built engines are cached per fingerprint.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    flags = next(
        (line.split(":", 1)[1] for line in cpuinfo.splitlines() if line.startswith("flags")), ""
    )
    ident = " ".join(sorted(flags.split())) or f"{platform.machine()} {platform.processor()}"
    return hashlib.sha256(ident.encode()).hexdigest()[:12]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks (model files are hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock file so two test runs never build into the same cache at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
