"""Golden sets imported from OpenAI-evals JSONL and prompt,expected CSV (issue 18), real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qtui.cli import cli
from qtui.errors import ConfigError
from qtui.quality.checkers import evaluate
from qtui.quality.golden import load_golden
from qtui.quality.importers import check_for, import_file, parse_csv, parse_evals

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "golden-import"


def test_evals_jsonl_string_and_chat_inputs_single_and_listed_ideals() -> None:
    items = import_file(FIX / "capitals.evals.jsonl")
    assert [i.id for i in items] == ["capitals.evals-1", "capitals.evals-2", "kenya"]
    france, japan, kenya = items
    assert france.messages is not None and france.messages[0].role == "system"
    assert france.expected == "Paris" and france.check.type == "normalized"
    assert evaluate(france.check, "Paris", "  paris. ").passed
    assert japan.prompt is not None and japan.prompt.startswith("Q: What is the capital of Japan")
    assert japan.check.type == "regex"  # either ideal is right
    assert evaluate(japan.check, japan.expected, "Tōkyō").passed
    assert evaluate(japan.check, japan.expected, "tokyo!").passed
    assert not evaluate(japan.check, japan.expected, "Kyoto").passed
    assert kenya.check.type == "normalized" and kenya.labels == ("source:capitals.evals",)


def test_csv_with_its_optional_columns() -> None:
    items = import_file(FIX / "support.csv")
    refund, eta, city = items
    assert refund.id == "refund-1" and refund.labels == ("task:classification", "risk:low")
    assert refund.prompt is not None and '"I was charged twice."' in refund.prompt
    assert refund.max_tokens == 8 and eta.check.type == "numeric"
    assert evaluate(eta.check, "21", "21 days").passed
    assert city.check.type == "regex" and city.max_tokens == 64
    assert evaluate(city.check, "Lisbon", "It is Lisboa.").passed


def test_imported_set_is_a_golden_set(tmp_path: Path) -> None:
    for name in ("capitals.evals.jsonl", "support.csv"):
        out = tmp_path / f"{name}.golden.jsonl"
        res = CliRunner().invoke(cli, ["golden", "import", str(FIX / name), "-o", str(out),
                                       "--tag", "risk:high"])  # fmt: skip
        assert res.exit_code == 0, res.output
        back = load_golden(out)
        assert [i.id for i in back] == [i.id for i in import_file(FIX / name)]
    assert load_golden(tmp_path / "capitals.evals.jsonl.golden.jsonl")[0].labels == ("risk:high",)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bad-ideal.evals.jsonl", "bad-ideal.evals.jsonl:2: field 'ideal' is missing"),
        ("no-answer.csv", "no-answer.csv:1: no answer column (expected, ideal or answer); "
                          "the header has: question, reply"),
        ("empty-answer.csv", "empty-answer.csv:3: column 'expected' is empty"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_line_naming_file_line_and_column(name: str, words: str) -> None:
    res = CliRunner().invoke(cli, ["golden", "import", str(FIX / name)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], res.output


def test_bad_json_names_the_column() -> None:
    with pytest.raises(ConfigError, match=r"^x.jsonl:2:15: not valid JSON"):
        parse_evals('{"input": "a", "ideal": "b"}\n{"input": "a" "ideal": "b"}\n', "x.jsonl")


def test_several_answers_for_a_numeric_check_say_so() -> None:
    with pytest.raises(ConfigError, match=r"^t.csv:2: column 'expected': 2 acceptable answers, but "
                                          r"a numeric check takes one"):  # fmt: skip
        parse_csv("prompt,expected\nHow many?,3|4\n", "t.csv", check="numeric")


def test_listed_answers_by_hand() -> None:
    assert check_for("exact", ["a.b", "c"]) == {"type": "regex", "pattern": r"^\s*(?:a\.b|c)\s*$"}
    assert check_for("contains", ["x"]) == {"type": "contains"}
