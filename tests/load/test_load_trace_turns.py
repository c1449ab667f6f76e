"""Traces whose lines are turns of conversations (issue 21): read and checked, rebuilt from a
session's turn rows, rescaled whole, and replayed turn after turn with the history (a fake
clock for the times, real sockets for the bodies)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from chatserver import ChatServer, chat_server

from qtui.client.stream import Prompt
from qtui.config.profile import Profile, Workload
from qtui.errors import ConfigError
from qtui.evidence.records import RequestRecord
from qtui.load.conversation import history_tokens
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
    scale_rate,
    trace_from_requests,
)

P = Path("t.jsonl")


def lines(*objs: dict[str, Any]) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def turn(t: float, conv: object, k: int | None = None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"offset_s": t, "input_tokens": 10, "output_tokens": 5}
    d["conversation"] = conv
    if k is not None:
        d["turn"] = k
    return {**d, **kw}


def test_turn_lines_say_their_conversation_position_and_think_time() -> None:
    t = parse_trace(
        P,
        lines(
            turn(1.0, 7, 1),
            {"offset_s": 1.5, "input_tokens": 3, "output_tokens": 1},
            turn(2.0, 7, 2, think_s=0.25),
            # AIPerf's names: session_id, delay in ms; the position counted on
            {"timestamp": 2500, "input_length": 4, "output_length": 2, "session_id": "s1"},
            {"timestamp": 3000, "input_length": 4, "output_length": 2, "session_id": "s1",
             "delay": 1500},
        ),
    )  # fmt: skip
    assert [(it.conversation, it.turn, it.think_s) for it in t.items] == [
        (7, 1, None), (None, 0, None), (7, 2, 0.25), ("s1", 1, None), ("s1", 2, 1.5),
    ]  # fmt: skip
    plain = parse_trace(P, lines({"offset_s": 0, "input_tokens": 1, "output_tokens": 1}))
    assert t.multi_turn and not plain.multi_turn
    assert parse_trace(P, dump_trace(t.items)).items == t.items  # qtui's format keeps them
    assert json.loads(dump_trace(t.items[2:3])) == {
        "offset_s": 1.0, "input_tokens": 10, "output_tokens": 5, "conversation": 7, "turn": 2,
        "think_s": 0.25,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("objs", "where"),
    [
        ([turn(0, 7, 1), {"offset_s": 1, "input_tokens": 2, "output_tokens": 1, "turn": 2}],
         r"^t\.jsonl:2: conversation: a line with a turn needs its conversation"),
        ([turn(0, 7, 1), turn(1, 7, 3)],
         r"^t\.jsonl:2: turn: turn 3 of conversation 7 follows its turn 1 \(line 1\)"),
        ([turn(0, 7, 1), turn(1, "x", 2)],
         r"^t\.jsonl:2: turn: turn 2 of conversation 'x' is its first line"),
        ([turn(0, 7, 1), turn(1, 7, 2), turn(2, 7, 2)],
         r"^t\.jsonl:3: turn: turn 2 of conversation 7 follows its turn 2 \(line 2\)"),
        ([turn(0, 7, 0)], r"^t\.jsonl:1: turn: expected a whole number ≥ 1"),
        ([turn(0, True, 1)], r"^t\.jsonl:1: conversation: expected a number or a string"),
        ([turn(0, 7, 1), turn(1, 7, 2, think_s=-1)],
         r"^t\.jsonl:2: think_s: expected a number ≥ 0"),
    ],
)  # fmt: skip
def test_bad_turn_lines_are_one_line_naming_file_line_and_field(
    objs: list[dict[str, Any]], where: str
) -> None:
    with pytest.raises(ConfigError, match=where) as err:
        parse_trace(P, lines(*objs))
    assert "\n" not in str(err.value) and str(err.value).endswith("nothing sent")


def test_a_turn_counts_its_history_against_the_context_and_needs_the_chat_api(
    tmp_path: Path,
) -> None:
    t = parse_trace(P, lines(turn(0, 1, 1), turn(1, 1, 2), turn(2, 1, 3)))
    # turn 3 resends turns 1 and 2 with their answers: 2 × (10 + 5 + 2 × 4), then its 10 + 8
    t.check_limit(69, "bf16")
    with pytest.raises(ConfigError, match=r"^t\.jsonl:3: input \(with the conversation's "
                       r"history\) \+ output length 64 \+ 5 is over max_model_len 68 of "
                       r"endpoint bf16; nothing sent$"):  # fmt: skip
        t.check_limit(68, "bf16")
    (tmp_path / "t.jsonl").write_text(lines({"offset_s": 0, "input_tokens": 1,
                                             "output_tokens": 1}, turn(1, 1, 1)))  # fmt: skip
    with pytest.raises(ConfigError, match=r't\.jsonl:2: conversation: .* api = "chat"'):
        load_trace(Workload(kind="trace", trace_file="t.jsonl"), tmp_path)
    chat = load_trace(Workload(kind="trace", trace_file="t.jsonl", api="chat"), tmp_path)
    assert chat.items[1].turn == 1


def test_a_sessions_turns_become_turn_lines() -> None:
    def row(ep: str, t: float, p: int | None, c: int, conv: int = 0, k: int = 0) -> dict[str, Any]:
        return {"endpoint": ep, "t_send": t, "t_end": t + 1.0, "prompt_tokens": p,
                "completion_tokens": c, "conversation": conv, "turn": k}  # fmt: skip

    rows = [
        row("bf16", 100.0, 20, 5, 1, 1),
        row("bf16", 100.25, 9, 2),  # a plain request
        row("bf16", 101.5, 45, 5, 1, 2),  # 20 + 5 + 12 new + 2 × 4 template
        row("bf16", 103.0, None, 0, 1, 3),  # failed: no counts, left out
        row("bf16", 104.0, 80, 5, 1, 4),  # after a turn left out: cut (no history to follow)
        row("bf16", 100.5, 30, 3, 3, 1),
        row("fp8", 100.0, 20, 5, 1, 1),
    ]
    items = trace_from_requests(rows, "bf16")
    assert items == [
        TraceItem(0.0, 20, 5, None, (), 1, 1),
        TraceItem(0.25, 9, 2),
        TraceItem(0.5, 30, 3, None, (), 3, 1),
        TraceItem(1.5, 12, 5, None, (), 1, 2, 0.5),  # think: 101.5 − the answer's end 101.0
    ]
    assert parse_trace(P, dump_trace(items)).items == tuple(items)
    both = trace_from_requests(rows)  # every endpoint: their conversations kept apart
    assert {it.conversation for it in both} == {"bf16-1", "bf16-3", "fp8-1", None}


def test_rate_scale_keeps_or_copies_a_conversation_whole() -> None:
    src = [it for c in range(200) for it in (
        TraceItem(c * 1.0, 10, 5, None, (), c, 1), TraceItem(c * 1.0 + 0.5, 10, 5, None, (), c, 2),
    )]  # fmt: skip
    src.sort(key=lambda it: it.offset_s)
    half = scale_rate(src, 0.5, seed=3)
    kept: dict[Any, list[int]] = {}
    for it in half:
        kept.setdefault(it.conversation, []).append(it.turn)
    assert 60 < len(kept) < 140 and all(v == [1, 2] for v in kept.values())
    double = scale_rate(src, 2.0, seed=3)
    assert len(double) == 800
    copies = {it.conversation for it in double}
    assert copies == set(range(200)) | {f"{c}.1" for c in range(200)}
    t = parse_trace(P, dump_trace(double))  # still a valid trace: every turn in order
    first = {it.conversation: it.offset_s for it in t.items if it.turn == 1}
    assert all(it.offset_s - first[it.conversation] == pytest.approx(0.5)
               for it in t.items if it.turn == 2)  # fmt: skip


class Clock:
    """A fake clock: it moves when the sender sleeps and while a request is answered."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    async def sleep(self, d: float) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        self.t += d


