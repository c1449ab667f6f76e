"""Golden-set loading: valid sets parse; every kind of bad item fails at file:line, up front."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.errors import ConfigError
from qtui.quality.golden import load_golden, parse_golden, resolve_golden_path

REPO = Path(__file__).resolve().parents[2]
GOOD = {"id": "a", "prompt": "2+2=", "expected": "4", "check": {"type": "numeric"}}


def jsonl(*rows: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)


def write(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text(jsonl(*rows), "utf-8")
    return path


def test_parses_prompt_and_messages_items_with_defaults(tmp_path: Path) -> None:
    chat = {
        "id": "b",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "Hi?"},
        ],
        "expected": "hello",
        "check": {"type": "contains"},
        "tags": ["smoke", "chat"],
        "max_tokens": 5,
    }
    items = load_golden(
        write(tmp_path, {**GOOD, "tags": {"task": "math", "risk": "low"}}, "", chat)
    )
    assert [i.id for i in items] == ["a", "b"]
    assert items[0].max_tokens == 64
    assert items[0].labels == ("task:math", "risk:low")
    assert items[1].labels == ("smoke", "chat")
    assert items[1].last_user_message == "Hi?"
    assert items[0].last_user_message == "2+2="


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**GOOD, "check": {"type": "regex", "pattern": "(unclosed"}}, "invalid regex"),
        (
            {**GOOD, "check": {"type": "json_schema", "schema": {"type": "strng"}}},
            "invalid JSON Schema",
        ),
        ({k: v for k, v in GOOD.items() if k != "expected"}, "expected: required field"),
        ({**GOOD, "messages": [{"role": "user", "content": "x"}]}, "exactly one of"),
        ({k: v for k, v in GOOD.items() if k != "prompt"}, "exactly one of"),
        ({**GOOD, "check": {"type": "fuzzy"}}, "unknown check type"),
        ({**GOOD, "check": {"type": "numeric", "tolerence": 1}}, "tolerence: unknown field"),
        ({**GOOD, "answer": "4"}, "answer: unknown field"),
        ({**GOOD, "expected": "5", "check": {"type": "regex", "pattern": "^4$"}}, "fails its own"),
        ({**GOOD, "max_tokens": 0}, "max_tokens"),
        ({**GOOD, "messages": None, "prompt": None}, "exactly one of"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": "a", ', "not valid JSON"),
    ],
)
def test_bad_item_is_rejected_with_file_line_and_reason(
    tmp_path: Path, row: object, message: str
) -> None:
    path = write(tmp_path, GOOD | {"id": "first"}, row)
    with pytest.raises(ConfigError) as err:
        load_golden(path)
    text = str(err.value)
    assert text.startswith(f"{path}:2: "), text
    assert message in text
    assert "\n" not in text


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, GOOD | {"id": "b"}, GOOD)
    with pytest.raises(ConfigError, match=r":3: duplicate id 'a' \(first on line 1\)"):
        load_golden(path)


def test_counts_further_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":1: .*\(\+1 more problems\)$"):
        load_golden(write(tmp_path, {"id": "x"}, {"id": "y"}))


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no items"):
        parse_golden("\n\n", "empty.jsonl")
    with pytest.raises(ConfigError, match="golden set not found"):
        load_golden(tmp_path / "nope.jsonl")


def test_shipped_sets_load_and_cover_the_tasks() -> None:
    demo = load_golden(REPO / "profiles/golden/demo.jsonl")
    smoke = load_golden(REPO / "profiles/golden/smoke.jsonl")
    assert len(demo) >= 400  # enough to decide the demo's 2-point floor (docs/golden-set.md)
    assert 10 <= len(smoke) <= 15
    tasks = {label for item in demo for label in item.labels if label.startswith("task:")}
    for task in ("classification", "extraction", "arithmetic", "choice", "long-context"):
        assert f"task:{task}" in tasks
    checks = {item.check.type for item in demo}
    assert checks == {
        "exact",
        "normalized",
        "contains",
        "regex",
        "choice",
        "numeric",
        "json_schema",
    }
    assert any(item.messages for item in demo) and any(item.messages for item in smoke)
    assert max(len(item.last_user_message) for item in demo) > 4000  # long-context items


def test_demo_profile_points_at_the_demo_set() -> None:
    path = REPO / "profiles/demo.toml"
    profile = load_model(path, Profile)
    assert profile.workload.golden_set is not None
    golden = resolve_golden_path(path, profile.workload.golden_set)
    assert golden == REPO / "profiles/golden/demo.jsonl"
    assert load_golden(golden)
    assert resolve_golden_path(path, "/abs/x.jsonl") == Path("/abs/x.jsonl")
