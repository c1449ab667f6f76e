"""A typed vLLM server snapshot from one /metrics scrape, and the rates between two of them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from qtui.evidence.records import ServerSecond
from qtui.metrics.prom import Families, Sample, parse_prometheus

# family names as prometheus_client reports them (counters lose their _total suffix)
_HISTOGRAMS = {
    "ttft": ("vllm:time_to_first_token_seconds",),
    "itl": ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
    "tpot": ("vllm:request_time_per_output_token_seconds",),
    "e2e": ("vllm:e2e_request_latency_seconds",),
    "queue": ("vllm:request_queue_time_seconds",),
}


@dataclass(frozen=True, slots=True)
class Histogram:
    """Cumulative buckets (upper bounds ascending, last is +Inf), like Prometheus exposes them."""

    bounds: tuple[float, ...]
    counts: tuple[float, ...]
    total: float = 0.0

    @property
    def count(self) -> float:
        return self.counts[-1] if self.counts else 0.0

    def minus(self, older: Histogram) -> Histogram:
        """Observations made since ``older``; a counter reset (server restart) keeps self."""
        if older.bounds != self.bounds:
            return self
        diff = tuple(a - b for a, b in zip(self.counts, older.counts, strict=True))
        if any(d < 0 for d in diff):
            return self
        return Histogram(self.bounds, diff, self.total - older.total)


@dataclass(frozen=True, slots=True)
class VllmSnapshot:
    """What one scrape says; counters are raw totals (use the delta functions for rates)."""

    t: float
    model_names: tuple[str, ...] = ()
    running: float | None = None
    waiting: float | None = None
    kv_cache_usage: float | None = None  # 0-1
    preemptions: float | None = None
    prompt_tokens: float | None = None
    generation_tokens: float | None = None
    request_success: dict[str, float] = field(default_factory=dict)  # by finished_reason
    prefix_cache_queries: float | None = None
    prefix_cache_hits: float | None = None
    cache_config: dict[str, str] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)  # ttft itl tpot e2e queue

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["histograms"] = {
            k: {
                "le": [_fmt_bound(b) for b in h.bounds],
                "cumulative": list(h.counts),
                "sum": h.total,
                "count": h.count,
            }
            for k, h in self.histograms.items()
        }
        d["model_names"] = list(self.model_names)
        return d


def _fmt_bound(b: float) -> float | str:
    return "+Inf" if math.isinf(b) else b


def _by_sample(fams: Families) -> dict[str, list[Sample]]:
    """Index by sample name: robust to how a server names its families in # TYPE lines."""
    out: dict[str, list[Sample]] = {}
    for samples in fams.values():
        for s in samples:
            out.setdefault(s.name, []).append(s)
    return out


def _sum(idx: dict[str, list[Sample]], name: str) -> float | None:
    rows = idx.get(name)
    return sum(s.value for s in rows) if rows else None


def _mean(idx: dict[str, list[Sample]], name: str) -> float | None:
    rows = idx.get(name)
    return sum(s.value for s in rows) / len(rows) if rows else None


def _histogram(idx: dict[str, list[Sample]], family: str) -> Histogram | None:
    """Merge a histogram's series (engines, models) into one by summing bucket by bucket."""
    buckets: dict[float, float] = {}
    for s in idx.get(f"{family}_bucket", []):
        le = float(s.labels.get("le", "+Inf"))
        buckets[le] = buckets.get(le, 0.0) + s.value
    total = _sum(idx, f"{family}_sum") or 0.0
    if not buckets:
        return None
    bounds = tuple(sorted(buckets))
    if not math.isinf(bounds[-1]):
        return None
    return Histogram(bounds, tuple(buckets[b] for b in bounds), total)


def snapshot(families: Families, t: float) -> VllmSnapshot:
    """Pick vLLM's series out of parsed families; absent series stay None."""
    idx = _by_sample(families)
    models = sorted(
        {s.labels["model_name"] for ss in idx.values() for s in ss if "model_name" in s.labels}
    )
    success: dict[str, float] = {}
    for s in idx.get("vllm:request_success_total", []):
        reason = s.labels.get("finished_reason", "unknown")
        success[reason] = success.get(reason, 0.0) + s.value
    config = next((dict(s.labels) for s in idx.get("vllm:cache_config_info", [])), {})
    hists: dict[str, Histogram] = {}
    for key, names in _HISTOGRAMS.items():
        for name in names:
            h = _histogram(idx, name)
            if h is not None:
                hists[key] = h
                break
    usage = _mean(idx, "vllm:kv_cache_usage_perc")
    if usage is None:
        usage = _mean(idx, "vllm:gpu_cache_usage_perc")
    return VllmSnapshot(
        t=t,
        model_names=tuple(models),
        running=_sum(idx, "vllm:num_requests_running"),
        waiting=_sum(idx, "vllm:num_requests_waiting"),
        kv_cache_usage=usage,
        preemptions=_sum(idx, "vllm:num_preemptions_total"),
        prompt_tokens=_sum(idx, "vllm:prompt_tokens_total"),
        generation_tokens=_sum(idx, "vllm:generation_tokens_total"),
        request_success=success,
        prefix_cache_queries=_sum(idx, "vllm:prefix_cache_queries_total"),
        prefix_cache_hits=_sum(idx, "vllm:prefix_cache_hits_total"),
        cache_config=config,
        histograms=hists,
    )


