"""The client's measurements against the server's own counters and histograms (pure).

For one run, the scrape before and after it gives the server's view of exactly the requests qtui
sent (when nothing else used the server meanwhile): how many it served, how many tokens, and the
histograms of TTFT, ITL, TPOT and e2e latency. qtui's figures must match the counts exactly and
the latencies within the resolution of the histograms (one bucket's width): a client that is the
bottleneck shows up as latencies the server never saw.

Definitions differ a little by design: the client's TTFT includes the network and the server's
front end (the server starts its clock when the engine gets the request), and its ITL is the gap
between *chunks*, while the server observes every token (a chunk may carry several). TPOT,
(last − first) / (tokens − 1) per request, does not depend on chunking.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from qtui.evidence.records import RequestRecord
from qtui.metrics.vllm import Histogram, VllmSnapshot, histogram_quantile

METRICS = ("ttft", "itl", "tpot", "e2e")
QUANTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True, slots=True)
class QuantileCheck:
    """One quantile: the client's exact value next to the server's histogram estimate."""

    metric: str
    q: float
    client: float | None
    server: float | None  # Prometheus-style interpolation inside the bucket
    bucket_lo: float | None  # the bucket holding the server's rank q·n
    bucket_hi: float | None

    @property
    def agrees(self) -> bool:
        """Client and server differ by at most the width of the server's bucket."""
        if self.client is None or self.server is None:
            return False
        if self.bucket_lo is None or self.bucket_hi is None or math.isinf(self.bucket_hi):
            return self.bucket_lo is not None and self.client >= self.bucket_lo
        return abs(self.client - self.server) <= self.bucket_hi - self.bucket_lo

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "agrees": self.agrees}


@dataclass(slots=True)
class Crosscheck:
    """Counts and latency quantiles, client side next to server side, for one run."""

    requests_client: int
    requests_server: float
    tokens_client: int
    tokens_server: float
    observations_client: dict[str, int] = field(default_factory=dict)
    observations_server: dict[str, float] = field(default_factory=dict)
    quantiles: list[QuantileCheck] = field(default_factory=list)
    cdf_gap: dict[str, float] = field(default_factory=dict)

    @property
    def counts_agree(self) -> bool:
        """No loss, no double count: requests, tokens and TTFT/TPOT/e2e observations match."""
        same = [
            self.requests_client == self.requests_server,
            self.tokens_client == self.tokens_server,
        ]
        for m in ("ttft", "tpot", "e2e"):
            if m in self.observations_server:
                same.append(self.observations_client.get(m) == self.observations_server[m])
        return all(same)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "quantiles"}
        d["quantiles"] = [q.to_dict() for q in self.quantiles]
        d["counts_agree"] = self.counts_agree
        return d


def client_values(records: Iterable[RequestRecord]) -> dict[str, list[float]]:
    """TTFT, per-chunk ITL, TPOT and e2e (s) of the successful requests, as the server counts them.

    TPOT (and the server's ITL) need two tokens; e2e and TTFT one.
    """
    out: dict[str, list[float]] = {m: [] for m in METRICS}
    for r in records:
        if not r.ok or not r.chunk_times:
            continue
        out["ttft"].append(r.chunk_times[0])
        out["e2e"].append(r.chunk_times[-1])
        out["itl"].extend(r.itl())
        tpot = r.tpot
        if tpot is not None:
            out["tpot"].append(tpot)
    return out


def bucket(h: Histogram, q: float) -> tuple[float, float] | None:
    """(lower, upper) bound of the bucket that holds rank q·n."""
    n = h.count
    if n <= 0:
        return None
    rank = q * n
    i = bisect.bisect_left(h.counts, rank)
    i = min(i, len(h.bounds) - 1)
    while i < len(h.counts) - 1 and h.counts[i] <= (h.counts[i - 1] if i else 0.0):
        i += 1  # an empty bucket cannot hold the rank
    return (h.bounds[i - 1] if i else 0.0), h.bounds[i]


def cdf_gap(values: list[float], h: Histogram) -> float:
    """Largest difference between the client's and the server's cumulative fractions, taken at
    the server's bucket bounds (0: the same distribution at the histogram's resolution)."""
    n, total = len(values), h.count
    if not n or total <= 0:
        return 1.0 if n or total > 0 else 0.0
    v = np.sort(np.asarray(values, dtype=float))
    gap = 0.0
    for b, cum in zip(h.bounds, h.counts, strict=True):
        if math.isinf(b):
            continue
        frac = np.searchsorted(v, b, side="right") / n
        gap = max(gap, abs(float(frac) - cum / total))
    return gap


def crosscheck(
    records: Iterable[RequestRecord],
    before: VllmSnapshot,
    after: VllmSnapshot,
    quantiles: tuple[float, ...] = QUANTILES,
) -> Crosscheck:
    """Compare the client's records of one run with the server's counters over the same run."""
    recs = [r for r in records if r.ok]
    vals = client_values(recs)
    served = sum(after.request_success.values()) - sum(before.request_success.values())
    gen = (after.generation_tokens or 0.0) - (before.generation_tokens or 0.0)
    cc = Crosscheck(
        requests_client=len(recs),
        requests_server=served,
        tokens_client=sum(r.completion_tokens or 0 for r in recs),
        tokens_server=gen,
        observations_client={m: len(v) for m, v in vals.items()},
    )
    for m in METRICS:
        h_new = after.histograms.get(m)
        if h_new is None:
            continue
        h_old = before.histograms.get(m)
        h = h_new.minus(h_old) if h_old is not None else h_new
        cc.observations_server[m] = h.count
        cc.cdf_gap[m] = cdf_gap(vals[m], h)
        arr = np.asarray(vals[m], dtype=float)
        for q in quantiles:
            b = bucket(h, q)
            cc.quantiles.append(
                QuantileCheck(
                    metric=m,
                    q=q,
                    client=float(np.quantile(arr, q)) if arr.size else None,
                    server=histogram_quantile(q, h),
                    bucket_lo=b[0] if b else None,
                    bucket_hi=b[1] if b else None,
                )
            )
    return cc
