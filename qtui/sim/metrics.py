"""Prometheus exposition: vLLM's /metrics and a DCGM-exporter-style GPU page (pure rendering)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.samples import Sample

from qtui.sim.engine import Engine
from qtui.sim.physics import BLOCK_SIZE, Plan
from qtui.sim.stats import FINISH_REASONS

_HELP = {
    "estimated_flops_per_gpu": "Estimated number of floating point operations per GPU (for Model Flops Utilization calculations).",  # noqa: E501
    "estimated_read_bytes_per_gpu": "Estimated number of bytes read from memory per GPU (for Model Flops Utilization calculations).",  # noqa: E501
    "estimated_write_bytes_per_gpu": "Estimated number of bytes written to memory per GPU (for Model Flops Utilization calculations).",  # noqa: E501
    "num_requests_running": "Number of requests in model execution batches.",
    "num_requests_waiting": "Number of requests waiting to be processed.",
    "num_requests_waiting_by_reason": "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget, KV transfer, blocked status). Sum of all reasons equals vllm:num_requests_waiting.",  # noqa: E501
    "engine_sleep_state": "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",  # noqa: E501
    "kv_cache_usage_perc": "KV-cache usage. 1 means 100 percent usage.",
    "prefix_cache_queries": "Prefix cache queries, in terms of number of queried tokens.",
    "prefix_cache_hits": "Prefix cache hits, in terms of number of cached tokens.",
    "external_prefix_cache_queries": "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",  # noqa: E501
    "external_prefix_cache_hits": "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",  # noqa: E501
    "mm_cache_queries": "Multi-modal cache queries, in terms of number of queried items.",
    "mm_cache_hits": "Multi-modal cache hits, in terms of number of cached items.",
    "num_preemptions": "Cumulative number of preemption from the engine.",
    "prompt_tokens": "Number of prefill tokens processed.",
    "prompt_tokens_by_source": "Number of prompt tokens by source.",
    "prompt_tokens_cached": "Number of cached prompt tokens (local + external).",
    "generation_tokens": "Number of generation tokens processed.",
    "request_success": "Count of successfully processed requests.",
    "request_prompt_tokens": "Number of prefill tokens processed.",
    "request_generation_tokens": "Number of generation tokens processed.",
    "iteration_tokens_total": "Histogram of number of tokens per engine_step.",
    "request_max_num_generation_tokens": "Histogram of maximum number of requested generation tokens.",  # noqa: E501
    "request_params_n": "Histogram of the n request parameter.",
    "request_params_max_tokens": "Histogram of the max_tokens request parameter.",
    "time_to_first_token_seconds": "Histogram of time to first token in seconds.",
    "inter_token_latency_seconds": "Histogram of inter-token latency in seconds.",
    "request_time_per_output_token_seconds": "Histogram of time_per_output_token_seconds per request.",  # noqa: E501
    "e2e_request_latency_seconds": "Histogram of e2e request latency in seconds.",
    "request_queue_time_seconds": "Histogram of time spent in WAITING phase for request.",
    "request_inference_time_seconds": "Histogram of time spent in RUNNING phase for request.",
    "request_prefill_time_seconds": "Histogram of time spent in PREFILL phase for request.",
    "request_decode_time_seconds": "Histogram of time spent in DECODE phase for request.",
    "request_prefill_kv_computed_tokens": "Histogram of new KV tokens computed during prefill (excluding cached tokens).",  # noqa: E501
    "cache_config_info": "Information of the LLMEngine CacheConfig",
}


@dataclass(frozen=True, slots=True)
class Scrape:
    """What a scrape needs besides the engine: names and the start time (for _created)."""

    model_name: str
    created: float


class _Collector:
    def __init__(self, engine: Engine, scrape: Scrape) -> None:
        self.e = engine
        self.s = scrape

    def _base(self) -> tuple[list[str], list[str]]:
        return ["engine", "model_name"], ["0", self.s.model_name]

    def _gauge(
        self, key: str, value: float, extra: dict[str, str] | None = None, model_label: bool = True
    ) -> Metric:
        names, values = self._base() if model_label else (["engine"], ["0"])
        for k, v in sorted((extra or {}).items()):
            names.append(k)
            values.append(v)
        order = sorted(range(len(names)), key=names.__getitem__)
        g = GaugeMetricFamily(f"vllm:{key}", _HELP[key], labels=[names[i] for i in order])
        g.add_metric([values[i] for i in order], value)
        return g

    def _counter(self, key: str, by: str | None, values: dict[str, float]) -> Metric:
        names, base = self._base()
        labels = sorted([*names, by]) if by else names
        c = CounterMetricFamily(f"vllm:{key}", _HELP[key], labels=labels)
        for label, v in values.items():
            lv = dict(zip(names, base, strict=True))
            if by:
                lv[by] = label
            c.add_metric([lv[n] for n in labels], v, created=self.s.created)
        return c

    def collect(self) -> Iterator[Metric]:
        e, st, plan = self.e, self.e.stats, self.e.plan
        tokens = st.prompt_tokens + st.generation_tokens
        yield self._counter(
            "estimated_flops_per_gpu",
            None,
            {"": 2.0 * plan.model.params_b * 1e9 * tokens / plan.tp},
        )
        yield self._counter(
            "estimated_read_bytes_per_gpu", None, {"": st.busy_s * plan.bandwidth * 0.8 / plan.tp}
        )
        yield self._counter(
            "estimated_write_bytes_per_gpu", None, {"": tokens * plan.kv_bytes_per_token / plan.tp}
        )
        yield self._gauge("num_requests_running", len(e.running))
        yield self._gauge("num_requests_waiting", len(e.waiting))
        for reason, v in (("capacity", float(len(e.waiting))), ("deferred", 0.0)):
            yield self._gauge("num_requests_waiting_by_reason", v, {"reason": reason})
        for state, v in (("awake", 1.0), ("weights_offloaded", 0.0), ("discard_all", 0.0)):
            yield self._gauge("engine_sleep_state", v, {"sleep_state": state})
        yield self._gauge("kv_cache_usage_perc", e.kv_usage)
        yield self._counter("prefix_cache_queries", None, {"": st.prefix_queries})
        yield self._counter("prefix_cache_hits", None, {"": st.prefix_hits})
        for key in (
            "external_prefix_cache_queries",
            "external_prefix_cache_hits",
            "mm_cache_queries",
            "mm_cache_hits",
        ):
            yield self._counter(key, None, {"": 0.0})
        yield self._counter("num_preemptions", None, {"": st.preemptions})
        yield self._counter("prompt_tokens", None, {"": st.prompt_tokens})
        yield self._counter(
            "prompt_tokens_by_source",
            "source",
            {
                "local_compute": st.prompt_tokens - st.prefix_hits,
                "local_cache_hit": st.prefix_hits,
                "external_kv_transfer": 0.0,
            },
        )
        yield self._counter("prompt_tokens_cached", None, {"": st.prefix_hits})
        yield self._counter("generation_tokens", None, {"": st.generation_tokens})
        yield self._counter(
            "request_success", "finished_reason", {r: st.success[r] for r in FINISH_REASONS}
        )
        names, values = self._base()
        for key, h in st.hist.items():
            fam = HistogramMetricFamily(f"vllm:{key}", _HELP[key], labels=names)
            fam.add_metric(values, h.cumulative(), h.total)
            fam.samples.append(
                Sample(f"vllm:{key}_created", dict(zip(names, values, strict=True)), self.s.created)
            )
            yield fam
        yield self._gauge("cache_config_info", 1.0, cache_config_labels(plan), model_label=False)


def cache_config_labels(plan: Plan) -> dict[str, str]:
    """vLLM's CacheConfig as info labels, with this endpoint's simulated values."""
    cache_dtype = "auto" if plan.kv_cache_dtype in ("bf16", "fp16") else plan.kv_cache_dtype
    tokens = plan.kv_capacity_tokens
    return {
        "_block_size_resolved": "True",
        "block_size": str(BLOCK_SIZE),
        "cache_dtype": cache_dtype,
        "calculate_kv_scales": "False",
        "enable_prefix_caching": "True",
        "gpu_memory_utilization": str(plan.gpu_memory_utilization),
        "is_attention_free": "False",
        "kv_cache_dtype_skip_layers": "[]",
        "kv_cache_max_concurrency": str(tokens / plan.max_model_len),
        "kv_cache_memory_bytes": str(int(plan.kv_cache_bytes)),
        "kv_cache_size_tokens": str(tokens),
        "kv_offloading_backend": "native",
        "kv_offloading_size": "None",
        "kv_sharing_fast_prefill": "False",
        "mamba_block_size": "None",
        "mamba_cache_dtype": "auto",
        "mamba_cache_mode": "none",
        "mamba_page_size_padded": "None",
        "mamba_ssm_cache_dtype": "auto",
        "num_cpu_blocks": "None",
        "num_gpu_blocks": str(plan.num_gpu_blocks),
        "num_gpu_blocks_override": "None",
        "prefix_caching_hash_algo": "sha256",
        "prefix_match_unit": "None",
        "skip_page_size_padded": "None",
        "sliding_window": "None",
        "user_specified_block_size": "False",
        "user_specified_mamba_block_size": "False",
    }


def render_vllm(engine: Engine, scrape: Scrape) -> bytes:
    """The /metrics page, in the same text format vLLM's prometheus_client produces."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(engine, scrape))  # type: ignore[arg-type,unused-ignore]
    return generate_latest(registry)


