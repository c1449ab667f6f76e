"""A trace's conversations: lines that are turns of one, read, checked, grouped and rebuilt from
a session's recorded turns. Pure.

A turn line says its conversation (``conversation``, or AIPerf's ``session_id``) and its position
(``turn``: 1, 2, … in time order; counted on when left out) and may say its think time
(``think_s``, or AIPerf's ``delay`` in ms): the pause between the previous turn's answer and it.
The replay (`qtui.load.trace.TraceSender`) sends turn k with the history of the turns before it
and the server's live answers, no earlier than its line's time and than the previous answer's
end plus the think time. Its ``input_tokens`` is the new user message alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from qtui.errors import ConfigError
from qtui.load.conversation import CHAT_OVERHEAD

ConvId = int | str


class Line(Protocol):
    """What this module reads of a trace item."""

    @property
    def offset_s(self) -> float: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def conversation(self) -> ConvId | None: ...
    @property
    def turn(self) -> int: ...
    @property
    def think_s(self) -> float | None: ...


class TurnOrder:
    """Reads each line's conversation fields and checks its turn follows its conversation's last."""

    def __init__(self) -> None:
        self.last: dict[ConvId, tuple[int, int]] = {}  # conversation -> (its last turn, line)

    def read(
        self, obj: Mapping[str, Any], where: str, n: int
    ) -> tuple[ConvId | None, int, float | None]:
        """(conversation, turn, think time in s) of one line; (None, 0, None) for a plain one."""
        ckey = next((k for k in ("conversation", "session_id") if k in obj), "conversation")
        conv = obj.get(ckey)
        if "turn" in obj and conv is None:
            raise ConfigError(
                f"{where}: conversation: a line with a turn needs its conversation "
                "(conversation or session_id); nothing sent"
            )
        if conv is None:
            return None, 0, None
        if isinstance(conv, bool) or not isinstance(conv, int | str) or conv == "":
            raise ConfigError(f"{where}: {ckey}: expected a number or a string; nothing sent")
        prev, prev_line = self.last.get(conv, (0, 0))
        turn = obj.get("turn", prev + 1)
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
            raise ConfigError(f"{where}: turn: expected a whole number ≥ 1; nothing sent")
        if turn != prev + 1:
            after = f"follows its turn {prev} (line {prev_line})" if prev else "is its first line"
            raise ConfigError(
                f"{where}: turn: turn {turn} of conversation {conv!r} {after}; a conversation's "
                "turns go 1, 2, … in time order; nothing sent"
            )
        self.last[conv] = (turn, n)
        return conv, turn, _think(obj, where) if turn > 1 else None


def _think(obj: Mapping[str, Any], where: str) -> float | None:
    for key, scale in (("think_s", 1.0), ("delay", 0.001)):
        if key in obj:
            v = obj[key]
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise ConfigError(f"{where}: {key}: expected a number ≥ 0; nothing sent")
            return float(v) * scale
    return None


def units(items: Sequence[Line]) -> tuple[tuple[int, ...], ...]:
    """The trace as what the replay starts at a line's time: a plain line alone, a conversation
    as its lines' indices in turn order; in the order of their first lines."""
    out: list[list[int]] = []
    where: dict[ConvId, int] = {}
    for i, it in enumerate(items):
        if it.conversation is None:
            out.append([i])
        elif it.conversation in where:
            out[where[it.conversation]].append(i)
        else:
            where[it.conversation] = len(out)
            out.append([i])
    return tuple(tuple(u) for u in out)


def first_over_context(items: Sequence[Line], max_model_len: int) -> tuple[int, int] | None:
    """The first line whose request is over ``max_model_len`` and its input length: a plain
    line's own input, a turn's with its conversation's history (every earlier turn's message
    and answer, 4 template tokens each, as `qtui.load.conversation.fits` counts)."""
    history: dict[ConvId, int] = {}
    for i, it in enumerate(items):
        n_in = it.input_tokens
        if it.conversation is not None:
            before = history.get(it.conversation, 0)
            history[it.conversation] = (
                before + it.input_tokens + it.output_tokens + 2 * CHAT_OVERHEAD
            )
            n_in += before + 2 * CHAT_OVERHEAD
        if n_in + it.output_tokens > max_model_len:
            return i, n_in
    return None


def latest_end_s(items: Sequence[Line], scale: float, timeout_s: float) -> float:
    """The latest a replay at ``scale`` × speed can send its last line (s from its start): a
    conversation's later turn waits for the answer before it, at most ``timeout_s`` each."""
    bound = items[-1].offset_s / scale if items else 0.0
    for unit in units(items):
        t = items[unit[0]].offset_s / scale
        for i in unit[1:]:
            t = max(items[i].offset_s / scale, t + timeout_s + (items[i].think_s or 0.0) / scale)
        bound = max(bound, t)
    return bound


def recorded_turns(
    rows: Iterable[Mapping[str, Any]],
) -> list[tuple[float, int, int, int, int, float | None]]:
    """A session's turn rows of one endpoint as trace lines: (send time, new message's tokens,
    output tokens, conversation, turn, think time). The new message is the growth of the
    server's prompt tokens over the previous turn's prompt and answer, less the template's 4
    tokens for each of the two new messages (at least 1); the think time is the gap between
    the previous answer's end and the send. A conversation stops at its first turn missing
    (failed before the server counted it): the next would have no history to follow."""
    convs: dict[int, dict[int, Mapping[str, Any]]] = {}
    for r in rows:
        convs.setdefault(int(r["conversation"]), {})[int(r["turn"])] = r
    out = []
    for cid, turns in convs.items():
        prev: Mapping[str, Any] | None = None
        for k in range(1, len(turns) + 1):
            if k not in turns:
                break
            r = turns[k]
            n_in, n_out = int(r["prompt_tokens"]), int(r["completion_tokens"])
            think: float | None = None
            if prev is not None:
                grown = n_in - int(prev["prompt_tokens"]) - int(prev["completion_tokens"])
                n_in = max(1, grown - 2 * CHAT_OVERHEAD)
                if prev.get("t_end"):
                    think = max(0.0, float(r["t_send"]) - float(prev["t_end"]))
            out.append((float(r["t_send"]), n_in, n_out, cid, k, think))
            prev = r
    return out
