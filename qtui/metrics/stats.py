"""Client-side statistics: exact per window (numpy), a mergeable log-bucket sketch for whole runs.

Percentiles use numpy's default linear interpolation, as `vllm bench serve` does. Latency
definitions (TTFT, ITL, TPOT, e2e) are those of `vllm bench serve`: see qtui/evidence/records.py.

Why a sketch for cumulative figures: ITL has one value per streamed token (100k+/s at high load),
so keeping every value for an hour-long run costs gigabytes. `LogHistogram` is the DDSketch idea
(log-spaced buckets, relative error ≤ 1 %, merge = add counts) written with numpy so adding a
second's worth of values is one vectorised call, not a Python loop in the process generating load.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from qtui.evidence.accounting import is_partial, silent_at_stop_s
from qtui.evidence.records import METRICS, PERCENTILES, LatencyStats, RequestRecord, Stats


def latency_stats(values: Sequence[float] | np.ndarray) -> LatencyStats:
    """Exact percentiles (numpy linear interpolation) of a sample."""
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return LatencyStats()
    p = np.percentile(a, PERCENTILES)
    return LatencyStats(a.size, float(a.mean()), *(float(x) for x in p))


def tokens_per_chunk(records: Iterable[RequestRecord], none_finished: float = 1.0) -> float:
    """Output tokens per stream chunk of the requests that finished with a token count
    (``none_finished`` when none did: the last known figure, else one). vLLM puts several tokens
    in one chunk when its frontend falls behind (2-3 at a few hundred streams), and a request cut
    at the stop has no usage: its chunks are worth this many."""
    tokens = chunks = 0
    for r in records:
        if r.ok and r.completion_tokens and r.chunk_times:
            tokens += r.completion_tokens
            chunks += len(r.chunk_times)
    return tokens / chunks if chunks else none_finished


def tokens_per_byte(records: Iterable[RequestRecord]) -> float | None:
    """Output tokens per byte of streamed text of the requests that finished with a token count
    (None when none did, or none measured its bytes: records from before 2026-12-04).

    Tokens per chunk moves with the server's load (vLLM's frontend merges more tokens into a
    chunk the further it falls behind: 1.0 to 10 per chunk within one 20 s window at 512 streams
    on an H200, some whole answers in one chunk), tokens per byte with the text only, so a
    stream cut before its usage chunk is worth its bytes at this rate."""
    tokens = nbytes = 0
    for r in records:
        if r.ok and r.completion_tokens and r.text_bytes:
            tokens += r.completion_tokens
            nbytes += r.text_bytes
    return tokens / nbytes if nbytes else None


def streamed_tokens(
    records: Iterable[RequestRecord],
    start: float,
    end: float,
    none_finished: float = 1.0,
    per_byte: float | None = None,
) -> float:
    """Output tokens that arrived in [start, end) (wall clock), whatever became of their request.

    A request still streaming when the window closes, or cancelled, or sent before it opened,
    contributes the chunks that arrived inside it: throughput is what the server delivered in
    the window, not what happened to finish in it (long requests would otherwise be undercounted).
    A chunk carries completion_tokens / chunks tokens when the server reported usage. A request
    without a count (cut at the stop) is worth its text bytes at `tokens_per_byte` of the finished
    ones (``per_byte``, the last known figure, when none finished); without bytes, its chunks at
    `tokens_per_chunk` (one token per chunk read 15-61 % low on the simulator at 256-1,024
    streams; tokens per chunk read up to 16 % high on a saturated H200, where the server merged
    whole answers into one chunk: benchmarks/gpu/results/h200-2026-12-04b.md). Tokens of a
    request that failed (an error: stall, disconnect, ...) or was silent when qtui stopped it are
    not throughput: its answer never arrived whole (`partial_tokens` counts them apart). A
    request qtui cancelled at its stop while it streamed is not a failure: what the server
    delivered of it in the window counts (qtui.evidence.accounting says why).
    """
    records = records if isinstance(records, list) else list(records)
    uncounted = tokens_per_chunk(records, none_finished)
    by_bytes = tokens_per_byte(records) or per_byte
    total = 0.0
    for r in records:
        if not r.chunk_times or is_partial(r.error_class, r.error_detail):
            continue
        times = np.asarray(r.chunk_times) + r.t_send
        inside = int(np.count_nonzero((times >= start) & (times < end)))
        if not inside:
            continue
        if r.completion_tokens:
            per_chunk = r.completion_tokens / len(times)
        elif r.text_bytes and by_bytes is not None:
            per_chunk = r.text_bytes * by_bytes / len(times)
        else:
            per_chunk = uncounted
        total += inside * per_chunk
    return total


def partial_tokens(records: Iterable[RequestRecord]) -> int:
    """Token chunks of requests that failed or were silent at stop: streamed, never counted as
    throughput or capacity."""
    return sum(len(r.chunk_times) for r in records if is_partial(r.error_class, r.error_detail))


def stop_split(records: Iterable[RequestRecord]) -> tuple[int, float]:
    """Of the requests qtui cancelled: how many had been silent at stop, and the longest (s)."""
    silent = [
        s for r in records if (s := silent_at_stop_s(r.error_class, r.error_detail)) is not None
    ]
    return len(silent), max(silent, default=0.0)


def failed_bytes(ended: Iterable[RequestRecord]) -> int:
    """Text bytes streamed by the given requests that failed (or were silent at the stop)."""
    return sum(r.text_bytes or 0 for r in ended if is_partial(r.error_class, r.error_detail))


def delivered_bytes(nbytes: int, ended: Iterable[RequestRecord]) -> int:
    """Text bytes of one second counted live, less those of requests that failed (or were
    silent at the stop) in it: `delivered_chunks` by the byte."""
    return max(0, nbytes - failed_bytes(ended))


def delivered_chunks(chunks: int, ended: Iterable[RequestRecord]) -> int:
    """Token chunks of one second counted live, less those of requests that failed (or were
    silent at the stop) in it.

    The live count cannot know which streams will fail; a failed request's chunks are taken out
    in the second it ends (never below zero), so a server that cuts every stream shows none."""
    return max(0, chunks - partial_tokens(ended))


def summarize(
    endpoint: str,
    records: Iterable[RequestRecord],
    t_end: float,
    duration_s: float,
    in_flight: int = 0,
    chunks: int = 0,
) -> Stats:
    """Exact statistics of the given finished records over an interval of duration_s seconds."""
    records = records if isinstance(records, list) else list(records)
    ttft: list[float] = []
    tpot: list[float] = []
    e2e: list[float] = []
    itl_parts: list[np.ndarray] = []
    errors: dict[str, int] = {}
    ok = cancelled = pt = ct = counted = 0
    for r in records:
        if r.error_class == "cancelled":
            cancelled += 1
            continue
        if r.error_class != "none":
            errors[r.error_class] = errors.get(r.error_class, 0) + 1
            continue
        ok += 1
        pt += r.prompt_tokens or 0
        ct += r.completion_tokens or 0
        counted += r.usage_source == "counted"
        if r.chunk_times:
            ttft.append(r.chunk_times[0])
            e2e.append(r.chunk_times[-1])
            if len(r.chunk_times) > 1:
                itl_parts.append(np.diff(np.asarray(r.chunk_times)))
        tp = r.tpot
        if tp is not None:
            tpot.append(tp)
    n_err = sum(errors.values())
    d = duration_s if duration_s > 0 else math.inf
    itl = np.concatenate(itl_parts) if itl_parts else np.empty(0)
    silent, silent_max = stop_split(records) if cancelled else (0, 0.0)
    return Stats(
        endpoint=endpoint,
        t=t_end,
        duration_s=duration_s,
        requests=ok,
        rps=ok / d,
        in_tps=pt / d,
        out_tps=ct / d,
        prompt_tokens=pt,
        completion_tokens=ct,
        ttft=latency_stats(ttft),
        itl=latency_stats(itl),
        tpot=latency_stats(tpot),
        e2e=latency_stats(e2e),
        errors=errors,
        cancelled=cancelled,
        error_rate=n_err / (ok + n_err) if ok + n_err else 0.0,
        in_flight=in_flight,
        chunks_per_s=chunks / d,
        counted_usage=counted,
        silent_at_stop=silent,
        silent_max_s=silent_max,
        partial_tokens=partial_tokens(records) if cancelled or n_err else 0,
    )


class LogHistogram:
    """Mergeable quantile sketch: log-spaced buckets, relative error ≤ alpha (DDSketch)."""

    MIN = 1e-6  # values below (s) are counted in a zero bucket
    MAX = 1e5

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = alpha
        self.gamma = (1 + alpha) / (1 - alpha)
        self._lg = math.log(self.gamma)
        self._off = math.ceil(math.log(self.MIN) / self._lg)
        size = math.ceil(math.log(self.MAX) / self._lg) - self._off + 1
        self.counts = np.zeros(size, dtype=np.int64)
        self.zeros = 0
        self.total = 0.0

    @property
    def n(self) -> int:
        return int(self.counts.sum()) + self.zeros

    def add(self, values: Sequence[float] | np.ndarray) -> None:
        a = np.asarray(values, dtype=float)
        if a.size == 0:
            return
        self.total += float(a.sum())
        small = a < self.MIN
        self.zeros += int(small.sum())
        big = np.minimum(a[~small], self.MAX)
        idx = np.ceil(np.log(big) / self._lg).astype(np.int64) - self._off
        self.counts += np.bincount(idx, minlength=self.counts.size)[: self.counts.size]

    def merge(self, other: LogHistogram) -> None:
        if other.alpha != self.alpha:
            raise ValueError("cannot merge sketches of different accuracy")
        self.counts += other.counts
        self.zeros += other.zeros
        self.total += other.total

    def quantile(self, q: float) -> float | None:
        n = self.n
        if n == 0:
            return None
        rank = q * (n - 1)
        if rank < self.zeros:
            return 0.0
        cum = np.cumsum(self.counts) + self.zeros
        i = int(np.searchsorted(cum, rank, side="right"))
        i = min(i, self.counts.size - 1)
        return 2 * self.gamma ** (i + self._off) / (self.gamma + 1)

    def stats(self) -> LatencyStats:
        n = self.n
        if n == 0:
            return LatencyStats()
        q = [self.quantile(p / 100) for p in PERCENTILES]
        return LatencyStats(n, self.total / n, *q)


class Cumulative:
    """Whole-run statistics for one endpoint: exact counts, sketched latency percentiles."""

    def __init__(self, endpoint: str, alpha: float = 0.01) -> None:
        self.endpoint = endpoint
        self.sketch = {m: LogHistogram(alpha) for m in METRICS}
        self.requests = self.prompt_tokens = self.completion_tokens = 0
        self.cancelled = self.counted_usage = self.silent = self.partial_tokens = 0
        self.silent_max_s = 0.0
        self.errors: dict[str, int] = {}

    def add(self, records: Iterable[RequestRecord]) -> None:
        """Fold in finished records (call with the measure-phase ones only)."""
        vals: dict[str, list[float]] = {m: [] for m in METRICS}
        itl: list[np.ndarray] = []
        for r in records:
            if is_partial(r.error_class, r.error_detail):
                self.partial_tokens += len(r.chunk_times)
            if r.error_class == "cancelled":
                self.cancelled += 1
                if (silent := silent_at_stop_s(r.error_class, r.error_detail)) is not None:
                    self.silent += 1
                    self.silent_max_s = max(self.silent_max_s, silent)
            elif r.error_class != "none":
                self.errors[r.error_class] = self.errors.get(r.error_class, 0) + 1
            else:
                self.requests += 1
                self.prompt_tokens += r.prompt_tokens or 0
                self.completion_tokens += r.completion_tokens or 0
                self.counted_usage += r.usage_source == "counted"
                if r.chunk_times:
                    vals["ttft"].append(r.chunk_times[0])
                    vals["e2e"].append(r.chunk_times[-1])
                    if len(r.chunk_times) > 1:
                        itl.append(np.diff(np.asarray(r.chunk_times)))
                tp = r.tpot
                if tp is not None:
                    vals["tpot"].append(tp)
        for m in ("ttft", "tpot", "e2e"):
            self.sketch[m].add(vals[m])
        if itl:
            self.sketch["itl"].add(np.concatenate(itl))

    def stats(self, t_end: float, duration_s: float, in_flight: int = 0) -> Stats:
        d = duration_s if duration_s > 0 else math.inf
        n_err = sum(self.errors.values())
        return Stats(
            endpoint=self.endpoint,
            t=t_end,
            duration_s=duration_s,
            requests=self.requests,
            rps=self.requests / d,
            in_tps=self.prompt_tokens / d,
            out_tps=self.completion_tokens / d,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            ttft=self.sketch["ttft"].stats(),
            itl=self.sketch["itl"].stats(),
            tpot=self.sketch["tpot"].stats(),
            e2e=self.sketch["e2e"].stats(),
            errors=dict(self.errors),
            cancelled=self.cancelled,
            error_rate=n_err / (self.requests + n_err) if self.requests + n_err else 0.0,
            in_flight=in_flight,
            counted_usage=self.counted_usage,
            silent_at_stop=self.silent,
            silent_max_s=self.silent_max_s,
            partial_tokens=self.partial_tokens,
        )
