"""Golden sets: JSONL files of prompts with a known-good answer and a checker (docs/golden-set.md).

Everything is validated at load, so a bad item fails with `file:line: reason` before any request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qtui.errors import ConfigError
from qtui.quality.checkers import CHECK_TYPES, Check, evaluate


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class GoldenItem(BaseModel):
    """One golden item: a prompt (or chat messages), a correct answer and how to check it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    prompt: str | None = None
    messages: list[Message] | None = Field(None, min_length=1)
    expected: str
    check: Check
    tags: dict[str, str] | list[str] = Field(default_factory=list)
    max_tokens: int = Field(64, ge=1, le=32768)

    @model_validator(mode="after")
    def _consistent(self) -> GoldenItem:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        outcome = evaluate(self.check, self.expected, self.expected)
        if not outcome.passed:
            why = f" ({outcome.detail})" if outcome.detail else ""
            raise ValueError(
                f"'expected' must be a correct answer, but it fails its own "
                f"{self.check.type} check{why}"
            )
        return self

    @property
    def labels(self) -> tuple[str, ...]:
        """Tags as flat labels: {"task": "math"} → "task:math"; list tags as written."""
        if isinstance(self.tags, dict):
            return tuple(f"{k}:{v}" for k, v in self.tags.items())
        return tuple(self.tags)

    @property
    def last_user_message(self) -> str:
        """The prompt, or the content of the last user message."""
        if self.prompt is not None:
            return self.prompt
        users = [m.content for m in self.messages or [] if m.role == "user"]
        return users[-1] if users else ""


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    # drop union-member names such as "dict[str,str]" that pydantic puts in the location
    loc = ".".join(str(p) for p in err["loc"] if "[" not in str(p))
    msg = err["msg"].removeprefix("Value error, ")
    kinds = "'" + "', '".join(CHECK_TYPES) + "'"
    if err["type"] == "extra_forbidden":
        msg = "unknown field (see docs/golden-set.md for the fields)"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "union_tag_invalid":
        msg = f"unknown check type; use one of {kinds}"
    elif err["type"] == "union_tag_not_found":
        msg = f'needs a "type": one of {kinds}'
    return f"{loc}: {msg}" if loc else msg


def parse_golden(text: str, source: str = "<golden>") -> list[GoldenItem]:
    """Parse and validate JSONL text; raise ConfigError at `source:line` of the first problem."""
    items: list[GoldenItem] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            problems.append(f"{source}:{lineno}: not valid JSON ({exc})")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{source}:{lineno}: expected a JSON object, got {type(raw).__name__}")
            continue
        try:
            item = GoldenItem.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"{source}:{lineno}: {_describe(exc)}")
            continue
        if item.id in first_line:
            problems.append(
                f"{source}:{lineno}: duplicate id {item.id!r} (first on line {first_line[item.id]})"
            )
            continue
        first_line[item.id] = lineno
        items.append(item)
    if problems:
        more = f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ConfigError(problems[0] + more)
    if not items:
        raise ConfigError(f"{source}: golden set has no items")
    return items


def load_golden(path: Path | str) -> list[GoldenItem]:
    """Read and validate a golden-set JSONL file."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: golden set not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read golden set ({exc})") from None
    return parse_golden(text, str(path))


def resolve_golden_path(profile_file: Path | str, golden_set: str) -> Path:
    """A profile's `workload.golden_set`, relative to the profile file unless absolute."""
    path = Path(golden_set).expanduser()
    return path if path.is_absolute() else Path(profile_file).parent / path
