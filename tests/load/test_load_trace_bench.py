"""`qtui bench` replaying a trace against the real simulator (a child process, real sockets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchrun import SMOL_BF16_FP8

from qtui.commands.bench import run
from qtui.errors import ConfigError
from qtui.session import load_session

OUTPUTS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
PROFILE = (
    """
[profile]
name = "trace bench"

"""
    + SMOL_BF16_FP8
    + """
[workload]
kind = "trace"
trace_file = "day.jsonl"
speed = 4.0
"""
)


def write_trace(path: Path, lines: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_bench_replays_a_mooncake_trace_in_order_on_every_endpoint(tmp_path: Path) -> None:
    write_trace(
        tmp_path / "day.jsonl",
        [
            {"timestamp": 100 * i, "input_length": 40 + i, "output_length": n,
             "hash_ids": [7, 100 + i]}
            for i, n in enumerate(OUTPUTS)
        ],
    )  # fmt: skip
    (tmp_path / "p.toml").write_text(PROFILE)
    run(tmp_path / "p.toml", tmp_path / "out", show_progress=False)
    (path,) = (tmp_path / "out").glob("*.qtsession")
    s = load_session(path)
    assert s.profile is not None and s.profile.workload.kind == "trace"
    assert (s.profile.workload.trace_file, s.profile.workload.speed) == ("day.jsonl", 4.0)
    reqs = s.frame("request")
    for ep in ("bf16", "fp8"):
        rows = sorted(
            (r for r in reqs.to_dicts() if r["endpoint"] == ep), key=lambda r: r["t_send"]
        )
        # every line once, in the trace's order, each with its own output length
        assert [r["request_id"] for r in rows] == [f"{ep}-{i}" for i in range(1, 13)]
        assert [r["completion_tokens"] for r in rows] == OUTPUTS
        assert all(r["error_class"] == "none" and r["level"] == 1.0 for r in rows)


def test_bench_refuses_a_trace_over_the_models_context(tmp_path: Path) -> None:
    write_trace(
        tmp_path / "day.jsonl",
        [{"timestamp": 0, "input_length": 10, "output_length": 2},
         {"timestamp": 5, "input_length": 8190, "output_length": 16}],
    )  # fmt: skip
    (tmp_path / "p.toml").write_text(PROFILE)
    with pytest.raises(ConfigError, match=r"day\.jsonl:2: input \+ output length 8190 \+ 16"):
        run(tmp_path / "p.toml", tmp_path / "out", show_progress=False)
    assert not list((tmp_path / "out").glob("*.qtsession")) or all(
        load_session(p).frame("request").height == 0 for p in (tmp_path / "out").glob("*.qt*")
    )


def test_shared_prefixes_hit_the_simulators_prefix_cache(tmp_path: Path) -> None:
    profile = PROFILE.split("[workload]")[0] + (
        "[workload]\ninput_tokens = { mean = 16 }\noutput_tokens = { mean = 2 }\nEXTRA\n"
        "[load]\nconcurrency = 2\nduration_s = 3\n"
    )
    rates: dict[str, float] = {}
    for name, extra in (("unique", ""), ("shared", "prefix_count = 2\nprefix_tokens = 256")):
        (tmp_path / f"{name}.toml").write_text(profile.replace("EXTRA", extra))
        run(tmp_path / f"{name}.toml", tmp_path / name, show_progress=False)
        (path,) = (tmp_path / name).glob("*.qtsession")
        s = load_session(path)
        assert s.profile is not None and s.profile.workload.prefix_count == (2 if extra else 0)
        server = s.frame("server_second").drop_nulls("prefix_cache_hit_rate")
        rates[name] = max([0.0, *server["prefix_cache_hit_rate"].to_list()])
    assert rates["unique"] == 0.0 and rates["shared"] > 0.5
