"""What counts as an error: one rule for every rate, verdict and record (pure).

A request qtui cancelled itself (quit, end of a step, end of a run) is never an error, nor a
success, in any rate. Requests still open at the stop are split in two, counted apart: "cancelled
at stop" (the stream was alive) and "silent for N s" (no byte for SILENT_AT_STOP_S or more: a
server that went silent shows even in a run shorter than the stall limit).

Tokens: the output tokens of a request that did not complete are never capacity (capacity counts
completed requests), and never throughput when it failed (an error) or was silent at the stop:
they are "partial tokens", counted apart (one per token chunk). A request cancelled at the stop
while its stream was alive is the one exception: the tokens the server delivered inside the
measured window are throughput (requests longer than a held run would otherwise show a server
that delivered tokens all along as delivering none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

OK = "none"
CANCELLED = "cancelled"
CANCELLED_AT_STOP = "cancelled at stop"
STOPPED = "stopped by qtui"
SILENT_AT_STOP_S = 2.0  # a stream silent this long when qtui stopped it: "silent for N s"
_SILENT = re.compile(r"silent for (\d+(?:\.\d+)?) s")


def is_error(error_class: str | None) -> bool:
    """A failure the server (or the network) caused: not a success, not qtui's own stop."""
    return error_class not in (None, OK, CANCELLED)


def stop_detail(silent_s: float | None, stall_timeout_s: float | None = None) -> str:
    """The error_detail of a request qtui cancelled: 'stopped by qtui', or with how long its
    stream (after its first token chunk) had been silent, from SILENT_AT_STOP_S (or the stall
    limit, when shorter) on."""
    limit = min(SILENT_AT_STOP_S, stall_timeout_s or SILENT_AT_STOP_S)
    if silent_s is None or silent_s < limit:
        return STOPPED
    return (
        f"{STOPPED}; silent for {silent_s:.1f} s"
        if silent_s < 10
        else (f"{STOPPED}; silent for {silent_s:.0f} s")
    )


def silent_at_stop_s(error_class: str | None, detail: str | None) -> float | None:
    """How long a request cancelled at stop had been silent (s); None: not silent, or not
    cancelled at stop."""
    if error_class != CANCELLED or not detail:
        return None
    m = _SILENT.search(detail)
    return float(m.group(1)) if m else None


def is_partial(error_class: str | None, detail: str | None) -> bool:
    """Its streamed tokens are partial tokens (never throughput): failed, or silent at stop."""
    return is_error(error_class) or silent_at_stop_s(error_class, detail) is not None


def stop_text(cancelled: int, silent: int, silent_max_s: float = 0.0) -> str:
    """Requests open at the stop, in the words every view uses: 'N cancelled at stop', 'M silent
    for up to S s' ('' when none). ``cancelled`` counts every request qtui cancelled."""
    alive = cancelled - silent
    parts = [f"{alive} cancelled at stop"] if alive > 0 else []
    if silent > 0:
        parts.append(f"{silent} silent for {'up to ' if silent > 1 else ''}{silent_max_s:.0f} s")
    return ", ".join(parts)


def partial_text(partial_tokens: int) -> str:
    """Partial tokens in every view's words ('' when none)."""
    return f"{partial_tokens} partial tokens (not throughput)" if partial_tokens else ""


def error_rate(successes: int, errors: int) -> float | None:
    """errors ÷ (successes + errors); cancelled requests are in neither. None without any."""
    n = successes + errors
    return errors / n if n else None


@dataclass(frozen=True, slots=True)
class Counts:
    """Requests of one endpoint by outcome."""

    successes: int = 0
    errors: int = 0
    cancelled: int = 0  # cancelled at stop: qtui's own, never an error
    by_class: tuple[tuple[str, int], ...] = ()
    silent: int = 0  # of the cancelled: silent for SILENT_AT_STOP_S or more when stopped
    silent_max_s: float = 0.0
    partial_tokens: int = 0  # streamed by requests that did not complete: never throughput

    @property
    def error_rate(self) -> float | None:
        return error_rate(self.successes, self.errors)

    @property
    def stop_text(self) -> str:
        return stop_text(self.cancelled, self.silent, self.silent_max_s)

    def plus(
        self,
        successes: int,
        errors: Mapping[str, int],
        cancelled: int,
        silent: int = 0,
        silent_max_s: float = 0.0,
        partial_tokens: int = 0,
    ) -> Counts:
        """These counts with one more window's added (``errors`` by class, cancelled apart)."""
        merged = dict(self.by_class)
        for cls, n in errors.items():
            if is_error(cls) and n:
                merged[cls] = merged.get(cls, 0) + int(n)
        return Counts(
            self.successes + int(successes),
            sum(merged.values()),
            self.cancelled + int(cancelled),
            tuple(sorted(merged.items())),
            self.silent + int(silent),
            max(self.silent_max_s, float(silent_max_s)),
            self.partial_tokens + int(partial_tokens),
        )
