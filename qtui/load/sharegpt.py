"""ShareGPT-style conversations as a JSONL prompt file (``kind = "jsonl"``).

A ShareGPT file is a JSON list (or JSONL) of ``{"conversations": [{"from": "human", "value":
...}, {"from": "gpt", "value": ...}, ...]}``; OpenAI-style ``{"messages": [{"role": "user",
"content": ...}, ...]}`` reads the same. Each conversation gives one prompt: its first human
turn, with the recorded answer's length (characters / 4, the estimate a prompt file's input
uses) as ``max_tokens``, or a fixed one. Conversations without a human turn followed by an
answer are skipped, and counted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qtui.errors import ConfigError

_HUMAN = ("human", "user")
_ANSWER = ("gpt", "assistant", "chatgpt", "bard", "bing")


def _turns(conv: Any) -> list[tuple[str, str]]:
    if not isinstance(conv, dict):
        return []
    raw = conv.get("conversations", conv.get("messages"))
    if not isinstance(raw, list):
        return []
    out = []
    for t in raw:
        if isinstance(t, dict):
            who, text = t.get("from", t.get("role")), t.get("value", t.get("content"))
            if isinstance(who, str) and isinstance(text, str):
                out.append((who.lower(), text))
    return out


def _conversations(path: Path, text: str) -> list[Any]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc}); nothing written") from None
        return list(data)
    convs = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                convs.append(json.loads(line))
            except ValueError:
                raise ConfigError(f"{path}:{n}: not a JSON object; nothing written") from None
    return convs


def sharegpt_prompts(
    path: Path, text: str, output_tokens: int | None = None, min_output: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """The prompt-file lines of a ShareGPT text, and how many conversations were skipped."""
    lines: list[dict[str, Any]] = []
    skipped = 0
    for conv in _conversations(path, text):
        turns = _turns(conv)
        first = next((i for i, (who, _) in enumerate(turns) if who in _HUMAN), None)
        if first is None or first + 1 >= len(turns) or turns[first + 1][0] not in _ANSWER:
            skipped += 1
            continue
        prompt, answer = turns[first][1], turns[first + 1][1]
        if not prompt.strip():
            skipped += 1
            continue
        n_out = output_tokens or max(min_output, len(answer) // 4)
        lines.append({"prompt": prompt, "max_tokens": n_out})
    if not lines:
        raise ConfigError(
            f"{path}: no conversation with a human turn and an answer "
            f"({skipped} skipped); nothing written"
        )
    return lines, skipped
