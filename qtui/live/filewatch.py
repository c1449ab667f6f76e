"""The files the app read at its start (the profile, the price tables it prices with): an edit
while it runs is not taken up. A thread looks at them every second; when one changed, it reads it
again and says in one line whether it is still readable, and what to do (measuring goes on)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from qtui.config.catalog import list_price_tables
from qtui.config.load import load_model
from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.errors import QtuiError

Reader = Callable[[Path], object]  # reads and checks one file; QtuiError (one line) if bad
KEPT = "qtui goes on with what it read at the start"


def changed_line(path: Path, read: Reader) -> str:
    """The line for a file edited while the app runs (reads it: call off the UI loop)."""
    try:
        read(path)
    except QtuiError as exc:
        return f"{exc}; {KEPT}: fix the file before the next start"
    except OSError as exc:
        return f"{path}: cannot be read ({exc.strerror or exc}); {KEPT}: restore it"
    return f"{path} changed; {KEPT}: start qtui again to use the edit"


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class FileWatch:
    """Calls ``on_change(line)`` once per edit of any of ``files`` (path → its reader)."""

    def __init__(
        self, files: Mapping[Path, Reader], on_change: Callable[[str], None], every_s: float = 1.0
    ) -> None:
        self._files = dict(files)
        self._on_change = on_change
        self._every_s = every_s
        self._stamps: dict[Path, tuple[int, int] | None] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> FileWatch:
        if self._files:
            self._stamps = {p: _stamp(p) for p in self._files}  # as read at the start
            self._thread = threading.Thread(target=self._loop, name="qtui-files", daemon=True)
            self._thread.start()
        return self

    def check(self) -> None:
        for path, read in self._files.items():
            now = _stamp(path)
            if now != self._stamps.get(path):
                self._stamps[path] = now
                self._on_change(changed_line(path, read))

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stopping.wait(self._every_s):
            self.check()


def watched_files(profile: Profile, profile_path: Path | None) -> dict[Path, Reader]:
    """The profile file and the files of the price tables it names (lists a directory)."""

    def read_profile(p: Path) -> object:
        return load_model(p, Profile)

    def read_table(p: Path) -> object:
        return load_model(p, PriceTable)

    files: dict[Path, Reader] = {profile_path: read_profile} if profile_path else {}
    tables = list_price_tables()
    names = {profile.cost.price_table} | {e.price_table for e in profile.endpoints if e.price_table}
    for name in sorted(n for n in names if n):
        path = Path(name) if name.endswith(".toml") else tables.get(name)
        if path is not None:
            files[path] = read_table
    return files