class Client:
    """Answers each request ``answer_s`` of fake time later with 'ans n', or fails the
    (conversation, turn) pairs in ``fail``."""

    def __init__(
        self, clock: Clock, answer_s: float, fail: set[tuple[int, int]] | None = None
    ) -> None:
        self.clock, self.answer_s, self.fail, self.chunks = clock, answer_s, fail or set(), 0
        self.sent: list[tuple[float, str, Prompt]] = []

    async def send(
        self,
        prompt: Prompt,
        request_id: str,
        phase: Any = "measure",
        level: float = 0.0,
        sink: Callable[[RequestRecord], None] | None = None,
        answer: list[str] | None = None,
    ) -> RequestRecord:
        self.sent.append((self.clock(), request_id, prompt))
        self.clock.t += self.answer_s
        rec = RequestRecord("e", request_id, phase, level, turn=prompt.turn,
                            conversation=prompt.conversation)  # fmt: skip
        if (prompt.conversation, prompt.turn) in self.fail:
            rec.error_class = "http"
        elif answer is not None:
            answer.append(f"ans {request_id}")
        if sink:
            sink(rec)
        return rec

    async def aclose(self) -> None:
        pass


def play(t: Trace, speed: float, answer_s: float) -> tuple[TraceSender, Client]:
    clock = Clock()
    client = Client(clock, answer_s)
    w = Workload(kind="trace", trace_file="t.jsonl", api="chat")
    s = TraceSender("e", client, t, TracePrompts(t, w), LocalCounter(None), lambda r: None,
                    speed, clock=clock, sleep=clock.sleep, spin_s=0.0)  # fmt: skip
    return s, client


