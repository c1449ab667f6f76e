"""One recorder: what a measurement produces, journalled in the same shapes whichever command
runs it — the live app's measurement process and `qtui bench` both record through this.

Each record goes to the session writer (when recording) and to ``sink(kind, row)``: the live
app's pipe to the view, or `qtui bench`'s CSV collector. Per-request records go to the session
(and to ``on_request``) only: the view never needs them one by one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from qtui.client.discovery import ServerInfo
from qtui.evidence.records import (
    Event,
    GpuSnapshot,
    RequestRecord,
    ServerSecond,
    Stats,
    gpu_records,
)
from qtui.load.slo import LevelResult
from qtui.metrics.rolling import RollingLatency
from qtui.session import rows

Sink = Callable[[str, dict[str, Any]], None]


def _drop(_kind: str, _row: dict[str, Any]) -> None:
    """Default sink: nobody but the session file."""


class Recorder:
    """Journals one run's records; ``writer`` may be None (not recording: the sink only)."""

    def __init__(
        self,
        writer: Any,
        endpoints: Iterable[str],
        sink: Sink = _drop,
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        self.writer = writer
        self.endpoints = tuple(endpoints)
        self.sink = sink
        self.on_request = on_request
        self.local: list[str] = []  # endpoints whose GPUs this host's NVML samples as a whole
        self._rolling = {name: RollingLatency() for name in self.endpoints}
        self._lock = threading.Lock()  # GPU samples arrive on the sampler's thread

    def _out(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        if self.writer is not None:
            self.writer.append(kind, row)
        self.sink(kind, row)
        return row

    # -- what a run produces ---------------------------------------------------------------
    def discovery(
        self, name: str, info: ServerInfo | None, error: str = "", warning: str = ""
    ) -> dict[str, Any]:
        """What the endpoint said about itself (``error`` when nothing answered)."""
        row: dict[str, Any] = {"endpoint": name} if info is None else rows.discovery(name, info)
        row["t"] = time.time()
        if error:
            row["error"] = error
        if warning:
            row["warning"] = warning
        return self._out("discovery", row)

    def request(self, rec: RequestRecord) -> None:
        """A finished (or failed, or cancelled) request: session only."""
        if (rolling := self._rolling.get(rec.endpoint)) is not None:
            rolling.add(rec)
        if self.writer is not None:
            self.writer.append("request", rec)
        if self.on_request is not None:
            self.on_request(rec)

    def second(self, st: Stats, level: float | None, client_bound: bool) -> dict[str, Any]:
        """One endpoint's 1 s client window, with its level and the 10 s latency window."""
        row = rows.client_second(st, level, client_bound)
        if (rolling := self._rolling.get(st.endpoint)) is not None:
            row.update(rolling.roll())
        return self._out("client_second", row)

    def server(self, ss: ServerSecond) -> None:
        self._out("server_second", ss.to_dict())

    def gpu(self, key: str, snap: GpuSnapshot) -> None:
        """A telemetry snapshot (sampler thread): the rows of the endpoints it stands for."""
        names = [key] if key in self.endpoints else self.local or list(self.endpoints)
        whole = [r for r in gpu_records(snap) if r["endpoint"] is None] if snap.gpus else []
        with self._lock:  # the endpoints' rows, then each GPU no endpoint has as its own
            for rec in rows.gpu_samples(snap, names) + whole:
                self._out("gpu_sample", rec)

    def levels(self, name: str, levels: Iterable[LevelResult], mode: str) -> None:
        """A sweep's finished steps (a held load's evidence is its seconds: no rows)."""
        if mode != "sweep":
            return
        for lv in levels:
            self._out("sweep_level", rows.sweep_level_row(name, lv))

    def search_failed(self, name: str, why: str, text: str, what: str = "endpoint failed") -> None:
        """A search stopped mid-way (``what``: the endpoint failed, or client-bound): the
        ``load``/``search_failed`` event the capacity rule reads (its kept bracket says so)."""
        value = {"endpoint": name, "why": why, "text": text, "what": what}
        self.event("load", "search_failed", value, view=True)

    def event(self, kind: str, key: str, value: Any, *, view: bool = False) -> dict[str, Any]:
        """An event (load changes, warnings, errors, notes); ``view``: the app needs it too."""
        ev = Event(time.time(), kind, key, value).to_dict()
        if self.writer is not None:
            self.writer.append("event", dict(ev))
        if view:
            self.sink("event", ev)
        return ev

    def quality_item(self, rec: Any) -> None:
        if self.writer is not None:
            self.writer.append("quality_item", rec)

    def quality_summary(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return self._out("quality_summary", {**doc, "t": doc.get("t") or time.time()})
