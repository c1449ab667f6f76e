"""Multi-turn conversations over real sockets: each turn resends the history with the server's
actual answers; think time, open loop, a failed turn, a sweep (issue 21)."""

from __future__ import annotations

import asyncio
from typing import Any

from chatserver import ChatServer, chat_server

from qtui.config.profile import Profile
from qtui.evidence.records import RequestRecord
from qtui.load.conversation import SyntheticConversations
from qtui.load.engine import LoadRun


def profile(workload: dict[str, Any] | None = None, **load: object) -> Profile:
    return Profile.model_validate(
        {
            "profile": {"name": "t"},
            "endpoints": [{"name": "e0", "url": "http://127.0.0.1:1", "precision": "bf16"}],
            "workload": {
                "api": "chat",
                "turns": 3,
                "input_tokens": {"mean": 12},
                "output_tokens": {"mean": 2},
                **(workload or {}),
            },
            "load": {"concurrency": 1, "duration_s": 60, **load},
        }
    )


RUNS: list[int] = []  # the nonce of each run below, latest last


async def run(prof: Profile, server: ChatServer) -> list[RequestRecord]:
    recs: list[RequestRecord] = []
    async with chat_server(server) as url:
        lr = LoadRun(prof, {"e0": url}, on_record=recs.append, scrape=False)
        await lr.run()
    RUNS.append(lr.run_nonce)
    return sorted(recs, key=lambda r: int(r.request_id.rsplit("-", 1)[1]))


def user_turns(prof: Profile, n: int) -> list[str]:
    """The user turns the last run sent (the same seeded source, salt 0 for the first endpoint,
    that run's nonce)."""
    src = SyntheticConversations(prof.workload, 100_000, run=RUNS[-1])
    out: list[str] = []
    while len(out) < n:
        out += [t.text for t in src.next().turns]
    return out[:n]


async def test_each_turn_resends_the_history_with_the_servers_answers() -> None:
    server = ChatServer()
    prof = profile(max_requests=6)
    recs = await run(prof, server)
    u = user_turns(prof, 6)
    msgs = [b["messages"] for b in server.bodies]
    assert msgs[0] == [{"role": "user", "content": u[0]}]
    assert msgs[1] == [
        {"role": "user", "content": u[0]},
        {"role": "assistant", "content": "answer 1"},  # the server's actual answer to request 1
        {"role": "user", "content": u[1]},
    ]
    assert msgs[2] == [
        *msgs[1],
        {"role": "assistant", "content": "answer 2"},
        {"role": "user", "content": u[2]},
    ]
    assert msgs[3] == [{"role": "user", "content": u[3]}]  # a new conversation: no history
    assert [r.turn for r in recs] == [1, 2, 3, 1, 2, 3]
    assert [r.conversation for r in recs] == [1, 1, 1, 4, 4, 4]  # the first turn's number
    assert all(r.ok for r in recs)


async def test_think_time_separates_an_answer_from_the_next_turn() -> None:
    server = ChatServer()
    recs = await run(profile({"turns": 2, "think_time_s": 0.2}, max_requests=2), server)
    assert [r.turn for r in recs] == [1, 2]
    assert recs[1].t_send - recs[0].t_end >= 0.2  # a lower bound: asyncio.sleep never wakes early


async def test_a_failed_turn_ends_its_conversation() -> None:
    server = ChatServer(fail={2})
    recs = await run(profile(max_requests=4), server)
    assert [(r.turn, r.error_class) for r in recs] == [
        (1, "none"),
        (2, "http"),
        (1, "none"),
        (2, "none"),
    ]
    # the next conversation starts afresh: request 3 sends no history
    assert len(server.bodies[2]["messages"]) == 1


async def test_open_loop_conversations_keep_their_turn_order() -> None:
    server = ChatServer()
    recs = await run(profile(mode="rate", rate=50.0, arrival="constant", max_requests=9), server)
    assert len(recs) == 9 and all(r.ok for r in recs)
    by_conv: dict[int, list[int]] = {}
    for r in recs:
        by_conv.setdefault(r.conversation, []).append(r.turn)
    for turns in by_conv.values():
        assert turns == list(range(1, len(turns) + 1))  # every conversation from its turn 1 on
    for b in server.bodies:  # each body's history alternates user / assistant, ends on the user
        roles = [m["role"] for m in b["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"]


async def test_a_sweep_steps_through_levels_with_conversations() -> None:
    server = ChatServer()
    sweep = {"levels": [1.0, 2.0], "step_duration_s": 0.5}
    recs = await run(profile(mode="sweep", sweep=sweep), server)
    assert {r.level for r in recs} == {1.0, 2.0}
    assert {r.turn for r in recs} >= {1, 2}
    assert all(r.turn > 0 and r.conversation > 0 for r in recs)


async def test_worker_processes_run_their_own_conversations() -> None:
    server = ChatServer()
    recs: list[RequestRecord] = []
    async with chat_server(server) as url:
        prof = profile(concurrency=2, max_requests=9)
        lr = LoadRun(prof, {"e0": url}, on_record=recs.append, scrape=False, processes=2)
        await lr.run()
    assert lr.processes == 2 and len(recs) == 9 and all(r.ok for r in recs)
    by_conv: dict[int, list[int]] = {}
    for r in sorted(recs, key=lambda r: r.t_send):
        by_conv.setdefault(r.conversation, []).append(r.turn)
    assert all(t == list(range(1, len(t) + 1)) for t in by_conv.values())
    assert sum(len(b["messages"]) > 1 for b in server.bodies) >= 4  # later turns carry history


async def test_a_knee_search_judges_steps_of_conversation_turns() -> None:
    server = ChatServer()
    knee = {"search": "knee", "levels": [1, 2], "step_duration_s": 0.05, "max_steps": 3,
            "min_requests": 20, "max_extend": 400}  # fmt: skip
    recs: list[RequestRecord] = []
    async with chat_server(server) as url:
        lr = LoadRun(profile(mode="sweep", sweep=knee), {"e0": url}, on_record=recs.append,
                     scrape=False)  # fmt: skip
        res = (await lr.run())["e0"]
    assert len(res.levels) == 3 and all(lv.stats.requests >= 20 for lv in res.levels)
    assert {r.turn for r in recs} == {1, 2, 3}  # every step's requests are conversation turns


async def test_a_sweep_steps_end_does_not_wait_out_a_think_time() -> None:
    """A step that drains (a sweep's) ends a conversation's think time at once: with an hour
    of thinking the run still ends (the wait_for is a guard against hanging, not a timing)."""
    server = ChatServer()
    sweep = {"levels": [1.0], "step_duration_s": 0.3}
    prof = profile({"turns": 2, "think_time_s": 3600.0}, mode="sweep", sweep=sweep)
    recs = await asyncio.wait_for(run(prof, server), timeout=600)
    assert [r.turn for r in recs] == [1]  # the second turn was never sent
