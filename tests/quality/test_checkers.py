"""Checkers: each check type on outputs real models produce."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from qtui.quality.checkers import (
    Check,
    evaluate,
    extract_choice,
    extract_number,
    is_subset,
    judge,
    looks_like_refusal,
    normalize,
    parse_json_output,
)

CHECK: TypeAdapter[Check] = TypeAdapter(Check)


def chk(**raw: object) -> Check:
    return CHECK.validate_python(raw)


def test_exact_strips_only_surrounding_whitespace() -> None:
    c = chk(type="exact")
    assert evaluate(c, "YES", " YES\n").passed
    assert not evaluate(c, "YES", "Yes").passed
    assert not evaluate(c, "YES", "YES.").passed


def test_normalized_ignores_case_punctuation_and_spacing() -> None:
    c = chk(type="normalized")
    assert normalize("  Hello,   WORLD! ") == "hello world"
    assert evaluate(c, "negative", " Negative.").passed
    assert not evaluate(c, "negative", "Negative sentiment").passed


def test_contains_matches_whole_words() -> None:
    c = chk(type="contains")
    assert evaluate(c, "Paris", " Paris.\n\nThe answer is: 2018-01").passed
    assert evaluate(c, "Zürich", "It is ZÜRICH, of course").passed
    assert not evaluate(c, "Paris", "Parisian food").passed
    cs = chk(type="contains", case_sensitive=True)
    assert not evaluate(cs, "Paris", "paris").passed


def test_regex_searches_with_optional_ignore_case() -> None:
    assert evaluate(chk(type="regex", pattern=r"\b4B\b"), "4B", "Room 4B.").passed
    assert not evaluate(chk(type="regex", pattern=r"\b4B\b"), "4B", "room 4b").passed
    assert evaluate(chk(type="regex", pattern=r"\b4B\b", ignore_case=True), "4B", "room 4b").passed


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("B", "B"),
        (" (C) Au", "C"),
        ("D) 8", "D"),
        ("The answer is (A).", "A"),
        ("answer: e", "E"),
        ("I think it is C because gold", "C"),
        ("Mars", None),
    ],
)
def test_extract_choice(text: str, letter: str | None) -> None:
    assert extract_choice(text) == letter


def test_choice_compares_letters() -> None:
    c = chk(type="choice")
    assert evaluate(c, "B", "B) Mars").passed
    assert not evaluate(c, "B", "A) Venus").passed
    assert not evaluate(c, "B", "no idea").passed
    assert evaluate(chk(type="choice", choices="ABCDEFG"), "F", "F").passed


@pytest.mark.parametrize(
    ("text", "pick", "value"),
    [
        ("42", "first", 42.0),
        ("The result is -7.", "first", -7.0),
        ("1,234,000 apples", "first", 1234000.0),
        ("about 3.33 (10/3)", "first", 3.33),
        ("3 boxes of 12 minus 7 = 29", "last", 29.0),
        ("1e-3", "first", 0.001),
        ("no digits here", "first", None),
    ],
)
def test_extract_number(text: str, pick: str, value: float | None) -> None:
    assert extract_number(text, pick) == value  # type: ignore[arg-type]


def test_numeric_tolerance_absolute_and_relative() -> None:
    assert evaluate(chk(type="numeric", tolerance=0.005), "3.33", "3.333").passed
    assert not evaluate(chk(type="numeric", tolerance=0.005), "3.33", "3.34").passed
    assert evaluate(chk(type="numeric", rel_tolerance=0.01), "1000", "1009").passed
    assert not evaluate(chk(type="numeric"), "42", "41").passed
    assert evaluate(chk(type="numeric", pick="last"), "29", "36 - 7 = 29").passed
    assert not evaluate(chk(type="numeric"), "29", "36 - 7 = 29").passed


def test_parse_json_output_accepts_fences_and_surrounding_prose() -> None:
    assert parse_json_output('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_output('Here you go: {"a": [1, 2]} hope it helps') == {"a": [1, 2]}
    assert parse_json_output("[1, 2]") == [1, 2]
    with pytest.raises(ValueError):
        parse_json_output("no json at all")
    with pytest.raises(ValueError):
        parse_json_output('{"a": ')


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


def test_json_schema_modes() -> None:
    exp = '{"name": "Ana", "age": 3}'
    schema_only = chk(type="json_schema", schema=PERSON)
    equal = chk(type="json_schema", schema=PERSON, match="equal")
    subset = chk(type="json_schema", schema={"type": "object"}, match="subset")
    assert evaluate(schema_only, exp, '{"name": "Bob", "age": 9}').passed
    out = evaluate(schema_only, exp, '{"name": "Bob"}')
    assert not out.passed and out.schema_failure and "age" in out.detail
    bad = evaluate(schema_only, exp, '{"name": "Bob", "age": ')
    assert not bad.passed and bad.schema_failure
    wrong = evaluate(equal, exp, '{"name": "Bob", "age": 3}')
    assert not wrong.passed and not wrong.schema_failure
    assert evaluate(equal, exp, '```json\n{"age": 3, "name": "Ana"}\n```').passed
    assert evaluate(subset, exp, '{"name": "Ana", "age": 3, "extra": true}').passed
    assert not evaluate(subset, exp, '{"name": "Ana"}').passed


def test_is_subset_recurses_and_compares_lists_item_by_item() -> None:
    assert is_subset({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 0})
    assert is_subset([{"x": 1}], [{"x": 1, "y": 2}])
    assert not is_subset([1], [1, 2])
    assert not is_subset({"a": 1}, [1])


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("I'm sorry, but I can't help with that.", True),
        ("I cannot provide that information.", True),
        ("As an AI language model, I do not have opinions.", True),
        ("I\u2019m unable to answer.", True),
        ("I can not do that.", True),
        ("I\u2019m not able to answer.", True),
        ("Paris", False),
        ("Sorry for the delay: the answer is 42", False),
    ],
)
def test_refusal_phrases(text: str, refusal: bool) -> None:
    assert looks_like_refusal(text) is refusal


def test_judge_reasons_in_order_of_precedence() -> None:
    num = chk(type="numeric")
    js = chk(type="json_schema", schema=PERSON)
    assert judge(num, "4", "4", "stop")[:2] == (True, "ok")
    assert judge(num, "4", "5", "stop")[:2] == (False, "wrong")
    assert judge(num, "4", "The answer is", "length")[:2] == (False, "truncated")
    assert judge(num, "4", "4", "length")[:2] == (True, "ok")
    assert judge(num, "4", "I'm sorry, I can't help", "stop")[:2] == (False, "refusal")
    assert judge(js, '{"name": "A", "age": 1}', '{"name": "A", "ag', "length")[:2] == (
        False,
        "schema_failure",
    )
    assert judge(num, "4", None)[:2] == (False, "error")
    assert judge(num, "4", "4", error=True)[:2] == (False, "error")
