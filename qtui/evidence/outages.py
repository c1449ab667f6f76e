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
