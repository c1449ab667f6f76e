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
from itertools import pairwise
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


def _located(path: Path, text: str) -> list[tuple[int, Any]]:
    """Each conversation of a JSON list or JSONL text with the line it starts on."""
    if not text.lstrip().startswith("["):
        out = []
        for n, raw in enumerate(text.splitlines(), 1):
            if raw.strip():
                try:
                    out.append((n, json.loads(raw)))
                except ValueError:
                    raise ConfigError(f"{path}:{n}: not a JSON object; nothing sent") from None
        return out
    dec = json.JSONDecoder()
    items: list[tuple[int, Any]] = []
    pos: int = text.index("[") + 1
    line, counted = 1, 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        line += text.count("\n", counted, pos)
        counted = pos
        if pos >= len(text) or text[pos] == "]":
            return items
        try:
            obj, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{line}: not valid JSON ({exc.msg}); nothing sent") from None
        items.append((line, obj))
        line += text.count("\n", pos, end)
        pos = counted = end


def _strict_turns(where: str, conv: Any) -> list[tuple[str, str]]:
    """A conversation's (speaker, text) turns; a malformed one is an error naming the field."""
    if not isinstance(conv, dict):
        raise ConfigError(f"{where}: not a JSON object; nothing sent")
    key = "conversations" if "conversations" in conv else "messages"
    raw = conv.get(key)
    if not isinstance(raw, list):
        raise ConfigError(
            f"{where}: conversations: missing or not a list of turns "
            '({"from": "human", "value": "..."}); nothing sent'
        )
    out = []
    for i, t in enumerate(raw):
        who_key, text_key = ("from", "value") if key == "conversations" else ("role", "content")
        if not isinstance(t, dict):
            raise ConfigError(f"{where}: {key}[{i}]: expected an object; nothing sent")
        who, text = t.get(who_key), t.get(text_key)
        if not isinstance(who, str):
            raise ConfigError(f"{where}: {key}[{i}].{who_key}: expected a string; nothing sent")
        if not isinstance(text, str):
            raise ConfigError(f"{where}: {key}[{i}].{text_key}: expected a string; nothing sent")
        out.append((who.lower(), text))
    return out


def read_conversations(path: Path, w: Any) -> tuple[list[Any], int]:
    """A ShareGPT file's conversations for the multi-turn workload (``kind = "sharegpt"``):
    each human turn followed by an answer is one turn (at most ``w.turns``), its output length
    the recorded answer's (characters / 4) or ``w.output_tokens.mean``; a leading system turn
    is the system message. Conversations without such a turn are skipped, and counted.
    Malformed input is one error naming the file, the line and the field."""
    from qtui.load.conversation import Conversation, Turn

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read conversations file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: conversations file is not UTF-8 text") from None
    fixed = w.answer_lengths == "fixed"
    out: list[Any] = []
    skipped = 0
    for line, conv in _located(path, text):
        turns = _strict_turns(f"{path}:{line}", conv)
        system = turns[0][1] if turns and turns[0][0] == "system" else None
        kept: list[Any] = []
        for (who, msg), (nxt, answer) in pairwise(turns):
            if len(kept) >= w.turns:
                break
            if who in _HUMAN and nxt in _ANSWER and msg.strip():
                n_out = w.output_tokens.mean if fixed else max(1, len(answer) // 4)
                kept.append(Turn(msg, n_out, max(1, len(msg) // 4)))
        if kept:
            out.append(Conversation(tuple(kept), system))
        else:
            skipped += 1
    if not out:
        raise ConfigError(
            f"{path}: no conversation with a human turn and an answer "
            f"({skipped} skipped); nothing sent"
        )
    return out, skipped
