"""Outages: spans in which an endpoint answered nothing but errors (pure).

An endpoint that dies and comes back on the same URL is measured again (its users back off while
it is down and get full load at the first success); the record names the span between. Requests
in time order of sending: an outage is a run of at least MIN_ERRORS consecutive failed requests
(errors; requests qtui cancelled are neither) lasting at least MIN_S, with no success among them.
It starts when its first failed request was sent and ends when the first request that succeeded
after it was sent (the server answered again), or, when none did, at its last error's end
("not recovered").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from qtui.evidence.accounting import CANCELLED, OK

MIN_ERRORS = 2
MIN_S = 1.0


@dataclass(frozen=True, slots=True)
class Outage:
    """One span of errors: when, how long, how many by class, whether it ended."""

    start: float  # epoch s
    end: float
    errors: int
    by_class: tuple[tuple[str, int], ...] = field(default=())
    recovered: bool = True

    @property
    def duration_s(self) -> float:
        return self.end - self.start


def outages(
    requests: Iterable[tuple[float, float, str]], min_errors: int = MIN_ERRORS, min_s: float = MIN_S
) -> list[Outage]:
    """The outages among ``(t_send, t_end, error_class)`` of one endpoint's requests."""
    found: list[Outage] = []
    run: list[tuple[float, float, str]] = []

    def close(end: float | None) -> None:
        if len(run) >= min_errors:
            stop = end if end is not None else max(t for _, t, _ in run)
            if stop - run[0][0] >= min_s:
                counts: dict[str, int] = {}
                for _, _, cls in run:
                    counts[cls] = counts.get(cls, 0) + 1
                kinds = tuple(sorted(counts.items()))
                found.append(Outage(run[0][0], stop, len(run), kinds, end is not None))
        run.clear()

    for req in sorted(requests):
        cls = req[2] or OK
        if cls == CANCELLED:
            continue
        if cls == OK:
            close(req[0])
        else:
            run.append(req)
    close(None)
    return found


def outage_text(endpoint: str, o: Outage) -> str:
    """The record's words: 'b: no request completed for 6.1 s (14:02:03–14:02:09 UTC): 12
    errors (connect 12); measured again after'."""
    hms = [datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S") for t in (o.start, o.end)]
    kinds = ", ".join(f"{c} {n}" for c, n in o.by_class)
    after = "measured again after" if o.recovered else "not recovered by the end of the run"
    return (
        f"{endpoint}: no request completed for {o.duration_s:.1f} s ({hms[0]}–{hms[1]} UTC): "
        f"{o.errors} errors ({kinds}); {after}"
    )


HORIZON_S = 60.0  # a request sent longer ago than this has ended (stall and TTFT limits are less)


class OutageLog:
    """One endpoint's requests as they end, kept small for a live view: its outages are
    ``outages()`` of what is kept. Older than HORIZON_S, a success right after another (in
    order of sending) is dropped: only the first success after errors ends an outage."""

    def __init__(self, horizon_s: float = HORIZON_S) -> None:
        self.horizon_s = horizon_s
        self._kept: list[tuple[float, float, str]] = []
        self._recent: list[tuple[float, float, str]] = []
        self._errors = 0

    def add(self, t_send: float, t_end: float, error_class: str) -> None:
        cls = error_class or OK
        if cls == CANCELLED:
            return
        self._errors += cls != OK
        self._recent.append((t_send, t_end, cls))

    def spans(self, now: float) -> list[Outage]:
        """The outages so far (none without an error: no work)."""
        if not self._errors:
            self._recent = [r for r in self._recent if r[0] >= now - self.horizon_s]
            return []
        cut = now - self.horizon_s
        old = [r for r in self._recent if r[0] < cut]
        if old:
            self._recent = [r for r in self._recent if r[0] >= cut]
            merged = sorted(self._kept + old)
            self._kept = [
                r for i, r in enumerate(merged) if r[2] != OK or i == 0 or merged[i - 1][2] != OK
            ]
        return outages(self._kept + self._recent)


def live_text(spans: list[Outage], now: float) -> str:
    """The app's words for the latest outage: 'down 12 s' while it lasts, 'outage 12.3 s at
    14:02:03' once the endpoint answered again (UTC, as the record's note); '' if none."""
    if not spans:
        return ""
    last = spans[-1]
    if not last.recovered:
        text = f"down {max(now, last.end) - last.start:.0f} s"
    else:
        hms = datetime.fromtimestamp(last.start, UTC).strftime("%H:%M:%S")
        text = f"outage {last.duration_s:.1f} s at {hms}"
    return text if len(spans) == 1 else f"{len(spans)} outages, last {text}"