MIB = 1024 * 1024
_DCGM = (
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    (
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "counter",
        "Total energy consumption since boot (in mJ).",
    ),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_FB_RESERVED", "gauge", "Framebuffer memory reserved (in MiB)."),
)


@dataclass(frozen=True, slots=True)
class GpuReading:
    """One simulated GPU's telemetry at one instant."""

    util: float  # 0-1
    power_w: float
    energy_j: float
    used_bytes: float
    total_bytes: float


def gpu_reading(plan: Plan, util: float, energy_j: float) -> GpuReading:
    return GpuReading(
        util=util,
        power_w=plan.power_w(util),
        energy_j=energy_j,
        used_bytes=plan.memory_used_bytes,
        total_bytes=plan.gpu.memory_bytes,
    )


def render_dcgm(plan: Plan, reading: GpuReading, endpoint: str, seed: int = 0) -> bytes:
    """DCGM-exporter text (one series per GPU of the replica); HELP lines say it is simulated."""
    from qtui.sim.text import stable_hash

    total_mib = reading.total_bytes / MIB
    reserved = round(total_mib * 0.006)
    used = round(reading.used_bytes / MIB)
    values = {
        "DCGM_FI_DEV_GPU_UTIL": round(reading.util * 100),
        "DCGM_FI_DEV_GPU_TEMP": round(35 + 40 * reading.util),
        "DCGM_FI_DEV_POWER_USAGE": round(reading.power_w, 3),
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": round(reading.energy_j * 1000),
        "DCGM_FI_DEV_FB_FREE": max(0, round(total_mib) - used - reserved),
        "DCGM_FI_DEV_FB_USED": used,
        "DCGM_FI_DEV_FB_RESERVED": reserved,
    }
    lines: list[str] = []
    for name, kind, text in _DCGM:
        lines.append(f"# HELP {name} {text} [simulated by qtui]")
        lines.append(f"# TYPE {name} {kind}")
        for g in range(plan.tp):
            h = f"{stable_hash(endpoint, seed, g):016x}"
            uuid = f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-5151-{h[:12]}"
            labels = (
                f'gpu="{g}",UUID="{uuid}",pci_bus_id="00000000:{g + 1:02X}:00.0",'
                f'device="nvidia{g}",modelName="NVIDIA {plan.gpu.name} (simulated)",'
                f'Hostname="qtui-sim",simulated="true"'
            )
            lines.append(f"{name}{{{labels}}} {values[name]}")
    return ("\n".join(lines) + "\n").encode()
