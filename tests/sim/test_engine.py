"""Continuous batching on the virtual clock: deterministic, no sleeping."""

import dataclasses

import pytest

from qtui.data import gpu_specs, model_shapes
from qtui.sim.engine import Engine, SimRequest
from qtui.sim.physics import BLOCK_SIZE, make_plan

PLAN = make_plan("t", model_shapes()["llama-3.1-8b"], gpu_specs()["H100"])


def run(engine: Engine, limit: int = 100_000) -> None:
    for _ in range(limit):
        if engine.step() is None:
            return
    raise AssertionError("engine did not drain")


def test_single_request_token_times_follow_the_roofline() -> None:
    e = Engine(PLAN)
    r = SimRequest("a", prompt_tokens=100, max_tokens=10, target_tokens=10)
    e.add(r, at=0.0)
    first = e.step()
    assert first is not None and first.tokens == [r]  # prefill step yields the first token
    run(e)
    assert r.finished == "length" and r.generated == 10
    assert e.stats.hist["time_to_first_token_seconds"].total == pytest.approx(first.end)
    decode = PLAN.step_time(1, 101, 101.5)
    assert e.stats.hist["inter_token_latency_seconds"].total == pytest.approx(9 * decode, rel=0.01)
    assert e.stats.success["length"] == 1 and e.free_blocks == PLAN.num_gpu_blocks


def test_stop_before_max_tokens_is_reported_as_stop() -> None:
    e = Engine(PLAN)
    r = SimRequest("a", 10, max_tokens=50, target_tokens=7)
    e.add(r)
    run(e)
    assert r.finished == "stop" and e.stats.generation_tokens == 7


def test_batching_serves_requests_together() -> None:
    e = Engine(PLAN)
    reqs = [SimRequest(str(i), 50, 20, 20) for i in range(8)]
    for r in reqs:
        e.add(r, at=0.0)
    out = e.step()
    assert out is not None and len(out.tokens) == 8
    run(e)
    assert e.now < 8 * 20 * PLAN.step_time(1, 60, 60)  # far less than serving them one by one


def test_requests_wait_when_kv_is_full_and_get_preempted_when_it_runs_out() -> None:
    tiny = dataclasses.replace(PLAN, num_gpu_blocks=20)  # 320 tokens of KV cache
    e = Engine(tiny)
    reqs = [SimRequest(str(i), 60, 200, 200) for i in range(3)]
    for r in reqs:
        e.add(r, at=0.0)
    e.step()
    assert len(e.running) == 3 and not e.waiting  # 3 × 4 blocks fit; growing to 17 each will not
    run(e)
    assert all(r.finished == "length" for r in reqs)
    assert e.stats.preemptions > 0
    assert e.free_blocks == 20


def test_queue_when_prompts_do_not_fit() -> None:
    tiny = dataclasses.replace(PLAN, num_gpu_blocks=10)  # 160 tokens
    e = Engine(tiny)
    a, b = SimRequest("a", 120, 5, 5), SimRequest("b", 120, 5, 5)
    e.add(a, at=0.0)
    e.add(b, at=0.0)
    e.step()
    assert e.running == [a] and list(e.waiting) == [b]
    run(e)
    assert b.finished == "length" and b.scheduled_at is not None and b.scheduled_at > 0


def test_abort_frees_blocks_and_counts() -> None:
    e = Engine(PLAN)
    r = SimRequest("a", 1000, 100, 100)
    e.add(r)
    e.step()
    assert e.free_blocks < PLAN.num_gpu_blocks
    assert e.abort("a") and not e.abort("a")
    assert e.free_blocks == PLAN.num_gpu_blocks and e.stats.success["abort"] == 1
    assert e.step() is None


