"""Trace replay: reading and checking traces (qtui's and Mooncake's), the sender's schedule on a
fake clock, hash-id blocks, writing a trace from session rows, and a replay through the engine."""

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fakevllm import Behaviour, FakeServer

from qtui.client.stream import Prompt
from qtui.config.profile import Profile, Workload
from qtui.errors import ConfigError
from qtui.evidence.records import RequestRecord
from qtui.load.engine import LoadRun
from qtui.load.sender import Bounds, LocalCounter
from qtui.load.trace import (
    Trace,
    TraceItem,
    TracePrompts,
    TraceSender,
    dump_trace,
    load_trace,
    parse_trace,
    read_trace,
    trace_from_requests,
)
from qtui.load.workload import make_source

P = Path("t.jsonl")
MOONCAKE = (
    '{"timestamp": 0, "input_length": 655, "output_length": 52, "hash_ids": [46, 47]}\n'
    '{"timestamp": 10535, "input_length": 672, "output_length": 26, "hash_ids": [46, 47]}\n'
    "\n"
    '{"timestamp": 27482, "input_length": 655, "output_length": 52, "hash_ids": [46, 47]}\n'
)


def lines(*objs: dict[str, Any]) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def test_mooncake_lines_are_read_as_they_are() -> None:
    t = parse_trace(P, MOONCAKE)
    assert [it.offset_s for it in t.items] == [0.0, 10.535, 27.482]
    assert [it.input_tokens for it in t.items] == [655, 672, 655]
    assert t.items[1] == TraceItem(10.535, 672, 26, None, (46, 47))
    assert t.lines == (1, 2, 4)  # the blank line is skipped, not renumbered
    assert t.span_s == 27.482


def test_qtui_lines_count_from_the_first_and_take_a_prompt() -> None:
    t = parse_trace(
        P,
        lines(
            {"offset_s": 5.0, "input_tokens": 8, "output_tokens": 2},
            {"offset_s": 5.5, "prompt": "x" * 40, "output_tokens": 3},
        ),
    )
    assert [it.offset_s for it in t.items] == [0.0, 0.5]
    assert t.items[1].prompt == "x" * 40 and t.items[1].input_tokens == 10  # estimated


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (lines({"timestamp": 5, "input_length": 1, "output_length": 1},
               {"timestamp": 4, "input_length": 1, "output_length": 1}),
         r"^t\.jsonl:2: timestamp: 4 is before the line above"),
        (lines({"timestamp": -1, "input_length": 1, "output_length": 1}),
         r"^t\.jsonl:1: timestamp: negative time -1"),
        (lines({"timestamp": 0, "input_length": 1, "output_length": 1},
               {"timestamp": 1, "output_length": 1}),
         r"^t\.jsonl:2: input_tokens: missing"),
        (lines({"timestamp": 0, "input_length": 3}), r"^t\.jsonl:1: output_tokens: missing"),
        (lines({"input_length": 3, "output_length": 1}), r"^t\.jsonl:1: timestamp: missing"),
        (lines({"offset_s": "0", "input_tokens": 1, "output_tokens": 1}),
         r"^t\.jsonl:1: offset_s: expected a number"),
        (lines({"timestamp": 0, "input_length": 0, "output_length": 1}),
         r"^t\.jsonl:1: input_length: expected a whole number"),
        (lines({"timestamp": 0, "input_length": 2, "output_length": 1.5}),
         r"^t\.jsonl:1: output_length: expected a whole number"),
        (lines({"timestamp": 0, "input_length": 2, "output_length": 1, "hash_ids": "a"}),
         r"^t\.jsonl:1: hash_ids: expected a list"),
        ('{"timestamp": 0, "input_length": 2, "output_length": 1}\n{oops\n',
         r"^t\.jsonl:2: not a JSON object"),
        ("\n\n", r"^t\.jsonl: no requests"),
    ],
)  # fmt: skip
def test_bad_trace_is_one_line_naming_file_line_and_field(text: str, where: str) -> None:
    with pytest.raises(ConfigError, match=where) as err:
        parse_trace(P, text)
    assert "\n" not in str(err.value) and "nothing sent" in str(err.value)


