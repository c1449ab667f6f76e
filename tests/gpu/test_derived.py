"""Derived GPU figures against hand arithmetic (and the real vLLM 0.26 / nvidia-smi captures)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from qtui.evidence.records import MIB, GpuSample, ProcessSample
from qtui.gpu import derived as d

VLLM = Path(__file__).parents[1] / "fixtures" / "vllm"


def test_energy_per_million_tokens_hand_calculation() -> None:
    # 1.8 MJ = 0.5 kWh over 10,000 output tokens → 0.5 / 10,000 × 1e6 = 50 kWh per 1M tokens
    per_m = d.energy_per_million_tokens(1_800_000.0, 10_000)
    assert per_m.value == pytest.approx(50.0)
    assert per_m.unit == "kWh/1M tok"
    # at $0.12/kWh: 50 × 0.12 = $6.00 per 1M tokens; at 0.4 kg/kWh: 20 kg CO2
    assert d.energy_cost_per_million(per_m, 0.12).value == pytest.approx(6.0)
    assert d.co2_per_million(per_m, 0.4).value == pytest.approx(20.0)


def test_energy_figures_say_why_they_are_missing() -> None:
    none = d.energy_per_million_tokens(100.0, 0)
    assert none.value is None and "no output tokens" in none.reason
    assert d.energy_cost_per_million(none, 0.12).value is None
    co2 = d.co2_per_million(d.energy_per_million_tokens(3.6e6, 1_000_000), None)
    assert co2.value is None and "grid intensity" in co2.reason


def test_energy_delta_sums_increases() -> None:
    # 1000 → 3000 → 6000 mJ: 5000 mJ = 5 J
    delta = d.energy_delta_mj([1000, 3000, 6000])
    assert delta.joules == pytest.approx(5.0) and delta.resets == 0


def test_energy_delta_skips_a_reset_instead_of_guessing() -> None:
    # 5000 → 7000 (+2000), reset to 100 (dropped), 100 → 600 (+500): 2500 mJ = 2.5 J
    delta = d.energy_delta_mj([5000, 7000, 100, 600])
    assert delta.joules == pytest.approx(2.5) and delta.resets == 1


def test_energy_delta_unwraps_uint64() -> None:
    # 1000 mJ below the top, then 500 past zero: 1000 + 500 = 1500 mJ = 1.5 J
    delta = d.energy_delta_mj([2**64 - 1000, 500])
    assert delta.joules == pytest.approx(1.5) and delta.resets == 0


def test_energy_of_a_two_gpu_replica_adds_both_counters() -> None:
    # GPU0: 10 J → 40 J (+30), GPU1: 5 J → 25 J (+20), one None skipped: 50 J
    delta = d.endpoint_energy_j([[10.0, None, 40.0], [5.0, 25.0]])
    assert delta.joules == pytest.approx(50.0)


def test_average_power() -> None:
    # 3600 J over 10 s = 360 W
    assert d.average_power_w(3600.0, 10.0).value == pytest.approx(360.0)
    assert d.average_power_w(1.0, 0.0).value is None


def test_kv_headroom_from_real_vllm_cache_config() -> None:
    text = (VLLM / "metrics_before_8000.txt").read_text()
    labels = next(
        s.labels
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if s.name == "vllm:cache_config_info"
    )
    cfg = d.kv_cache_config(labels)
    assert cfg == (21701, 16)
    # 21,701 blocks × 16 tokens = 347,216 tokens (vLLM's own kv_cache_size_tokens agrees)
    assert int(labels["kv_cache_size_tokens"]) == 347_216
    head = d.kv_headroom(0.25, *cfg)
    # 25 % used: 86,804 tokens used, 260,412 free
    assert head.capacity_tokens == 347_216
    assert head.used_tokens == pytest.approx(86_804.0)
    assert head.free_tokens == pytest.approx(260_412.0)


def test_kv_config_absent_or_none() -> None:
    assert d.kv_cache_config({"block_size": "16", "num_gpu_blocks": "None"}) is None
    assert d.kv_cache_config({}) is None
    with pytest.raises(ValueError, match="0-1"):
        d.kv_headroom(1.5, 10, 16)


def test_memory_per_replica_from_processes_matches_nvidia_smi_capture() -> None:
    rows = list(csv.reader((VLLM / "nvsmi_apps.csv").read_text().splitlines()[1:]))
    procs = [
        ProcessSample(pid=int(pid), gpu=0, used_memory=int(mem.split()[0]) * MIB)
        for pid, mem in rows
    ]
    # the bf16 server (pid 3574) holds 10,160 MiB on its own
    mem = d.memory_per_replica([], procs[:1])
    assert mem.basis == "process" and mem.bytes == 10160 * MIB
    # both processes: 10,160 + 10,032 = 20,192 MiB
    assert d.memory_per_replica([], procs).bytes == 20192 * MIB


def test_memory_per_replica_falls_back_to_whole_gpus() -> None:
    gpus = [
        GpuSample(gpu=0, memory_used=30 * MIB),
        GpuSample(gpu=1, memory_used=12 * MIB),
        GpuSample(gpu=2, state="lost"),
    ]
    mem = d.memory_per_replica(gpus, [ProcessSample(pid=1, gpu=0, used_memory=None)])
    assert mem.basis == "gpu" and mem.bytes == 42 * MIB
    assert d.memory_per_replica([GpuSample(gpu=0, state="lost")], []).bytes is None
    assert d.memory_per_replica([], []).basis == "none"
