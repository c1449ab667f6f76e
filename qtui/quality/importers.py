"""Golden sets from the formats users already keep (pure over text): OpenAI-evals-style JSONL
(``input`` a string or chat messages, ``ideal`` a string or a list of acceptable answers) and a
CSV of prompt,expected. Every item comes out as a validated ``GoldenItem``; a bad line is one
``ConfigError`` naming the file, the line and the field or column (docs/golden-set.md).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from qtui.errors import ConfigError
from qtui.quality.golden import GoldenItem, _describe

Format = Literal["evals", "csv"]
CheckKind = Literal["exact", "normalized", "contains", "numeric", "choice"]
CHECK_KINDS: tuple[CheckKind, ...] = ("exact", "normalized", "contains", "numeric", "choice")
PROMPT_COLUMNS = ("prompt", "input", "question")  # the first the header has is the prompt
ANSWER_COLUMNS = ("expected", "ideal", "answer")  # the first the header has is the answer
ANSWERS_SEP = "|"  # a CSV answer cell may list several acceptable answers: "Paris|paris, France"


def check_for(kind: CheckKind, answers: Sequence[str]) -> dict[str, Any]:
    """The checker for ``answers`` (any one is right). One answer: the named check as is; several:
    a regex that accepts each (whole output for exact/normalized, whole words for contains)."""
    if len(answers) == 1:
        return {"type": kind}
    if kind in ("numeric", "choice"):
        raise ValueError(f"{len(answers)} acceptable answers, but a {kind} check takes one")
    alts = "|".join(re.escape(a.strip()) for a in answers)
    if kind == "exact":
        return {"type": "regex", "pattern": rf"^\s*(?:{alts})\s*$"}
    if kind == "normalized":
        return {"type": "regex", "pattern": rf"^\W*(?:{alts})\W*$", "ignore_case": True}
    return {"type": "regex", "pattern": rf"(?<!\w)(?:{alts})(?!\w)", "ignore_case": True}


def _item(raw: dict[str, Any], where: str) -> GoldenItem:
    try:
        return GoldenItem.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc)}") from None


def _answers(value: Any, where: str, field: str) -> list[str]:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        answers = [str(value)]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        answers = list(value)
    else:
        raise ConfigError(f"{where}: field '{field}' must be a string or a list of strings")
    if not any(a.strip() for a in answers):
        raise ConfigError(f"{where}: field '{field}' is empty")
    return [a for a in answers if a.strip()]


def _tags(base: Mapping[str, str] | None, stem: str, extra: str = "") -> dict[str, str] | list[str]:
    """Tags from --tag and a CSV cell ("task:qa;risk:high"), else source:<file stem>; a dict
    when every one is key:value."""
    labels = [f"{k}:{v}" for k, v in (base or {}).items()]
    labels += [t.strip() for t in extra.split(";") if t.strip()]
    if not labels:
        return {"source": stem}
    if all(":" in t for t in labels):
        return dict(t.split(":", 1) for t in labels)
    return labels


def parse_evals(
    text: str,
    source: str,
    *,
    check: CheckKind = "normalized",
    tags: Mapping[str, str] | None = None,
    max_tokens: int = 64,
) -> list[GoldenItem]:
    """OpenAI-evals-style JSONL: {"input": str | [{"role", "content"}...], "ideal": str | [str]}
    per line (an "id" is kept, other fields are ignored)."""
    items: list[GoldenItem] = []
    stem = Path(source).stem
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}:{exc.colno}: not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a JSON object with input and ideal")
        for field in ("input", "ideal"):
            if field not in raw:
                raise ConfigError(f"{where}: field '{field}' is missing (evals lines need "
                                  "input and ideal)")  # fmt: skip
        prompt = raw["input"]
        body: dict[str, Any]
        if isinstance(prompt, str):
            body = {"prompt": prompt}
        elif isinstance(prompt, list):
            body = {"messages": prompt}
        else:
            raise ConfigError(f"{where}: field 'input' must be a string or chat messages")
        answers = _answers(raw["ideal"], where, "ideal")
        try:
            chk = check_for(check, answers)
        except ValueError as exc:
            raise ConfigError(f"{where}: field 'ideal': {exc}") from None
        item_id = str(raw.get("id") or f"{stem}-{lineno}")
        items.append(
            _item(
                {
                    "id": item_id,
                    **body,
                    "expected": answers[0],
                    "check": chk,
                    "tags": _tags(tags, stem),
                    "max_tokens": max_tokens,
                },
                where,
            )
        )
    return _unique(items, source)


def _column(header: Sequence[str], names: Sequence[str]) -> str | None:
    lower = {h.strip().lower(): h for h in header}
    return next((lower[n] for n in names if n in lower), None)


def parse_csv(
    text: str,
    source: str,
    *,
    check: CheckKind = "normalized",
    tags: Mapping[str, str] | None = None,
    max_tokens: int = 64,
) -> list[GoldenItem]:
    """A CSV with a header: prompt (or input, question), expected (or ideal, answer); optional
    id, check (a check type of CHECK_KINDS), tags ("task:qa;risk:high"), max_tokens. Several
    acceptable answers in one cell are separated by "|"."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header or not any(h.strip() for h in header):
        raise ConfigError(f"{source}:1: no header (the first line names the columns: "
                          "prompt,expected)")  # fmt: skip
    prompt_col = _column(header, PROMPT_COLUMNS)
    answer_col = _column(header, ANSWER_COLUMNS)
    has = ", ".join(h.strip() for h in header)
    if prompt_col is None:
        raise ConfigError(f"{source}:1: no prompt column (prompt, input or question); "
                          f"the header has: {has}")  # fmt: skip
    if answer_col is None:
        raise ConfigError(f"{source}:1: no answer column (expected, ideal or answer); "
                          f"the header has: {has}")  # fmt: skip
    names = [h.strip() for h in header]
    stem = Path(source).stem
    items: list[GoldenItem] = []
    for lineno, cells in enumerate(rows, 2):
        if not any(c.strip() for c in cells):
            continue
        where = f"{source}:{lineno}"
        if len(cells) != len(header):
            raise ConfigError(f"{where}: {len(cells)} columns, the header has {len(header)}")
        row = dict(zip(names, cells, strict=True))
        prompt, answer = row[prompt_col.strip()], row[answer_col.strip()]
        if not prompt.strip():
            raise ConfigError(f"{where}: column '{prompt_col.strip()}' is empty")
        answers = [a for a in answer.split(ANSWERS_SEP) if a.strip()]
        if not answers:
            raise ConfigError(f"{where}: column '{answer_col.strip()}' is empty")
        kind = (row.get("check") or check).strip()
        if kind not in CHECK_KINDS:
            raise ConfigError(f"{where}: column 'check': unknown check {kind!r}; use one of "
                              + ", ".join(CHECK_KINDS))  # fmt: skip
        try:
            chk = check_for(kind, answers)
        except ValueError as exc:
            raise ConfigError(f"{where}: column '{answer_col.strip()}': {exc}") from None
        try:
            budget = int(row.get("max_tokens") or max_tokens)
        except ValueError:
            raise ConfigError(f"{where}: column 'max_tokens' is not a whole number") from None
        items.append(
            _item(
                {
                    "id": (row.get("id") or "").strip() or f"{stem}-{lineno}",
                    "prompt": prompt,
                    "expected": answers[0].strip(),
                    "check": chk,
                    "tags": _tags(tags, stem, row.get("tags") or ""),
                    "max_tokens": budget,
                },
                where,
            )
        )
    return _unique(items, source)


def _unique(items: list[GoldenItem], source: str) -> list[GoldenItem]:
    if not items:
        raise ConfigError(f"{source}: no items to import")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ConfigError(f"{source}: duplicate id {item.id!r}")
        seen.add(item.id)
    return items


def detect(path: Path) -> Format:
    """csv for a .csv file, else evals (JSONL)."""
    return "csv" if path.suffix.lower() == ".csv" else "evals"


def import_file(
    path: Path,
    fmt: Format | None = None,
    *,
    check: CheckKind = "normalized",
    tags: Mapping[str, str] | None = None,
    max_tokens: int = 64,
) -> list[GoldenItem]:
    """Read and convert one file (ConfigError naming it when it cannot be read)."""
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    parse = parse_csv if (fmt or detect(path)) == "csv" else parse_evals
    return parse(text, str(path), check=check, tags=tags, max_tokens=max_tokens)


def to_jsonl(items: Sequence[GoldenItem]) -> str:
    """The golden-set JSONL (docs/golden-set.md) that load_golden reads back."""
    return "".join(
        json.dumps(i.model_dump(mode="json", by_alias=True, exclude_none=True),
                   ensure_ascii=False) + "\n"
        for i in items
    )  # fmt: skip
