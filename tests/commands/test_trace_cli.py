"""`qtui trace`: a recorded session becomes a trace; traces are converted, rescaled, described."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.load.trace import TraceItem, parse_trace, read_trace, scale_rate, trace_summary

DEMO = Path(__file__).parents[2] / "sessions" / "demo-llama8b-sim.qtsession"
P = Path("t.jsonl")


def _items(n: int, gap: float = 1.0) -> list[TraceItem]:
    return [TraceItem(i * gap, 10 + i, 5, None, (i,)) for i in range(n)]


def test_rate_scale_thins_below_one_and_copies_above_within_the_gap() -> None:
    src = _items(2000, gap=0.5)
    half = scale_rate(src, 0.5, seed=1)
    assert 900 < len(half) < 1100  # binomial(2000, 0.5): sd 22
    ids = [it.hash_ids[0] for it in half]  # a subset of the requests, in order, none twice
    assert ids == sorted(set(ids))
    shift = src[ids[0]].offset_s  # times count from the first kept request
    assert all(it.offset_s == src[it.hash_ids[0]].offset_s - shift for it in half)
    double = scale_rate(src, 2.0, seed=1)
    assert len(double) == 4000
    times = [it.offset_s for it in double]
    assert times == sorted(times) and times[0] == 0.0
    # each copy keeps its original's lengths and hash ids, and lies before the next request
    for it in double:
        orig = src[it.hash_ids[0]]
        assert it.input_tokens == orig.input_tokens
        assert orig.offset_s <= it.offset_s < orig.offset_s + 0.5
    assert len(scale_rate(src, 1.5, seed=2)) in range(2900, 3100)
    assert scale_rate(src, 0.5, seed=1) == half  # seeded


def test_summary_states_count_span_rates_and_lengths() -> None:
    t = parse_trace(P, "".join(json.dumps(it.to_json()) + "\n" for it in _items(5)))
    # 5 requests over 4 s: 1 req/s mean; at most 1 within any 1 s window [t, t+1)
    assert trace_summary(t) == (
        "t.jsonl: 5 requests over 4.0 s (1.00 req/s mean, 1 req/s peak in 1 s); "
        "input 12 tokens mean, output 5 tokens mean; 5 with hash_ids"
    )


def test_a_session_becomes_a_trace_file_that_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    r = CliRunner().invoke(cli, ["trace", "from-session", str(DEMO), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"wrote {out}: ")
    t = read_trace(out)
    assert len(t.items) > 10 and t.items[0].offset_s == 0.0
    fast = tmp_path / "fast.jsonl"
    r = CliRunner().invoke(cli, ["trace", "convert", str(out), "-o", str(fast), "--speed", "2"])
    assert r.exit_code == 0, r.output
    assert read_trace(fast).span_s == pytest.approx(t.span_s / 2, abs=1e-6)  # 6 decimals


def test_mooncake_converts_to_qtuis_format(tmp_path: Path) -> None:
    src = tmp_path / "mc.jsonl"
    src.write_text(
        '{"timestamp": 1000, "input_length": 600, "output_length": 7, "hash_ids": [0, 1]}\n'
        '{"timestamp": 3500, "input_length": 20, "output_length": 3, "hash_ids": [2]}\n'
    )
    out = tmp_path / "q.jsonl"
    r = CliRunner().invoke(cli, ["trace", "convert", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert [json.loads(x) for x in out.read_text().splitlines()] == [
        {"offset_s": 0.0, "input_tokens": 600, "output_tokens": 7, "hash_ids": [0, 1]},
        {"offset_s": 2.5, "input_tokens": 20, "output_tokens": 3, "hash_ids": [2]},
    ]


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"timestamp": 5, "input_length": 1, "output_length": 1}\n{"timestamp": 4}\n')
    r = CliRunner().invoke(cli, ["trace", "show", str(bad)])
    assert r.exit_code == 2
    assert "bad.jsonl:2: timestamp: 4 is before the line above" in r.output
    r = CliRunner().invoke(
        cli, ["trace", "from-session", str(DEMO), "-o", str(tmp_path / "x"), "--endpoint", "zz"]
    )
    assert r.exit_code == 2 and "no endpoint 'zz'" in r.output
    r = CliRunner().invoke(cli, ["trace", "convert", str(bad), "-o", str(bad), "--rate", "0"])
    assert r.exit_code == 2 and "bad.jsonl:2" in r.output  # checked before anything is written