async def run_once(s: TraceSender) -> None:
    s.start(1.0, "rate", Bounds(0.0, float("inf")))
    await asyncio.wait_for(s.exhausted.wait(), 600)
    await s.stop(cancel=False, grace_s=1)


@pytest.mark.parametrize(("speed", "sends"), [(1.0, [0.0, 1.0, 1.9]), (2.0, [0.0, 0.65, 1.3])])
async def test_a_later_turn_waits_for_its_time_and_the_answer_plus_think(
    speed: float, sends: list[float]
) -> None:
    # turn 2 is due at 1.0 (its time wins over answer 0.4 + think 0.5); turn 3 at 1.2, but
    # turn 2's answer ends at 1.4, then 0.5 of thinking: 1.9. At speed 2 both scale by 1/2.
    t = parse_trace(P, lines(turn(0, "a", 1), turn(1.0, "a", 2, think_s=0.5),
                             turn(1.2, "a", 3, think_s=0.5)))  # fmt: skip
    s, client = play(t, speed, answer_s=0.4)
    await run_once(s)
    assert [round(at - 1000.0, 9) for at, *_ in client.sent] == sends
    assert [round(x - 1000.0, 9) for x in s.targets] == sends
    prompts = [p for *_, p in client.sent]
    assert [(p.turn, p.conversation) for p in prompts] == [(1, 1), (2, 1), (3, 1)]
    assert [len(p.history) for p in prompts] == [0, 2, 4]
    assert prompts[2].history == (
        ("user", prompts[0].text), ("assistant", "ans e-1"),
        ("user", prompts[1].text), ("assistant", "ans e-2"),
    )  # fmt: skip
    # the length estimate counts the history (characters / 4 and 4 template tokens each)
    assert [p.input_tokens - history_tokens(p.history) for p in prompts] == [14, 14, 14]


async def test_a_failed_turn_ends_its_conversation_only() -> None:
    t = parse_trace(P, lines(turn(0, "a", 1), turn(0.1, "b", 1), turn(0.2, "a", 2),
                             turn(0.3, "b", 2), turn(0.4, "a", 3), turn(0.5, "b", 3)))  # fmt: skip
    # the real clock (two conversations at once): a's first turn is request 1, its id
    client = Client(Clock(), 0.0, fail={(1, 2)})
    w = Workload(kind="trace", trace_file="t.jsonl", api="chat", speed=10.0)
    s = TraceSender("e", client, t, TracePrompts(t, w), LocalCounter(None), lambda r: None, 10.0)
    await run_once(s)
    sent: dict[int, list[int]] = {}
    for *_, p in client.sent:
        sent.setdefault(p.conversation, []).append(p.turn)
    assert sent == {1: [1, 2], 2: [1, 2, 3]}  # a's turn 3 never sent; b went on


