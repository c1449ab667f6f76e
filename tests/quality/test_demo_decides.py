"""The demo decides: its simulated quality follows published recovery, and its golden set is big
enough that FP8 is GO and INT4 is decided by the floor (NO-GO); generated items are verifiable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from qtui.config.load import load_model
from qtui.config.paths import demo_profile
from qtui.config.profile import Profile
from qtui.errors import ConfigError
from qtui.evidence.records import QualityRecord
from qtui.quality.generate import TASKS, generate, to_jsonl
from qtui.quality.golden import load_golden, parse_golden, resolve_golden_path
from qtui.quality.summary import summarize
from qtui.sim.quality import RECOVERY, grounded_error_rate, is_wrong


def test_demo_rates_are_the_published_recovery() -> None:
    prof = load_model(demo_profile(), Profile)
    for e in prof.endpoints:
        assert e.simulate is not None
        assert e.simulate.quality_error_rate == grounded_error_rate(e.simulate.weights), e.name
    # 1 − 0.94 × 0.995 = 0.0647; 1 − 0.94 × 0.95 = 0.107
    assert grounded_error_rate("fp8") == 0.0647 and grounded_error_rate("int4") == 0.107
    assert RECOVERY["fp8"] >= 0.99 and 0.97 <= RECOVERY["int8"] <= 0.99  # lossless; 1–3 %


@pytest.mark.parametrize("seed", [0, 7], ids=["qtui demo", "qtui bench"])
def test_the_demo_decides_fp8_go_and_int4_no_go(seed: int) -> None:
    """What the simulator answers (``is_wrong`` per item, the seed the command uses), judged by
    the demo's floor: the whole interval decides both."""
    path = demo_profile()
    prof = load_model(path, Profile)
    assert prof.workload.golden_set is not None
    items = load_golden(resolve_golden_path(path, prof.workload.golden_set))
    rates = {e.name: e.simulate.quality_error_rate for e in prof.endpoints if e.simulate}
    recs = [
        QualityRecord(
            name, it.id, not (bad := is_wrong(it.id, seed, rate)), "wrong" if bad else "ok"
        )
        for name, rate in rates.items()
        for it in items
    ]
    s = summarize(recs, list(rates), prof.baseline.name, prof.slo.quality)
    assert [e.verdict.status for e in s.endpoints] == ["go", "go", "no-go"]
    fp8 = s.get("fp8")
    assert fp8.paired is not None and fp8.paired.drop_ci is not None
    assert fp8.paired.drop_ci[1] < prof.slo.quality.max_drop_vs_baseline  # type: ignore[operator]


def test_generate_is_deterministic_and_every_item_checks_itself() -> None:
    a, b = generate(60, seed=3), generate(60, seed=3)
    assert a == b and a != generate(60, seed=4)
    items = parse_golden(to_jsonl(a), "gen.jsonl")  # loads like any golden set
    assert len(items) == 60 and len({i.id for i in items}) == 60
    tasks = {label for i in items for label in i.labels if label.startswith("task:")}
    assert tasks == {f"task:{t}" for t in TASKS}
    # answers verified independently of the generator: the calendar's, and the arithmetic's
    for item in generate(20, seed=1, tasks=["date", "arithmetic"]):
        words = [w.rstrip(".?") for w in item["prompt"].replace("(", " ").replace(")", " ").split()]
        if item["tags"]["task"] == "date":
            days, start = int(words[4]), date.fromisoformat(words[7])
            assert item["expected"] == (start + timedelta(days=days)).isoformat()
        else:
            a, b, c, d = (int(w) for w in words if w.isdigit())
            assert int(item["expected"]) == (a + b) * c - d


def test_generate_bad_input_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"^golden generate: n must be at least 1, got 0$"):
        generate(0)
    with pytest.raises(ConfigError, match=r"unknown task 'poetry' \(known: arithmetic, date"):
        generate(5, tasks=["poetry"])
