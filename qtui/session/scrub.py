"""Keep secrets out of session files: secret-looking keys and known secret values are redacted."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"

_SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|authorization|auth[_-]?header|password|passwd|secret|token$|"
    r"^token|access[_-]?key|bearer|cookie|credential|private[_-]?key|^headers$)",
    re.IGNORECASE,
)
_NOT_SECRET = re.compile(r"(_tokens?$|^tokens$|token_ids|_tps$|tokens_|api_key_env$)", re.I)
"""Token *counts* and the *name* of the key's env var are data, not secrets."""
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")
_MIN_SECRET_LEN = 4


def is_secret_key(key: str) -> bool:
    """Whether a field named ``key`` would hold a credential."""
    return bool(_SECRET_KEY.search(key)) and not _NOT_SECRET.search(key)


def secret_values_from_env(env_names: Iterable[str | None]) -> frozenset[str]:
    """The values of the named env vars (e.g. every ``Endpoint.api_key_env``) that are set."""
    values = {os.environ.get(n, "") for n in env_names if n}
    return frozenset(v for v in values if len(v) >= _MIN_SECRET_LEN)


def scrub_text(text: str, secrets: frozenset[str]) -> str:
    """``text`` with every known secret value and bearer token replaced."""
    for s in secrets:
        if s in text:
            text = text.replace(s, REDACTED)
    return _BEARER.sub(f"Bearer {REDACTED}", text) if "earer" in text else text


def scrub(value: Any, secrets: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` (JSON-like) with secret keys' values and secret strings redacted."""
    if isinstance(value, str):
        return scrub_text(value, secrets) if value else value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = str(k)
            # a number is no credential: a logprob keyed by the token " token" is data
            if is_secret_key(key) and v not in (None, "", [], {}) and not _number(v):
                out[key] = REDACTED
            else:
                out[key] = scrub(v, secrets)
        return out
    if isinstance(value, list | tuple):
        return [scrub(v, secrets) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(to_plain(value), secrets)


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def to_plain(value: Any) -> Any:
    """JSON-ready form of dataclasses, pydantic models, enums, paths and numpy scalars."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