async def test_stop_ends_a_turns_think_time_and_sends_no_more() -> None:
    t = parse_trace(P, lines(turn(0, "a", 1), turn(0, "a", 2, think_s=3600.0)))
    client = Client(Clock(), 0.0)
    w = Workload(kind="trace", trace_file="t.jsonl", api="chat")
    s = TraceSender("e", client, t, TracePrompts(t, w), LocalCounter(None), lambda r: None)
    s.start(1.0, "rate", Bounds(0.0, float("inf")))
    while not client.sent:
        await asyncio.sleep(0)
    await asyncio.wait_for(s.stop(cancel=True, grace_s=1), 600)  # a guard, not a timing
    assert len(client.sent) == 1 and not s.exhausted.is_set() and not s.convs


def chat_profile(tmp_path: Path, text: str) -> Profile:
    (tmp_path / "trace.jsonl").write_text(text)
    w = {"kind": "trace", "trace_file": "trace.jsonl", "api": "chat", "speed": 20.0}
    return Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": w,
            "load": {"mode": "rate"},
        }
    )


async def test_the_engine_replays_turns_with_the_servers_answers(tmp_path: Path) -> None:
    text = lines(turn(0, "a", 1), turn(0.1, "b", 1), {"offset_s": 0.2, "input_tokens": 6,
                 "output_tokens": 2}, turn(0.3, "a", 2), turn(0.4, "b", 2), turn(0.5, "a", 3),
                 turn(0.6, "b", 3))  # fmt: skip
    server = ChatServer()
    recs: list[RequestRecord] = []
    async with chat_server(server) as url:
        run = LoadRun(chat_profile(tmp_path, text), {"e0": url}, on_record=recs.append,
                      base_dir=tmp_path, scrape=False)  # fmt: skip
        res = (await run.run())["e0"]  # no duration: the trace's, ended by its last turn
    assert res.sent == 7 and all(r.ok for r in recs)
    recs.sort(key=lambda r: r.t_send)
    by_conv: dict[int, list[RequestRecord]] = {}
    for r in recs:
        by_conv.setdefault(r.conversation, []).append(r)
    plain = by_conv.pop(0)
    assert [r.turn for r in plain] == [0]
    assert len(by_conv) == 2 and all([r.turn for r in c] == [1, 2, 3] for c in by_conv.values())
    for c in by_conv.values():  # each turn went after the answer before it
        assert all(b.t_send >= a.t_end for a, b in pairwise(c))
    sizes = sorted(len(b["messages"]) for b in server.bodies)
    assert sizes == [1, 1, 1, 3, 3, 5, 5]  # the history grows by the turn and its answer
    for j, b in enumerate(server.bodies):  # a history is an earlier body and its live answer
        m = b["messages"]
        if len(m) > 1:
            assert any(
                m[:-2] == server.bodies[i]["messages"]
                and m[-2] == {"role": "assistant", "content": f"answer {i + 1}"}
                for i in range(j)
            )


async def test_a_bad_turn_line_stops_the_run_before_anything_is_sent(tmp_path: Path) -> None:
    text = lines(turn(0, "a", 1), {"offset_s": 1, "input_tokens": 2, "output_tokens": 1,
                                   "turn": 2})  # fmt: skip
    server = ChatServer()
    async with chat_server(server) as url:
        run = LoadRun(chat_profile(tmp_path, text), {"e0": url}, base_dir=tmp_path, scrape=False)
        with pytest.raises(ConfigError, match=r"trace\.jsonl:2: conversation: a line with a turn"):
            await run.start()
    assert server.bodies == []
