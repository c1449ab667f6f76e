"""Counters and histograms the engine keeps, in vLLM's metric vocabulary (pure)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

FINISH_REASONS = ("stop", "length", "abort", "error", "repetition")

TTFT_BUCKETS = (
    0.001,
    0.005,
    0.01,
    0.02,
    0.04,
    0.06,
    0.08,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
    160.0,
    640.0,
    2560.0,
)
ITL_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.4,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    20.0,
    40.0,
    80.0,
)
REQUEST_BUCKETS = (
    0.3,
    0.5,
    0.8,
    1.0,
    1.5,
    2.0,
    2.5,
    5.0,
    10.0,
    15.0,
    20.0,
    30.0,
    40.0,
    50.0,
    60.0,
    120.0,
    240.0,
    480.0,
    960.0,
    1920.0,
    7680.0,
)
ITERATION_BUCKETS = (1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
N_BUCKETS = (1, 2, 5, 10, 20)


def buckets_1_2_5(upper: int) -> tuple[float, ...]:
    """vLLM's token-count buckets: 1, 2, 5, 10, 20, 50, ... up to ``upper`` (max_model_len)."""
    out: list[float] = []
    exp = 0
    while True:
        for m in (1, 2, 5):
            v = m * 10**exp
            if v > upper:
                return tuple(out)
            out.append(float(v))
        exp += 1


@dataclass
class Histogram:
    """Cumulative-ready bucket counts plus sum, as Prometheus histograms carry."""

    bounds: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value
        self.n += 1

    def cumulative(self) -> list[tuple[str, float]]:
        """(le, count) pairs ending with +Inf, the shape prometheus_client wants."""
        out: list[tuple[str, float]] = []
        acc = 0
        for b, c in zip(self.bounds, self.counts, strict=False):
            acc += c
            out.append((repr(float(b)), float(acc)))
        out.append(("+Inf", float(self.n)))
        return out


@dataclass
class EngineStats:
    """Everything /metrics reports, updated by the engine as it steps."""

    max_model_len: int
    prompt_tokens: int = 0
    generation_tokens: int = 0
    preemptions: int = 0
    prefix_queries: int = 0
    prefix_hits: int = 0
    busy_s: float = 0.0
    success: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FINISH_REASONS, 0))
    hist: dict[str, Histogram] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tok = buckets_1_2_5(self.max_model_len)
        self.hist = {
            "time_to_first_token_seconds": Histogram(TTFT_BUCKETS),
            "inter_token_latency_seconds": Histogram(ITL_BUCKETS),
            "request_time_per_output_token_seconds": Histogram(ITL_BUCKETS),
            "e2e_request_latency_seconds": Histogram(REQUEST_BUCKETS),
            "request_queue_time_seconds": Histogram(REQUEST_BUCKETS),
            "request_inference_time_seconds": Histogram(REQUEST_BUCKETS),
            "request_prefill_time_seconds": Histogram(REQUEST_BUCKETS),
            "request_decode_time_seconds": Histogram(REQUEST_BUCKETS),
            "request_prompt_tokens": Histogram(tok),
            "request_generation_tokens": Histogram(tok),
            "request_max_num_generation_tokens": Histogram(tok),
            "request_params_max_tokens": Histogram(tok),
            "request_prefill_kv_computed_tokens": Histogram(tok),
            "request_params_n": Histogram(tuple(float(b) for b in N_BUCKETS)),
            "iteration_tokens_total": Histogram(tuple(float(b) for b in ITERATION_BUCKETS)),
        }

    def observe(self, name: str, value: float) -> None:
        self.hist[name].observe(value)
