"""How long a closed-loop user waits after consecutive failures of its endpoint (pure).

Without it a user of a failing endpoint retries as fast as the endpoint answers (an HTML page or
an HTTP 500 comes back in a millisecond: hundreds of requests a second from two users). After
``f`` consecutive failures a user waits ``min(CAP_S, BASE_S · 2^(f-1))`` times a jitter factor
drawn uniformly from [0.5, 1) ("equal jitter": at least half the step, so users that failed
together do not retry together). BASE_S 0.25 s caps a failing user at 8 requests/s after one
failure, 2 after three, and one every 2.5–5 s from the sixth; the first success ends the back-off
(full load again as soon as the endpoint recovers). Requests qtui cancelled itself are not
failures. An error answer with ``Retry-After`` (429, 503) makes the wait at least what it asks,
up to RETRY_AFTER_CAP_S (10 s: twice the back-off cap; a server asking for an hour must not idle
a benchmark). docs/workloads.md ("A failing endpoint") states the same.
"""

from __future__ import annotations

BASE_S = 0.25
CAP_S = 5.0
RETRY_AFTER_CAP_S = 10.0


def backoff_s(
    failures: int,
    u: float,
    base_s: float = BASE_S,
    cap_s: float = CAP_S,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after ``failures`` consecutive failures; ``u`` uniform in [0, 1); at least
    the server's ``retry_after`` (s), capped at RETRY_AFTER_CAP_S."""
    if failures <= 0:
        return 0.0
    step = min(cap_s, base_s * 2.0 ** min(failures - 1, 30))
    wait = step * (0.5 + 0.5 * u)
    if retry_after is not None:
        wait = max(wait, min(max(retry_after, 0.0), RETRY_AFTER_CAP_S))
    return wait


def backing_text(n: int, unit: str) -> str:
    """'backing off (N users)' (closed loop) or 'backing off (arrivals held)' (open loop, unit
    req/s); '' when nobody waits. Every view says it in these words."""
    if n <= 0:
        return ""
    return "backing off (arrivals held)" if unit == "req/s" else f"backing off ({n} users)"
