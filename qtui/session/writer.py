"""Record a session: callers append dicts (cheap, any thread); a thread journals them to disk."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from qtui.errors import QtuiError
from qtui.session.scrub import scrub, secret_values_from_env, to_plain
from qtui.session.store import new_header, read_journal, write_container

MAX_PENDING = 2_000_000
"""Records held in memory while the disk refuses writes (full disk); beyond it the oldest go."""


def _finite(value: Any) -> Any:
    """NaN and infinities as null, so the journal is strict JSON any tool can read."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


class SessionWriter:
    """Journal records to ``path`` (flushed and fsync'd every ``flush_interval_s``); finalise on
    ``close()``.

    ``append`` only takes a lock and appends to a list, so it is safe on the asyncio loop; the
    record dict belongs to the writer afterwards (do not mutate it). A killed process leaves a
    readable journal at ``path`` missing at most the last interval.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        profile: Any = None,
        price_tables: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
        secret_env: Iterable[str] = (),
        flush_interval_s: float = 0.5,
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        self.warnings: list[str] = []
        self.error: str | None = None
        self.dropped = 0
        envs = list(secret_env)
        if profile is not None:
            envs += [e.api_key_env for e in profile.endpoints if e.api_key_env]
        self._secrets = secret_values_from_env(envs)
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._buffer: list[tuple[str, Any]] = []
        self._pending: list[bytes] = []
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb" if overwrite else "xb", buffering=0)  # noqa: SIM115
        except FileExistsError:
            raise QtuiError(
                f"{self.path}: already exists; choose another session file name"
            ) from None
        except OSError as exc:
            raise QtuiError(f"{self.path}: cannot record a session here ({exc.strerror})") from None
        self._good_size = 0
        self.header = new_header(time.time(), dict(meta or {}))
        self._buffer.append(("header", self.header))
        if profile is not None:
            self._buffer.append(("profile", profile))
        for name, table in (price_tables or {}).items():
            self._buffer.append(("price_tables", {"name": name, "table": table}))
        self._drain()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qtui-session-writer", daemon=True)
        self._thread.start()

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, kind: str, record: Any) -> None:
        """Queue one record of ``kind`` (a dict, dataclass or pydantic model)."""
        with self._lock:
            if self._closed:
                raise QtuiError(f"{self.path}: session is closed; record not written")
            self._buffer.append((kind, record))

    def event(self, kind: str, key: str, value: Any = None, previous: Any = None) -> None:
        """Record a what-if, load change, warning or note, stamped now."""
        self.append(
            "event",
            {"t": time.time(), "kind": kind, "key": key, "value": value, "previous": previous},
        )

    def flush(self) -> None:
        """Write and fsync everything appended so far (the thread does this on its own too)."""
        self._drain()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self._drain()

    def _encode(self, kind: str, record: Any) -> bytes:
        body = record if isinstance(record, Mapping) else to_plain(record)
        if not isinstance(body, Mapping):
            body = {"value": body}
        clean = scrub({"k": kind, **body}, self._secrets)
        text = json.dumps(clean, separators=(",", ":"), default=str, allow_nan=True)
        if "NaN" in text or "Infinity" in text:
            text = json.dumps(_finite(json.loads(text)), separators=(",", ":"))
        return text.encode() + b"\n"

    def _drain(self) -> None:
        with self._io_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            for kind, record in batch:
                try:
                    self._pending.append(self._encode(kind, record))
                except (TypeError, ValueError) as exc:
                    self.warnings.append(f"{kind} record not serialisable ({exc}); skipped")
            if not self._pending:
                return
            data = b"".join(self._pending)
            try:
                view = memoryview(data)
                while view:
                    view = view[self._file.write(view) or 0 :]
                os.fsync(self._file.fileno())
            except OSError as exc:
                self._recover(exc)
                return
            self._good_size += len(data)
            self._pending.clear()
            self.error = None

    def _recover(self, exc: OSError) -> None:
        """Cut a partial write back to the last whole line; keep the lines to retry."""
        self.error = f"{self.path}: cannot write session ({exc.strerror or exc}); retrying"
        if self.error not in self.warnings:
            self.warnings.append(self.error)
        try:
            self._file.seek(self._good_size)
            self._file.truncate(self._good_size)
        except (OSError, ValueError):
            pass
        excess = len(self._pending) - MAX_PENDING
        if excess > 0:
            del self._pending[:excess]
            self.dropped += excess

    def close(self, *, finalise: bool = True) -> Path:
        """Stop the thread, write the footer, and (by default) finalise into the zip container.

        If finalising fails, the journal stays at ``path``, complete and readable.
        """
        with self._lock:
            if self._closed:
                return self.path
        self._stop.set()
        self._thread.join()
        self.append("footer", {"t": time.time(), "dropped": self.dropped})
        with self._lock:
            self._closed = True
        self._drain()
        try:
            self._file.close()
        except OSError as exc:
            self.error = self.error or f"{self.path}: {exc.strerror or exc}"
        if self._pending:
            raise QtuiError(
                f"{self.path}: {len(self._pending)} records could not be written ({self.error}); "
                "the journal holds everything before them"
            )
        if finalise:
            finalise_journal(self.path)
        return self.path


def finalise_journal(path: Path) -> Path:
    """Turn a journal (complete or cut short) into the compact zip container, in place."""
    header, by_kind, _ = read_journal(path)
    try:
        return write_container(path, header, by_kind)
    except OSError as exc:
        raise QtuiError(
            f"{path}: could not finalise the session ({exc.strerror or exc}); "
            "the journal is intact and readable as it is"
        ) from None