def test_lengths_over_the_endpoints_context_name_the_line() -> None:
    t = parse_trace(P, MOONCAKE)
    t.check_limit(None, "bf16")
    t.check_limit(707, "bf16")
    with pytest.raises(ConfigError, match=r"^t\.jsonl:4: input \+ output length 655 \+ 52 "):
        parse_trace(P, MOONCAKE.replace('"input_length": 655', '"input_length": 1', 1)).check_limit(
            706, "fp8"
        )
    with pytest.raises(ConfigError, match=r"max_model_len 706 of endpoint fp8; nothing sent$"):
        t.check_limit(706, "fp8")


def test_unreadable_trace_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read trace file"):
        read_trace(tmp_path / "none.jsonl")


def test_hash_ids_are_shared_blocks_cut_to_the_input_length() -> None:
    w = Workload(kind="trace", trace_file="t.jsonl", trace_block_size=4)
    t = parse_trace(
        P,
        lines(
            {"timestamp": 0, "input_length": 7, "output_length": 1, "hash_ids": [1, 2]},
            {"timestamp": 1, "input_length": 10, "output_length": 1, "hash_ids": [1, 3]},
            {"timestamp": 2, "input_length": 5, "output_length": 1},
        ),
    )
    tp = TracePrompts(t, w)
    a, b = tp.prompt(0, 1).text.split(), tp.prompt(1, 2).text.split()
    assert len(a) == 7 and len(b) == 10  # 4 + 3 (last block cut); 4 + 4 + 2 padded
    assert a[:4] == b[:4] and a[4:7] != b[4:7]  # block 1 shared, blocks 2 and 3 differ
    assert tp.prompt(0, 9).text == tp.prompt(0, 1).text  # same ids, same text, every time
    assert TracePrompts(t, w).prompt(1, 5).text.split()[:8] == b[:8]  # and in every endpoint
    c, d = tp.prompt(2, 3), tp.prompt(2, 4)
    assert c.text != d.text and len(c.text.split()) == 4  # no ids: unique, numbered head
    assert c.max_tokens == 1 and c.fixed_output and c.input_tokens == 5


