"""An error answer's ``Retry-After`` header, in seconds (pure)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime


def retry_after_s(value: str | None, now: float) -> float | None:
    """A ``Retry-After`` header in seconds: delay-seconds or an HTTP date (``now``: epoch s);
    None when absent or unreadable."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
