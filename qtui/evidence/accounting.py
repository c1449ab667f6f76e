"""What counts as an error: one rule for every rate, verdict and record (pure).

A request qtui cancelled itself (quit, end of a step, end of a run) is "cancelled at stop": it is
counted apart and is never an error, nor a success, in any rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

OK = "none"
CANCELLED = "cancelled"
CANCELLED_AT_STOP = "cancelled at stop"


def is_error(error_class: str | None) -> bool:
    """A failure the server (or the network) caused: not a success, not qtui's own stop."""
    return error_class not in (None, OK, CANCELLED)


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

    @property
    def error_rate(self) -> float | None:
        return error_rate(self.successes, self.errors)

    def plus(self, successes: int, errors: Mapping[str, int], cancelled: int) -> Counts:
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
        )
