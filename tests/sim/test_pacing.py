"""Write pacing: how many engine steps a stream's tokens may wait so writes fit the CPU budget."""

from __future__ import annotations

from qtui.sim.pacing import Pacer, stride


def test_few_streams_get_every_token_in_its_own_chunk() -> None:
    assert stride(live=32, step_s=0.01, write_cost_s=50e-6) == 1
    assert stride(live=0, step_s=0.01, write_cost_s=50e-6) == 1
    assert stride(live=100, step_s=0.0, write_cost_s=50e-6) == 1


def test_many_streams_are_spread_so_writes_fit_the_budget() -> None:
    # 1000 streams × 50 µs per write = 50 ms of writes per step; 28 ms steps, half a core → 4
    k = stride(live=1000, step_s=0.028, write_cost_s=50e-6, budget=0.5)
    assert k == 4
    assert 1000 / k * 50e-6 <= 0.5 * 0.028  # what one step's writes cost, within the budget


def test_hold_never_exceeds_the_cap() -> None:
    assert stride(live=100_000, step_s=0.05, write_cost_s=1e-3, max_hold_s=0.25) == 5


def test_pacer_learns_the_cost_of_a_write() -> None:
    p = Pacer(write_cost_s=1.0, min_writes=10)
    p.writes = 5
    p.update()  # too few writes to learn from
    assert p.write_cost_s == 1.0
    p.writes += 1000
    p.update()
    assert p.write_cost_s < 1.0  # this process spent far less than 1 s of CPU per write


def test_a_fixed_cost_pacer_never_learns() -> None:
    p = Pacer(write_cost_s=50e-6, fixed=True)
    p.writes += 1000
    p.update()
    assert p.write_cost_s == 50e-6  # however little this process spent per write
    p.live = 1000
    assert p.stride(0.028) == 4  # as stride(1000, 0.028, 50 µs): chunking set by load alone
