"""Read and validate the files qtui takes as input; every failure is one clear line."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from qtui.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, object]:
    """Parse a TOML file, naming the file (and line) on failure."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None


def _key_line(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of the last named key in ``loc``."""
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return None
    key = names[-1]
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith((f"{key} ", f"{key}=", f'"{key}"')):
            return i
    return None


def format_validation_error(path: Path, exc: ValidationError, text: str = "") -> str:
    """One line naming the file, the key path and what is expected (first error; count rest)."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check spelling; see the documented fields)"
    elif err["type"] == "missing":
        msg = "required key is missing"
    line = _key_line(text, loc) if text else None
    where = f"{path}:{line}" if line else str(path)
    more = len(exc.errors()) - 1
    tail = f" (+{more} more)" if more else ""
    return f"{where}: {key or '<top>'}: {msg}{tail}"


def load_model(path: Path, model: type[M]) -> M:
    """Read ``path`` as TOML and validate it against ``model``."""
    data = read_toml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        text = path.read_text("utf-8")
        raise ConfigError(format_validation_error(path, exc, text)) from None