class FakeClock:
    """A clock that moves only when the sender sleeps (after letting started tasks run)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, d: float) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        self.t += d


class FakeClient:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock, self.chunks = clock, 0
        self.sent: list[tuple[float, str, Prompt, float]] = []

    async def send(
        self,
        prompt: Prompt,
        request_id: str,
        phase: Any = "measure",
        level: float = 0.0,
        sink: Callable[[RequestRecord], None] | None = None,
        answer: list[str] | None = None,
    ) -> RequestRecord:
        self.sent.append((self.clock(), request_id, prompt, level))
        rec = RequestRecord("e", request_id, phase, level, completion_tokens=prompt.max_tokens)
        if sink:
            sink(rec)
        return rec

    async def aclose(self) -> None:
        pass


def sender(
    t: Trace, limit: int | None = None, speed: float = 1.0, cycle: bool = False
) -> tuple[TraceSender, FakeClient, FakeClock, list[RequestRecord]]:
    clock = FakeClock()
    client = FakeClient(clock)
    done: list[RequestRecord] = []
    w = Workload(kind="trace", trace_file="t.jsonl")
    s = TraceSender(
        "e", client, t, TracePrompts(t, w), LocalCounter(limit), done.append, speed, cycle,
        clock=clock, sleep=clock.sleep, spin_s=0.0,
    )  # fmt: skip
    return s, client, clock, done


def offsets(client: FakeClient, t0: float = 1000.0) -> list[float]:
    return [round(t - t0, 9) for t, *_ in client.sent]


async def test_sender_sends_at_the_traces_times_scaled_by_speed() -> None:
    t = parse_trace(P, MOONCAKE)
    s, client, _, done = sender(t, speed=2.0)
    s.start(1.0, "rate", Bounds(0.0, float("inf")))
    await asyncio.wait_for(s.exhausted.wait(), 5)
    await s.stop(cancel=False, grace_s=1)
    assert offsets(client) == [0.0, 5.2675, 13.741]
    assert [r for _, r, _, _ in client.sent] == ["e-1", "e-2", "e-3"]
    assert [p.max_tokens for _, _, p, _ in client.sent] == [52, 26, 52]
    assert len(done) == 3 and s.sent == 3 and s.in_flight == 0
    assert [round(x - 1000.0, 9) for x in s.targets] == [0.0, 5.2675, 13.741]


async def test_level_multiplies_speed_and_changes_from_where_the_trace_is() -> None:
    t = parse_trace(P, lines(*({"offset_s": i, "input_tokens": 4, "output_tokens": 1}
                               for i in range(5))))  # fmt: skip
    s, client, clock, _ = sender(t)
    s.start(2.0, "rate", Bounds(0.0, float("inf")))  # 2× speed: one every 0.5 s
    while len(client.sent) < 2:
        await asyncio.sleep(0)
    assert offsets(client) == [0.0, 0.5]
    clock.t = 1000.75  # half-way to the third request, the level drops to 1×
    s.set_level(1.0)
    await asyncio.wait_for(s.exhausted.wait(), 5)
    await s.stop(cancel=False, grace_s=1)
    # trace time 1.5 at 1000.75; the rest at 1 s per trace second from there
    assert offsets(client) == [0.0, 0.5, 1.25, 2.25, 3.25]
    assert [lv for *_, lv in client.sent] == [2.0, 2.0, 1.0, 1.0, 1.0]


async def test_request_limit_exhausts_and_a_cycled_trace_plays_again() -> None:
    t = parse_trace(P, MOONCAKE)
    s, client, _, _ = sender(t, limit=2)
    s.start(1.0, "rate", Bounds(0.0, float("inf")))
    await asyncio.wait_for(s.exhausted.wait(), 5)
    await s.stop(cancel=True, grace_s=1)
    assert len(client.sent) == 2
    s, client, _, _ = sender(t, limit=7, cycle=True)
    s.start(1.0, "rate", Bounds(0.0, float("inf")))
    await asyncio.wait_for(s.exhausted.wait(), 5)
    await s.stop(cancel=True, grace_s=1)
    # laps of 27.482 s plus one mean gap (13.741 s) between the last and the next first
    lap = 27.482 + 13.741
    assert offsets(client) == pytest.approx(
        [0.0, 10.535, 27.482, lap, lap + 10.535, lap + 27.482, 2 * lap], abs=1e-9
    )


async def test_stop_before_the_next_time_sends_nothing_more() -> None:
    t = parse_trace(P, MOONCAKE)
    s = TraceSender(
        "e", FakeClient(lambda: 0.0), t, TracePrompts(t, Workload()), LocalCounter(None),
        lambda r: None,
    )  # fmt: skip
    s.start(1.0, "rate", Bounds(0.0, float("inf")))
    await asyncio.sleep(0.05)  # the first request went; the second is 10.5 s away
    await s.stop(cancel=True, grace_s=1)
    assert s.sent == 1 and not s.exhausted.is_set()


def test_a_session_becomes_a_trace_that_reads_back() -> None:
    rows = [
        {"endpoint": "bf16", "t_send": 1002.5, "prompt_tokens": 30, "completion_tokens": 5},
        {"endpoint": "bf16", "t_send": 1000.0, "prompt_tokens": 20, "completion_tokens": 4},
        {"endpoint": "fp8", "t_send": 1000.1, "prompt_tokens": 20, "completion_tokens": 4},
        {"endpoint": "bf16", "t_send": 1001.0, "prompt_tokens": None, "completion_tokens": 0},
        {"endpoint": "bf16", "t_send": 1003.0, "prompt_tokens": 7, "completion_tokens": 2},
    ]
    items = trace_from_requests(rows, "bf16")
    assert items == [TraceItem(0.0, 20, 4), TraceItem(2.5, 30, 5), TraceItem(3.0, 7, 2)]
    assert parse_trace(P, dump_trace(items)).items == tuple(items)
    assert len(trace_from_requests(rows)) == 4 and trace_from_requests([]) == []


def test_make_source_gives_a_trace_in_order_without_times(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_text(MOONCAKE)
    src = make_source(Workload(kind="trace", trace_file="t.jsonl"), tmp_path)
    assert [src.next().max_tokens for _ in range(4)] == [52, 26, 52, 52]
    with pytest.raises(ConfigError, match=r"t\.jsonl:1: input \+ output"):
        make_source(Workload(kind="trace", trace_file="t.jsonl"), tmp_path, max_model_len=600)


def trace_profile(tmp_path: Path, text: str, rate_scale: float = 1.0, **load: object) -> Profile:
    (tmp_path / "trace.jsonl").write_text(text)
    return Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": {
                "kind": "trace",
                "trace_file": "trace.jsonl",
                "speed": 50.0,
                "rate_scale": rate_scale,
            },
            "load": {"mode": "rate", "processes": 4, **load},
        }
    )


async def test_engine_replays_a_trace_once_in_one_process_and_ends(tmp_path: Path) -> None:
    text = lines(*({"timestamp": 20 * i, "input_length": 8, "output_length": 1 + i % 3}
                   for i in range(12)))  # fmt: skip
    recs: list[RequestRecord] = []
    events: list[str] = []
    async with FakeServer(Behaviour()) as url:
        run = LoadRun(
            trace_profile(tmp_path, text), {"e0": url}, on_record=recs.append, base_dir=tmp_path,
            on_event=lambda k, m: events.append(m), scrape=False,
        )  # fmt: skip
        res = (await run.run())["e0"]  # no duration given: the trace's length, then drained
    assert run.processes == 1 and "a trace is replayed from one process" in events
    recs.sort(key=lambda r: int(r.request_id.split("-")[1]))
    assert [r.completion_tokens for r in recs] == [1 + i % 3 for i in range(12)]
    assert all(r.ok and r.level == 1.0 for r in recs) and res.sent == 12
    assert [r.request_id for r in sorted(recs, key=lambda r: r.t_send)] == [
        f"e0-{i}" for i in range(1, 13)
    ]


async def test_rate_scale_sends_each_request_twice_over_the_same_span(tmp_path: Path) -> None:
    text = lines(*({"timestamp": 20 * i, "input_length": 8, "output_length": 1 + i % 3}
                   for i in range(6)))  # fmt: skip
    recs: list[RequestRecord] = []
    async with FakeServer(Behaviour()) as url:
        run = LoadRun(
            trace_profile(tmp_path, text, rate_scale=2.0), {"e0": url}, on_record=recs.append,
            base_dir=tmp_path, scrape=False,
        )  # fmt: skip
        res = (await run.run())["e0"]
    assert res.sent == 12 and sorted(r.completion_tokens for r in recs) == sorted(
        2 * [1 + i % 3 for i in range(6)]
    )
    w = Workload(kind="trace", trace_file="trace.jsonl", rate_scale=0.001)
    with pytest.raises(ConfigError, match=r"rate_scale = 0\.001 keeps no request of 6"):
        load_trace(w, tmp_path)


async def test_engine_checks_the_trace_against_the_server_before_sending(tmp_path: Path) -> None:
    text = lines({"timestamp": 0, "input_length": 8, "output_length": 1},
                 {"timestamp": 1, "input_length": 4000, "output_length": 100})  # fmt: skip
    served = Behaviour()
    async with FakeServer(served) as url:
        run = LoadRun(trace_profile(tmp_path, text), {"e0": url}, base_dir=tmp_path, scrape=False)
        with pytest.raises(ConfigError, match=r"trace\.jsonl:2: input \+ output .* 4096 of "):
            await run.start()
    assert served.served["requests"] == 0
