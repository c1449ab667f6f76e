"""/metrics speaks vLLM's vocabulary: same families, types and label names as a real capture."""

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from qtui.data import gpu_specs, model_shapes
from qtui.sim.engine import Engine, SimRequest
from qtui.sim.metrics import Scrape, gpu_reading, render_dcgm, render_vllm
from qtui.sim.physics import make_plan

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vllm"
PLAN = make_plan("t", model_shapes()["smollm2-135m"], gpu_specs()["H100"])


def families(text: str) -> dict[str, tuple[str, set[frozenset[str]]]]:
    out = {}
    for fam in text_string_to_metric_families(text):
        labels = {frozenset(k for k in s.labels if k != "le") for s in fam.samples}
        out[fam.name] = (fam.type, labels)
    return out


def sim_text() -> str:
    e = Engine(PLAN)
    e.add(SimRequest("a", 20, 5, 5))
    while e.step():
        pass
    return render_vllm(e, Scrape("smol-bf16", 1.0)).decode()


def test_every_vllm_family_matches_the_real_capture() -> None:
    real = families((FIXTURES / "metrics_before_8000.txt").read_text())
    sim = families(sim_text())
    claimed = {n for n in sim if n.startswith("vllm:")}
    required = {
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
        "vllm:num_preemptions",
        "vllm:prompt_tokens",
        "vllm:generation_tokens",
        "vllm:request_success",
        "vllm:time_to_first_token_seconds",
        "vllm:inter_token_latency_seconds",
        "vllm:e2e_request_latency_seconds",
        "vllm:request_queue_time_seconds",
        "vllm:prefix_cache_queries",
        "vllm:prefix_cache_hits",
        "vllm:cache_config_info",
    }
    assert required <= claimed
    for name in claimed:
        assert name in real, name
        assert sim[name] == real[name], name
    real_vllm = {n for n in real if n.startswith("vllm:")}
    assert real_vllm == claimed  # and nothing vLLM shows is missing


def test_histogram_buckets_match_for_a_2048_token_model() -> None:
    import dataclasses

    plan = dataclasses.replace(PLAN, max_model_len=2048)
    text = render_vllm(Engine(plan), Scrape("smol-bf16", 1.0)).decode()

    def buckets(t: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for fam in text_string_to_metric_families(t):
            les = [s.labels["le"] for s in fam.samples if "le" in s.labels]
            if les:
                out[fam.name] = [str(float(x)) if x != "+Inf" else x for x in les]
        return out

    real = buckets((FIXTURES / "metrics_before_8000.txt").read_text())
    assert buckets(text) == {k: v for k, v in real.items() if k.startswith("vllm:")}


def test_cache_config_info_carries_the_plan() -> None:
    fam = next(
        f for f in text_string_to_metric_families(sim_text()) if f.name == "vllm:cache_config_info"
    )
    labels = fam.samples[0].labels
    assert labels["num_gpu_blocks"] == str(PLAN.num_gpu_blocks)
    assert labels["block_size"] == "16" and labels["cache_dtype"] == "auto"
    assert labels["gpu_memory_utilization"] == "0.9"


def test_dcgm_page_is_parseable_and_labelled_simulated() -> None:
    reading = gpu_reading(PLAN, 0.5, 12.5)
    text = render_dcgm(PLAN, reading, "bf16").decode()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    used = fams["DCGM_FI_DEV_FB_USED"].samples[0]
    assert used.value == round(PLAN.memory_used_bytes / 2**20)
    assert {"gpu", "UUID", "device", "modelName", "Hostname"} <= set(used.labels)
    assert fams["DCGM_FI_DEV_POWER_USAGE"].samples[0].value == PLAN.power_w(0.5)
    assert fams["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"].samples[0].value == 12500  # mJ
    assert fams["DCGM_FI_DEV_GPU_UTIL"].samples[0].value == 50
    assert all("simulated" in f.documentation for f in fams.values())
