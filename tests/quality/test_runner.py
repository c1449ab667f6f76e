"""The runner over real HTTP on 127.0.0.1: bodies, parsing, retries, errors, concurrency bound."""

from __future__ import annotations

import json
import socket

import pytest
from quality_openai_stub import FakeOpenAI

from qtui.config.profile import Endpoint
from qtui.errors import ConfigError
from qtui.evidence.records import QualityRecord
from qtui.quality.golden import GoldenItem, parse_golden
from qtui.quality.runner import QualityTarget, run_quality


def items(*rows: dict[str, object]) -> list[GoldenItem]:
    return parse_golden("\n".join(json.dumps(r) for r in rows), "test.jsonl")


def item(
    i: str, prompt: str, expected: str, check: str = "contains", **kw: object
) -> dict[str, object]:
    return {"id": i, "prompt": prompt, "expected": expected, "check": {"type": check}, **kw}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sends_greedy_seeded_logprob_requests_and_records_everything(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.answers = {"capital of France?": "Paris it is", "2+2=": "5"}
    golden = items(
        item("fr", "capital of France?", "Paris", tags={"task": "geo"}, max_tokens=7),
        item("sum", "2+2=", "4", "numeric"),
    )
    seen: list[tuple[str, int, int]] = []
    target = QualityTarget("bf16", fake_openai.url, "smol-bf16")
    records = await run_quality(
        golden, [target], seed=11, on_record=lambda r, d, t: seen.append((r.item_id, d, t))
    )
    body = next(b for b in fake_openai.bodies if b["prompt"] == "capital of France?")
    assert body == {
        "model": "smol-bf16", "prompt": "capital of France?", "max_tokens": 7,
        "temperature": 0.0, "seed": 11, "stream": False, "logprobs": 5,
    }  # fmt: skip
    assert [r.item_id for r in records] == ["fr", "sum"]
    fr, wrong = records
    assert (fr.passed, fr.reason, fr.endpoint) == (True, "ok", "bf16")
    assert fr.output_text == "Paris it is"
    assert fr.tokens == ["Paris", "it", "is"]
    assert fr.top_logprobs[0] == {"Paris": -0.1, "<alt>": -2.5}
    assert (fr.prompt_tokens, fr.completion_tokens) == (3, 3)
    assert fr.tags == ["task:geo"] and fr.check == "contains" and fr.retries == 0
    assert fr.latency_s is not None and fr.latency_s > 0
    assert (wrong.passed, wrong.reason) == (False, "wrong")
    assert sorted(s[1] for s in seen) == [1, 2] and {s[2] for s in seen} == {2}
    assert fake_openai.paths == ["/v1/completions"] * 2


async def test_chat_target_and_messages_items_use_chat_completions(fake_openai: FakeOpenAI) -> None:
    fake_openai.answers = {"hi?": "hello there", "plain": "B"}
    golden = items(
        {"id": "m", "expected": "hello", "check": {"type": "contains"},
         "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "hi?"}]},
        item("p", "plain", "B", "choice"),
    )  # fmt: skip
    records = await run_quality(golden, [QualityTarget("c", fake_openai.url + "/v1/", "m", "chat")])
    assert all(r.passed for r in records)
    assert fake_openai.paths == ["/v1/chat/completions"] * 2
    body = next(b for b in fake_openai.bodies if b["messages"][-1]["content"] == "hi?")
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["messages"][0] == {"role": "system", "content": "terse"}
    plain = next(b for b in fake_openai.bodies if b["messages"][-1]["content"] == "plain")
    assert plain["messages"] == [{"role": "user", "content": "plain"}]
    assert records[0].tokens == ["hello", "there"]
    assert records[0].top_logprobs[1] == {"there": -0.1, "<alt>": -2.5}


async def test_messages_item_goes_to_chat_even_for_a_completions_target(
    fake_openai: FakeOpenAI,
) -> None:
    golden = items({"id": "m", "messages": [{"role": "user", "content": "q"}], "expected": "x",
                    "check": {"type": "exact"}})  # fmt: skip
    await run_quality(golden, [QualityTarget("c", fake_openai.url, "m", "completions")])
    assert fake_openai.paths == ["/v1/chat/completions"]


async def test_5xx_then_success_counts_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.answers = {"q": "yes"}
    fake_openai.fail_first["q"] = 2
    target = QualityTarget("e", fake_openai.url, "m")
    [r] = await run_quality(items(item("a", "q", "yes")), [target], max_retries=3, backoff_s=0)
    assert (r.passed, r.reason, r.retries) == (True, "ok", 2)
    assert len(fake_openai.bodies) == 3


async def test_5xx_beyond_retries_is_an_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_first["q"] = 10
    target = QualityTarget("e", fake_openai.url, "m")
    [r] = await run_quality(items(item("a", "q", "yes")), [target], max_retries=2, backoff_s=0)
    assert (r.passed, r.reason, r.retries) == (False, "error", 2)
    assert r.detail == "HTTP 500" and r.output_text is None
    assert len(fake_openai.bodies) == 3


async def test_4xx_and_malformed_are_errors_without_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.status["bad"] = 400
    golden = items(item("a", "bad", "x"), item("b", "malformed", "x"), item("c", "shapeless", "x"))
    r4, rm, rs = await run_quality(golden, [QualityTarget("e", fake_openai.url, "m")], backoff_s=0)
    assert (r4.reason, r4.retries, r4.detail) == ("error", 0, "HTTP 400: nope")
    assert (rm.reason, rm.retries, rm.detail) == (
        "error",
        0,
        "malformed response (body is not JSON)",
    )
    assert (rs.reason, rs.retries) == ("error", 0)
    assert rs.detail.startswith("malformed response (IndexError")
    assert len(fake_openai.bodies) == 3


async def test_connection_refused_is_an_error_after_retries() -> None:
    target = QualityTarget("down", f"http://127.0.0.1:{free_port()}", "m")
    [r] = await run_quality(items(item("a", "q", "x")), [target], max_retries=1, backoff_s=0)
    assert (r.passed, r.reason, r.retries) == (False, "error", 1)
    assert "ConnectError" in r.detail


async def test_truncated_when_length_finish_and_check_failed(fake_openai: FakeOpenAI) -> None:
    fake_openai.answers = {"q": "The answer is"}
    fake_openai.finish["q"] = "length"
    [r] = await run_quality(
        items(item("a", "q", "4", "numeric")), [QualityTarget("e", fake_openai.url, "m")]
    )
    assert (r.passed, r.reason, r.finish_reason) == (False, "truncated", "length")


async def test_concurrency_is_bounded_per_endpoint(fake_openai: FakeOpenAI) -> None:
    golden = items(*(item(f"i{n}", f"q{n}", "x") for n in range(9)))
    fake_openai.gate = 3
    fake_openai.expected_total = len(golden)
    records = await run_quality(golden, [QualityTarget("e", fake_openai.url, "m")], concurrency=3)
    assert len(records) == 9
    assert fake_openai.max_in_flight == 3


async def test_every_item_goes_to_every_endpoint_and_key_stays_secret(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QTUI_TEST_KEY", "sk-secret-123")
    ep = Endpoint(
        name="fp8", url=fake_openai.url, precision="fp8", model="m8", api_key_env="QTUI_TEST_KEY"
    )
    keyed = QualityTarget.from_endpoint(ep)
    assert keyed.api_key == "sk-secret-123" and "sk-secret" not in repr(keyed)
    plain = QualityTarget("bf16", fake_openai.url, "m16")
    golden = items(item("a", "q1", "x"), item("b", "q2", "x"))
    records = await run_quality(golden, [plain, keyed])
    assert [(r.endpoint, r.item_id) for r in records] == [
        ("bf16", "a"), ("bf16", "b"), ("fp8", "a"), ("fp8", "b"),
    ]  # fmt: skip
    auth = [h.get("Authorization") for h in fake_openai.headers]
    assert sorted(auth, key=str) == ["Bearer sk-secret-123", "Bearer sk-secret-123", None, None]
    assert all("sk-secret" not in json.dumps(r.to_dict()) for r in records)
    assert {b["model"] for b in fake_openai.bodies} == {"m8", "m16"}


def test_from_endpoint_explains_missing_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QTUI_NO_SUCH_KEY", raising=False)
    ep = Endpoint(name="x", url="http://h:1", precision="fp8", api_key_env="QTUI_NO_SUCH_KEY")
    with pytest.raises(ConfigError, match="served model id unknown"):
        QualityTarget.from_endpoint(ep)
    with pytest.raises(ConfigError, match=r"QTUI_NO_SUCH_KEY .* is not set"):
        QualityTarget.from_endpoint(ep, model="m")
    t = QualityTarget.from_endpoint(
        Endpoint(name="y", url="http://h:1", precision="fp8", model="m"),
        "chat",
        base_url="http://s:2",
    )
    assert (t.base_url, t.api, t.url_for("chat")) == (
        "http://s:2",
        "chat",
        "http://s:2/v1/chat/completions",
    )


def test_record_round_trips_through_a_dict() -> None:
    r = QualityRecord("e", "a", True, "ok", tokens=["x"], top_logprobs=[{"x": -0.1}], tags=["t"])
    d = r.to_dict()
    assert d["kind"] == "quality_item"
    assert QualityRecord.from_dict({**d, "unknown": 1}) == r
    assert QualityRecord.from_dict({**d, "reason": "bogus"}).reason == "error"