def test_prefix_cache_hits_on_a_repeated_prompt() -> None:
    e = Engine(PLAN)
    e.add(SimRequest("a", 100, 2, 2, prompt_key=42))
    run(e)
    e.add(SimRequest("b", 100, 2, 2, prompt_key=42))
    run(e)
    assert e.stats.prefix_queries == 200
    assert e.stats.prefix_hits == (99 // BLOCK_SIZE) * BLOCK_SIZE


def test_idle_engine_jumps_to_arrival_time() -> None:
    e = Engine(PLAN, now=5.0)
    e.add(SimRequest("a", 10, 1, 1), at=9.0)
    out = e.step()
    assert out is not None and out.start == 9.0


def test_same_inputs_same_timeline() -> None:
    def timeline() -> list[float]:
        e = Engine(PLAN)
        for i in range(5):
            e.add(SimRequest(str(i), 30 * (i + 1), 16, 16), at=0.001 * i)
        ends = []
        while (out := e.step()) is not None:
            ends.append(out.end)
        return ends

    assert timeline() == timeline()


def test_client_visible_latencies_count_from_receipt_queue_time_from_the_engine() -> None:
    e = Engine(PLAN, now=10.0)
    r = SimRequest("a", prompt_tokens=64, max_tokens=4, target_tokens=4)
    e.add(r, at=10.0)
    r.received = 9.5  # the server's front end held it half a second before the engine got it
    run(e)
    h = e.stats.hist
    assert r.first_token_at is not None
    assert h["time_to_first_token_seconds"].total == pytest.approx(r.first_token_at - 9.5)
    assert h["e2e_request_latency_seconds"].total == pytest.approx(e.now - 9.5)
    assert h["request_queue_time_seconds"].total == pytest.approx(0.0)


def test_shared_prefix_blocks_hit_across_different_prompts() -> None:
    from qtui.sim.text import block_keys

    shared = "s" * (4 * BLOCK_SIZE * 3)  # three whole blocks in common
    a, b = shared + "a" * 200, shared + "b" * 200
    ka, kb = block_keys(a, BLOCK_SIZE), block_keys(b, BLOCK_SIZE)
    assert ka[:3] == kb[:3] and ka[3] != kb[3] and len(ka) == len(a) // (4 * BLOCK_SIZE)
    e = Engine(PLAN)
    e.add(SimRequest("a", len(a) // 4, 2, 2, block_keys=ka))
    run(e)
    assert e.stats.prefix_hits == 0
    e.add(SimRequest("b", len(b) // 4, 2, 2, block_keys=kb))
    run(e)
    assert e.stats.prefix_hits == 3 * BLOCK_SIZE  # the shared part only; its suffix is prefilled


def test_prefix_cache_holds_only_its_capacity() -> None:
    from qtui.sim.text import block_keys

    e = Engine(PLAN, prefix_cache_tokens=4 * BLOCK_SIZE)
    first = "x" * (4 * BLOCK_SIZE * 4) + "!"
    e.add(SimRequest("a", len(first) // 4 + 1, 2, 2, block_keys=block_keys(first, BLOCK_SIZE)))
    run(e)
    other = "y" * (4 * BLOCK_SIZE * 4) + "!"  # fills the cache: the first prompt's blocks go
    e.add(SimRequest("b", len(other) // 4 + 1, 2, 2, block_keys=block_keys(other, BLOCK_SIZE)))
    run(e)
    e.add(SimRequest("c", len(first) // 4 + 1, 2, 2, block_keys=block_keys(first, BLOCK_SIZE)))
    run(e)
    assert e.stats.prefix_hits == 0


def test_a_finished_answers_blocks_are_cached_for_the_next_turn() -> None:
    from qtui.sim.text import block_keys

    turn1 = "u" * (4 * BLOCK_SIZE * 2)  # a 2-block prompt
    answer = "a" * (4 * BLOCK_SIZE * 3)  # and a 3-block answer
    e = Engine(PLAN)
    e.add(SimRequest("t1", len(turn1) // 4, 2, 2, block_keys=block_keys(turn1, BLOCK_SIZE)))
    run(e)
    e.cache_blocks(block_keys(turn1 + answer, BLOCK_SIZE))  # what the server does at its end
    turn2 = turn1 + answer + "q" * 100
    e.add(SimRequest("t2", len(turn2) // 4, 2, 2, block_keys=block_keys(turn2, BLOCK_SIZE)))
    run(e)
    assert e.stats.prefix_hits == 5 * BLOCK_SIZE  # the prompt's 2 blocks and the answer's 3


def test_later_turns_miss_past_the_caches_capacity() -> None:
    from qtui.sim.text import block_keys

    e = Engine(PLAN, prefix_cache_tokens=2 * BLOCK_SIZE)  # holds 2 blocks
    history = "h" * (4 * BLOCK_SIZE * 3)  # 3 blocks: only its last 2 stay (LRU)
    e.cache_blocks(block_keys(history, BLOCK_SIZE))
    turn = history + "q" * 100
    e.add(SimRequest("t", len(turn) // 4, 2, 2, block_keys=block_keys(turn, BLOCK_SIZE)))
    run(e)
    assert e.stats.prefix_hits == 0  # the chain's first block went: nothing hits from the start
