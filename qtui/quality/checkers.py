"""Checkers: does one model output answer one golden item? Pure functions, no I/O.

Each check type is a small frozen pydantic model (its params are validated when a golden set is
loaded, so a bad regex or schema fails before any request is sent) and `evaluate` runs it.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jsonschema
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from qtui.evidence.records import Reason

CHECK_TYPES = ("exact", "normalized", "contains", "regex", "choice", "numeric", "json_schema")


class _CheckBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExactCheck(_CheckBase):
    """Output equals expected after stripping surrounding whitespace."""

    type: Literal["exact"]


class NormalizedCheck(_CheckBase):
    """Equal after case folding, punctuation removal and whitespace collapsing."""

    type: Literal["normalized"]


class ContainsCheck(_CheckBase):
    """Expected appears in the output as whole words (normalised unless case_sensitive)."""

    type: Literal["contains"]
    case_sensitive: bool = False


class RegexCheck(_CheckBase):
    """`re.search(pattern, output)` finds a match."""

    type: Literal["regex"]
    pattern: str
    ignore_case: bool = False
    _compiled: re.Pattern[str] = PrivateAttr()

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regex {v!r}: {exc}") from None
        return v

    def model_post_init(self, _: Any) -> None:
        self._compiled = re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)


class ChoiceCheck(_CheckBase):
    """The first answer letter found in the output equals the expected letter."""

    type: Literal["choice"]
    choices: str = Field("ABCDE", pattern=r"^[A-Z]{2,26}$")


class NumericCheck(_CheckBase):
    """The first (or last) number in the output is within tolerance of the expected number."""

    type: Literal["numeric"]
    tolerance: float = Field(0.0, ge=0, description="absolute")
    rel_tolerance: float = Field(0.0, ge=0, description="relative to |expected|")
    pick: Literal["first", "last"] = "first"


class JsonSchemaCheck(_CheckBase):
    """Output parses as JSON (``` fences allowed) and validates against `schema`.

    match: "schema" (valid is enough), "equal" (must also equal the parsed expected), "subset"
    (every key/value of the parsed expected must appear in the output).
    """

    type: Literal["json_schema"]
    json_schema: dict[str, Any] = Field(alias="schema")
    match: Literal["schema", "equal", "subset"] = "schema"
    _validator: Validator = PrivateAttr()

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, v: dict[str, Any]) -> dict[str, Any]:
        try:
            jsonschema.validators.validator_for(v).check_schema(v)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "<root>"
            raise ValueError(f"invalid JSON Schema at {where}: {exc.message}") from None
        return v

    def model_post_init(self, _: Any) -> None:
        self._validator = jsonschema.validators.validator_for(self.json_schema)(self.json_schema)


Check = Annotated[
    ExactCheck
    | NormalizedCheck
    | ContainsCheck
    | RegexCheck
    | ChoiceCheck
    | NumericCheck
    | JsonSchemaCheck,
    Field(discriminator="type"),
]


@dataclass(frozen=True)
class Outcome:
    """What one check concluded; `schema_failure` means the output was not valid JSON for it."""

    passed: bool
    schema_failure: bool = False
    detail: str = ""


# --- text helpers -------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols turned into spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return _WS.sub(" ", text).strip()


_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")


def extract_number(text: str, pick: Literal["first", "last"] = "first") -> float | None:
    """The first or last number written in the text (1,234.5 and 1e-3 understood)."""
    found = _NUMBER.findall(text)
    if not found:
        return None
    value = float((found[0] if pick == "first" else found[-1]).replace(",", ""))
    return value if math.isfinite(value) else None


def extract_choice(text: str, choices: str = "ABCDE") -> str | None:
    """The answer letter: 'answer is (B)', then a leading 'B.'/'(B)'/'B', then '(B)', then ' B '."""
    cls = f"[{re.escape(choices)}]"
    patterns = (
        rf"answer\s*(?:is)?\s*[:\-]?\s*\(?({cls})\b",
        rf"^\s*\(?({cls})\)?\s*(?:[.):,\]]|$)",
        rf"\(({cls})\)",
        rf"\b({cls})\b",
    )
    for pat in patterns:
        m = re.search(pat, text, re.IGNORECASE if pat.startswith("answer") else 0)
        if m:
            return m.group(1).upper()
    return None


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def parse_json_output(text: str) -> Any:
    """Parse JSON from model output: a ```json fence, the whole text, or the first {...}/[...]."""
    m = _FENCE.search(text)
    body = (m.group(1) if m else text).strip()
    try:
        return json.loads(body)
    except ValueError:
        pass
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if not starts:
        raise ValueError("no JSON object or array in the output")
    value, _ = json.JSONDecoder().raw_decode(body, min(starts))
    return value


def is_subset(expected: Any, actual: Any) -> bool:
    """Every key/value of `expected` is in `actual` (recursively); lists compare item by item."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and is_subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(is_subset(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


_REFUSAL = re.compile(
    r"\b(?:i'?m sorry|i am sorry|i apologi[sz]e|i can(?:not| not|'t) (?:help|assist|provide|answer"
    r"|comply|do that|fulfil)|i(?: am|'m) (?:not able|unable) to|as an ai\b|i won'?t (?:be able|"
    r"help|provide)|i must decline)"
)


def looks_like_refusal(text: str) -> bool:
    """Simple phrase detection in the first 300 characters ("I'm sorry, I can't help ...")."""
    head = text[:300].casefold().replace("\u2019", "'")
    return _REFUSAL.search(head) is not None


# --- evaluation ---------------------------------------------------------------------------------


def evaluate(check: Check, expected: str, output: str) -> Outcome:
    """Run one check on one output; never raises for any output text."""
    if isinstance(check, ExactCheck):
        return Outcome(output.strip() == expected.strip())
    if isinstance(check, NormalizedCheck):
        return Outcome(normalize(output) == normalize(expected))
    if isinstance(check, ContainsCheck):
        if check.case_sensitive:
            return Outcome(expected in output)
        return Outcome(f" {normalize(expected)} " in f" {normalize(output)} ")
    if isinstance(check, RegexCheck):
        return Outcome(check._compiled.search(output) is not None)
    if isinstance(check, ChoiceCheck):
        got = extract_choice(output, check.choices)
        want = extract_choice(expected, check.choices)
        return Outcome(got is not None and got == want, detail=f"answer {got}")
    if isinstance(check, NumericCheck):
        return _numeric(check, expected, output)
    return _json(check, expected, output)


def _numeric(check: NumericCheck, expected: str, output: str) -> Outcome:
    want = extract_number(expected)
    got = extract_number(output, check.pick)
    if got is None or want is None:
        return Outcome(False, detail="no number in the output")
    allowed = max(check.tolerance, check.rel_tolerance * abs(want))
    return Outcome(abs(got - want) <= allowed, detail=f"number {got:g}")


def _json(check: JsonSchemaCheck, expected: str, output: str) -> Outcome:
    try:
        value = parse_json_output(output)
    except ValueError as exc:
        return Outcome(False, schema_failure=True, detail=f"not JSON: {exc}")
    error = jsonschema.exceptions.best_match(check._validator.iter_errors(value))
    if error is not None:
        return Outcome(False, schema_failure=True, detail=f"schema: {error.message[:120]}")
    if check.match == "schema":
        return Outcome(True)
    want = parse_json_output(expected)
    ok = value == want if check.match == "equal" else is_subset(want, value)
    return Outcome(ok, detail="" if ok else "valid JSON, wrong values")


def judge(
    check: Check,
    expected: str,
    output: str | None,
    finish_reason: str | None = None,
    error: bool = False,
) -> tuple[bool, Reason, str]:
    """Pass/fail and one reason: error > refusal > schema_failure > truncated > wrong."""
    if error or output is None:
        return False, "error", "no response"
    outcome = evaluate(check, expected, output)
    if outcome.passed:
        return True, "ok", outcome.detail
    if looks_like_refusal(output):
        return False, "refusal", outcome.detail
    if outcome.schema_failure:
        return False, "schema_failure", outcome.detail
    if finish_reason == "length":
        return False, "truncated", outcome.detail
    return False, "wrong", outcome.detail
