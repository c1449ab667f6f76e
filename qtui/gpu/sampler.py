"""Runs telemetry sources in a background thread so blocking NVML/HTTP never touches the UI loop."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Mapping

from qtui.evidence.records import GpuSnapshot, SourceKind
from qtui.gpu.source import TelemetrySource

Deliver = Callable[[str, GpuSnapshot], None]


def safe_sample(source: TelemetrySource, kind: str = "none") -> GpuSnapshot:
    """A source that raises anyway becomes an "error" snapshot: the sampler thread never dies."""
    try:
        return source.sample()
    except Exception as exc:
        k = str(getattr(source, "kind", kind))
        src: SourceKind = k if k in ("nvml", "dcgm", "nvitop") else "none"  # type: ignore[assignment]
        detail = f"telemetry source failed: {type(exc).__name__}: {exc}"
        return GpuSnapshot(src, time.time(), "error", detail)


class TelemetrySampler:
    """Samples every source at ``rate_hz`` in one daemon thread; results go to a callback or queue.

    From Textual, pass ``on_snapshot=lambda key, snap: app.call_from_thread(handler, key, snap)``,
    or poll ``get_nowait()`` / ``latest()`` from a ``set_interval`` timer.
    """

    def __init__(
        self,
        sources: Mapping[str, TelemetrySource],
        *,
        rate_hz: float = 2.0,
        on_snapshot: Deliver | None = None,
        maxsize: int = 256,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError("rate_hz must be positive")
        self._sources = dict(sources)
        self._interval = 1.0 / rate_hz
        self._deliver = on_snapshot
        self._queue: queue.Queue[tuple[str, GpuSnapshot]] = queue.Queue(maxsize=maxsize)
        self._latest: dict[str, GpuSnapshot] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def interval_s(self) -> float:
        return self._interval

    def start(self) -> TelemetrySampler:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="qtui-gpu-sampler", daemon=True)
            self._thread.start()
        return self

    def sample_once(self) -> dict[str, GpuSnapshot]:
        """Sample every source now, in the caller's thread, and deliver the results."""
        out: dict[str, GpuSnapshot] = {}
        for key, src in self._sources.items():
            if self._stop.is_set() and self._thread is not None:
                break
            snap = safe_sample(src)
            out[key] = snap
            self._publish(key, snap)
        return out

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.sample_once()
            next_at += self._interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (slow source): skip missed ticks instead of bursting
                next_at = time.monotonic()
                delay = 0.0
            self._stop.wait(delay)

    def _publish(self, key: str, snap: GpuSnapshot) -> None:
        with self._lock:
            self._latest[key] = snap
        if self._deliver is not None:
            with contextlib.suppress(Exception):  # a broken consumer must not stop sampling
                self._deliver(key, snap)
            return
        while True:
            try:
                self._queue.put_nowait((key, snap))
                return
            except queue.Full:  # keep the newest: drop the oldest
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def get(self, timeout: float | None = None) -> tuple[str, GpuSnapshot]:
        """Next (source key, snapshot) from the queue (blocks up to ``timeout``)."""
        return self._queue.get(timeout=timeout)

    def get_nowait(self) -> tuple[str, GpuSnapshot] | None:
        """Next queued snapshot, or None."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def latest(self) -> dict[str, GpuSnapshot]:
        """The most recent snapshot per source key."""
        with self._lock:
            return dict(self._latest)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread, wait for it, and close every source."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for src in self._sources.values():
            with contextlib.suppress(Exception):
                src.close()

    def __enter__(self) -> TelemetrySampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