def parse_vllm(text: str, t: float, source: str = "/metrics") -> VllmSnapshot:
    """Prometheus text → VllmSnapshot (raises NotPrometheus for anything else)."""
    return snapshot(parse_prometheus(text, source), t)


def histogram_quantile(q: float, h: Histogram) -> float | None:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket holding rank q·n.

    None when there are no observations. A rank in the +Inf bucket returns the highest finite
    bound, and the first bucket's lower edge is 0 (both as Prometheus does).
    """
    n = h.count
    if n <= 0 or not 0 <= q <= 1:
        return None
    rank = q * n
    prev_bound, prev_count = 0.0, 0.0
    for bound, cum in zip(h.bounds, h.counts, strict=True):
        if cum >= rank and cum > prev_count:
            if math.isinf(bound):
                return prev_bound if len(h.bounds) > 1 else None
            if bound <= 0:
                return bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (cum - prev_count)
        prev_bound, prev_count = bound, cum
    return None


def counter_delta(older: float | None, newer: float | None) -> float | None:
    """Increase of a counter; a decrease means a restart, so the new total is the increase."""
    if older is None or newer is None:
        return None
    return newer if newer < older else newer - older


def counter_rate(older: float | None, newer: float | None, dt: float) -> float | None:
    d = counter_delta(older, newer)
    return None if d is None or dt <= 0 else d / dt


def prefix_cache_hit_rate(older: VllmSnapshot, newer: VllmSnapshot) -> float | None:
    """Hits / queries over the window (token-weighted, as vLLM counts them); None if no queries."""
    q = counter_delta(older.prefix_cache_queries, newer.prefix_cache_queries)
    h = counter_delta(older.prefix_cache_hits, newer.prefix_cache_hits)
    if q is None or h is None or q <= 0:
        return None
    return h / q


def window_quantiles(
    older: VllmSnapshot, newer: VllmSnapshot, key: str, qs: tuple[float, ...] = (0.5, 0.95)
) -> tuple[float | None, ...]:
    """Quantiles of the observations made between two scrapes, from bucket deltas."""
    a, b = older.histograms.get(key), newer.histograms.get(key)
    if a is None or b is None:
        return tuple(None for _ in qs)
    d = b.minus(a)
    return tuple(histogram_quantile(q, d) for q in qs)


def kv_cache_figures(labels: Mapping[str, str]) -> dict[str, Any]:
    """The KV-cache figures of `vllm:cache_config_info` labels, as ServerSecond fields.

    vLLM states them as label strings ("347216", "None"); a label absent or "None" is None.
    """

    def label(key: str, kind: type) -> Any:
        raw = labels.get(key)
        if raw is None or raw in ("None", ""):
            return None
        try:
            return kind(float(raw)) if kind is int else kind(raw)
        except ValueError:
            return None

    return {
        "kv_cache_tokens": label("kv_cache_size_tokens", int),
        "kv_cache_bytes": label("kv_cache_memory_bytes", int),
        "kv_cache_dtype": label("cache_dtype", str),
        "kv_blocks": label("num_gpu_blocks", int),
        "kv_block_size": label("block_size", int),
        "kv_max_concurrency": label("kv_cache_max_concurrency", float),
    }


def server_second(endpoint: str, older: VllmSnapshot | None, newer: VllmSnapshot) -> ServerSecond:
    """Gauges and the KV-cache figures from the newer scrape, rates and window quantiles from
    the pair."""
    kv = kv_cache_figures(newer.cache_config)
    base = ServerSecond(
        endpoint=endpoint,
        t=newer.t,
        status="ok",
        running=newer.running,
        waiting=newer.waiting,
        kv_cache_usage=newer.kv_cache_usage,
        **kv,
    )
    if older is None:
        return base
    dt = newer.t - older.t
    ttft = window_quantiles(older, newer, "ttft")
    itl = window_quantiles(older, newer, "itl")
    e2e = window_quantiles(older, newer, "e2e")
    queue = window_quantiles(older, newer, "queue")
    return ServerSecond(
        endpoint=endpoint,
        t=newer.t,
        status="ok",
        running=newer.running,
        waiting=newer.waiting,
        kv_cache_usage=newer.kv_cache_usage,
        preemptions_per_s=counter_rate(older.preemptions, newer.preemptions, dt),
        prompt_tps=counter_rate(older.prompt_tokens, newer.prompt_tokens, dt),
        generation_tps=counter_rate(older.generation_tokens, newer.generation_tokens, dt),
        prefix_cache_hit_rate=prefix_cache_hit_rate(older, newer),
        ttft_p50=ttft[0],
        ttft_p95=ttft[1],
        itl_p50=itl[0],
        itl_p95=itl[1],
        e2e_p50=e2e[0],
        e2e_p95=e2e[1],
        queue_p50=queue[0],
        queue_p95=queue[1],
        **kv,
    )
