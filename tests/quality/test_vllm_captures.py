"""The pure chain on real vLLM 0.26 output (SmolLM2-135M, bf16 vs fp8, tests/fixtures/vllm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qtui.evidence.records import QualityRecord
from qtui.quality.agreement import agreement
from qtui.quality.checkers import ContainsCheck, judge
from qtui.quality.runner import parse_reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vllm"


def non_streamed(port: int) -> dict[str, Any]:
    """Fold a captured SSE completion into the body a non-streamed request returns."""
    text, tokens, tops, finish, usage = "", [], [], None, None
    for line in (FIXTURES / f"sse_completion_{port}.txt").read_text("utf-8").splitlines():
        if not line.startswith("data: {"):
            continue
        chunk = json.loads(line.removeprefix("data: "))
        usage = chunk.get("usage") or usage
        for choice in chunk["choices"]:
            text += choice["text"]
            lp = choice.get("logprobs") or {}
            tokens += lp.get("tokens") or []
            tops += lp.get("top_logprobs") or []
            finish = choice.get("finish_reason") or finish
    logprobs = {"tokens": tokens, "top_logprobs": tops}
    choice = {"index": 0, "text": text, "logprobs": logprobs, "finish_reason": finish}
    return {"choices": [choice], "usage": usage}


def record(endpoint: str, port: int) -> QualityRecord:
    reply = parse_reply("completions", non_streamed(port))
    passed, reason, _ = judge(
        ContainsCheck(type="contains"), "Paris", reply.text, reply.finish_reason
    )
    return QualityRecord(
        endpoint, "capital-france", passed, reason, output_text=reply.text, tokens=reply.tokens,
        top_logprobs=reply.top_logprobs, completion_tokens=reply.completion_tokens,
        finish_reason=reply.finish_reason,
    )  # fmt: skip


def test_real_bf16_vs_fp8_outputs() -> None:
    bf16, fp8 = record("bf16", 8000), record("fp8", 8001)
    assert bf16.output_text == " Paris.\n\nThe answer is: 2018-01"
    assert fp8.output_text == " Paris.\n\nThe answer is: 2017-01"
    assert bf16.passed and fp8.passed  # both still name Paris, despite finish_reason "length"
    assert bf16.completion_tokens == 16 and bf16.finish_reason == "length"
    assert len(bf16.top_logprobs) == 16 and bf16.top_logprobs[0][" Paris"] < 0

    ag = agreement("fp8", "bf16", [bf16, fp8])
    assert ag.pairs == 1 and ag.exact_matches == 0 and ag.flip_rate == 1.0
    assert bf16.tokens[12] == "8" and fp8.tokens[12] == "7"
    assert ag.mean_first_divergence == 12
    assert ag.kl_positions == 13  # positions 0..12: the contexts are identical up to there
    assert ag.mean_kl is not None and 0.001 < ag.mean_kl < 1.0
