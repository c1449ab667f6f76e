"""The memory plan and roofline against hand arithmetic."""

import pytest

from qtui.data import gpu_specs, model_shapes
from qtui.errors import QtuiError
from qtui.sim import physics
from qtui.sim.physics import make_plan

H100 = gpu_specs()["H100"]
L4 = gpu_specs()["L4"]
L8B = model_shapes()["llama-3.1-8b"]
L70B = model_shapes()["llama-3.1-70b"]


def test_8b_bf16_on_h100_matches_hand_calculation() -> None:
    plan = make_plan("bf16", L8B, H100, "bf16", "bf16", 0.9)
    # weights: 8.03e9 params × 2 B (embedding also 2 B) = 16.06 GB
    assert plan.weight_bytes == pytest.approx(16.06e9)
    # KV per token: 2 × 32 layers × 8 kv heads × 128 × 2 B = 131072 B
    assert plan.kv_bytes_per_token == 131072
    # free = 80e9 × 0.9 − 16.06e9 − 2e9 = 53.94e9 B → blocks of 16 tokens
    assert plan.num_gpu_blocks == int(53.94e9 // (131072 * 16))
    assert plan.max_model_len == 131072


def test_int4_leaves_more_kv_room_and_decodes_faster_than_bf16() -> None:
    bf16 = make_plan("a", L8B, H100, "bf16")
    int4 = make_plan("b", L8B, H100, "int4")
    assert int4.num_gpu_blocks > bf16.num_gpu_blocks * 1.15
    assert int4.step_time(1, 1000, 1000) < bf16.step_time(1, 1000, 1000)


def test_decode_step_is_weights_over_bandwidth_plus_overhead() -> None:
    plan = make_plan("a", L8B, H100, "bf16")
    expected = 16.06e9 / (3.35e12 * physics.MEM_EFFICIENCY) + physics.STEP_OVERHEAD_S
    assert plan.step_time(1, 0, 0) == pytest.approx(expected)


def test_prefill_is_compute_bound_for_long_prompts() -> None:
    plan = make_plan("a", L8B, H100, "fp8")
    t = plan.compute_time(4096, 0)
    assert t == pytest.approx(2 * 8.03e9 * 4096 / (1978.9e12 * physics.COMPUTE_EFFICIENCY))
    assert plan.step_time(4096, 4096, 0) > plan.decode_time(4096)


def test_70b_bf16_does_not_fit_one_l4() -> None:
    with pytest.raises(QtuiError) as err:
        make_plan("big", L70B, L4, "bf16")
    msg = str(err.value)
    assert "\n" not in msg and "'big'" in msg and "out of memory" in msg


def test_70b_int4_fits_two_h100s() -> None:
    plan = make_plan("tp", L70B, H100, "int4", tp=2)
    assert plan.num_gpu_blocks > 0 and plan.memory_used_bytes < H100.memory_bytes


def test_power_runs_from_idle_to_tdp() -> None:
    plan = make_plan("a", L8B, H100)
    assert plan.power_w(0) == pytest.approx(700 * physics.IDLE_POWER_FRACTION)
    assert plan.power_w(1) == pytest.approx(700)
