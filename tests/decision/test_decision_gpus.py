"""One precision on any GPU: measured wins, else projected with a measured decode share; the
fit check decides whether it runs there at all (hand arithmetic; the simulator as truth)."""

from __future__ import annotations

import pytest

from qtui.config.profile import LengthDist
from qtui.data import gpu_specs, model_shapes
from qtui.decision.gpus import decode_share, on_gpu, slo_concurrency
from qtui.evidence.accumulate import Evidence
from qtui.evidence.capacity import Capacity
from qtui.evidence.levels import LevelPoint
from qtui.session.synth import synth_profile
from qtui.sim.capacity import model_point
from qtui.sim.physics import make_plan

POINT = LevelPoint(level=8, rps=2.0, input_tps=1024.0, output_tps=512.0,
                   ttft_p95_s=0.1, itl_p95_s=0.01, e2e_p95_s=2.7)  # fmt: skip
CAP = Capacity(rps=2.0, output_tps=512.0, input_tps=1024.0, p95_s=2.7, met_slo=True, level=8)


def test_decode_share_from_ttft_and_itl_at_the_capacity_level() -> None:
    share, why = decode_share(CAP, (POINT,))
    # 512 / 2 = 256 tokens per request: 255 × 10 ms = 2.55 s decoding, 2.55 / (0.1 + 2.55)
    assert share == pytest.approx(2.55 / 2.65)
    assert why == "from TTFT p95 100 ms, ITL p95 10.0 ms × 255 tok at 8 users"
    assert decode_share(Capacity.none("no load"), ()) == (None, "no capacity level measured")


def test_slo_concurrency_is_the_users_or_littles_law() -> None:
    assert slo_concurrency(CAP, (POINT,)) == 8
    rate = LevelPoint(level=2, rps=2.0, input_tps=0, output_tps=512.0, unit="req/s")
    assert slo_concurrency(CAP, (rate,)) == pytest.approx(2.0 * 2.7)  # 5.4 in flight


def _evidence() -> Evidence:
    """bf16 and fp8 of Llama-3.1-8B measured on H100 (sweep: 2 req/s at 1 user passes)."""
    ev = Evidence(synth_profile(2))
    for name in ("bf16", "fp8"):
        ev.ingest("discovery", {"endpoint": name, "model": "meta-llama/Llama-3.1-8B-Instruct"})
        for level, e2e in ((1, 1.0), (4, 9.0)):
            ev.ingest(
                "sweep_level",
                {"endpoint": name, "level": level, "rps": 2.0 * level, "in_tps": 1024.0 * level,
                 "out_tps": 256.0 * level, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": e2e,
                 "error_rate": 0.0},
            )  # fmt: skip
    return ev


def test_measured_wins_and_another_gpu_is_projected() -> None:
    ev = _evidence()
    here = on_gpu(ev, "bf16", "H100")
    assert here.measured and here.basis == "measured on H100" and here.capacity.rps == 2.0
    h200 = on_gpu(ev, "bf16", "H200")
    # 128 tok/request: 127 × 10 ms / (100 + 1,270 ms) = 92.7 % decode; bandwidth 4.8 / 3.35 =
    # 1.433, bf16 TFLOPS equal: factor = 1 / (0.9270 / 1.4328 + 0.0730 / 1) = 1.3890
    assert not h200.measured
    assert h200.capacity.rps == pytest.approx(2.0 * 1.3890, rel=1e-3)
    assert h200.basis.startswith("projected from H100: decode × 1.43 (bandwidth), prefill × 1.00")
    assert h200.capacity.source == h200.basis


def test_fit_check_on_a_gpu_too_small_for_the_weights() -> None:
    ev = _evidence()
    t4 = on_gpu(ev, "bf16", "T4")
    # weights 8.03e9 × 2 B = 14.96 GiB; KV 1 user × 640 tok × 131,072 B = 0.08 GiB;
    # T4 16e9 B = 14.90 GiB × 0.9 = 13.41 GiB
    assert t4.fit is not None and not t4.fit.fits
    assert t4.fit_text == "needs 15.0 GiB, T4 has 14.9 × 0.9 = 13.4 GiB: 1.6 GiB short"
    assert t4.capacity.rps is None and t4.capacity.reason == "does not fit on T4"
    fp8 = on_gpu(ev, "fp8", "L4")  # 8.03 GB of fp8 weights fit L4's 22.4 × 0.9 = 20.1 GiB
    assert fp8.fit is not None and fp8.fit.fits and fp8.capacity.usable
    assert on_gpu(ev, "bf16", "T4", gpus=2).fit_text.startswith("needs 15.0 GiB, 2 × T4 has 29.8")


def test_a_measurement_of_the_same_precision_on_that_gpu_wins() -> None:
    profile = synth_profile(2)
    eps = [profile.endpoints[0], profile.endpoints[0].model_copy(update={"name": "bf16-l4",
                                                                         "gpu": "L4"})]  # fmt: skip
    ev = Evidence(profile.model_copy(update={"endpoints": eps}))
    for name, rps in (("bf16", 2.0), ("bf16-l4", 0.5)):
        ev.ingest("sweep_level", {"endpoint": name, "level": 1, "rps": rps, "out_tps": 64.0,
                                  "in_tps": 0.0, "ttft_p95": 0.1, "itl_p95": 0.01,
                                  "e2e_p95": 1.0})  # fmt: skip
    on = on_gpu(ev, "bf16", "L4")
    assert on.measured and on.basis == "measured on L4 (bf16-l4)" and on.capacity.rps == 0.5


PROMPT, OUTPUT = LengthDist(mean=64, dist="fixed"), LengthDist(mean=256, dist="fixed")


def _sim(gpu: str) -> LevelPoint:
    plan = make_plan("x", model_shapes()["llama-3.1-8b"], gpu_specs()[gpu], "bf16", "bf16")
    return model_point(plan, "concurrency", 32, PROMPT, OUTPUT, requests=200)


@pytest.mark.parametrize("target", ["H200", "A100-80GB"])
def test_projection_with_the_measured_decode_share_against_the_simulator(target: str) -> None:
    from qtui.decision.gpus import projected

    h100 = _sim("H100")
    cap = Capacity(rps=h100.rps, output_tps=h100.output_tps, input_tps=h100.input_tps,
                   met_slo=True, level=32)  # fmt: skip
    share, why = decode_share(cap, (h100,))
    assert share is not None
    got = projected(cap, "H100", target, "bf16", share, why).rps
    assert got == pytest.approx(_sim(target).rps, rel=0.15)


def test_fp8_on_t4_is_refused_as_vllm_refuses_it() -> None:
    ev = _evidence()
    t4 = on_gpu(ev, "fp8", "T4")
    assert t4.capacity.reason == "not supported on T4"
    assert t4.capacity.detail == "vLLM's fp8 needs compute capability ≥ 8.0; T4 has 7.5"
    a10 = on_gpu(ev, "fp8", "A10G")  # weight-only Marlin: projected at the bf16 rate
    assert "Marlin W8A16" in a10.basis and a10.capacity.usable
