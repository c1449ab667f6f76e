"""Multi-turn conversations: each is N user turns sent one after another over the chat API,
every turn resending the whole history (the earlier turns and the server's actual answers).

A source hands out whole conversations (`Conversation`); the sender (`qtui.load.sender`) sends
their turns, waits for each answer, thinks, and sends the next. Synthetic conversations are
``turns`` prompts of the workload's sampled lengths (the first behind one of the shared prefixes
when ``prefix_count`` is set); ShareGPT conversations are a file's human turns
(`qtui.load.sharegpt.sharegpt_conversations`). Pure: no I/O but reading the file once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from qtui.config.profile import Workload
from qtui.errors import ConfigError
from qtui.load.tokens import TokenPool, WordPool
from qtui.load.workload import SyntheticWorkload

CHAT_OVERHEAD = 4  # tokens a chat template adds per message (the simulator counts the same)


@dataclass(frozen=True, slots=True)
class Turn:
    """One user turn: its text, the output length asked for, its length estimate (tokens)."""

    text: str
    max_tokens: int
    input_tokens: int
    fixed_output: bool = True


@dataclass(frozen=True, slots=True)
class Conversation:
    """The user side of one conversation (the answers come from the server)."""

    turns: tuple[Turn, ...]
    system: str | None = None


@runtime_checkable
class ConversationSource(Protocol):
    """Anything the sender can ask for the next conversation."""

    mean_turns: float

    def next(self) -> Conversation: ...


def fits(turns: list[Turn], max_model_len: int | None, system_tokens: int = 0) -> list[Turn]:
    """The leading turns whose whole history (every message, answer and template token) still
    fits the context: the last turn sent resends everything before it."""
    if not max_model_len:
        return turns
    used = system_tokens + CHAT_OVERHEAD if system_tokens else 0
    kept: list[Turn] = []
    for t in turns:
        used += t.input_tokens + t.max_tokens + 2 * CHAT_OVERHEAD
        if used > max_model_len:
            break
        kept.append(t)
    return kept


class SyntheticConversations:
    """``turns`` random-word turns of the workload's sampled lengths per conversation; the first
    turn is behind one of the K shared prefixes when ``prefix_count`` is set. Turns past the
    model's context are left out (the conversation ends there)."""

    def __init__(
        self,
        w: Workload,
        max_model_len: int | None = None,
        salt: int = 0,
        shard: int = 0,
        pool: WordPool | TokenPool | None = None,
        run: int = 0,
    ) -> None:
        self.w = w
        words = pool if isinstance(pool, WordPool) else None  # chat: user messages of words
        self.synth = SyntheticWorkload(w, None, salt, shard, words, run)
        self.max_len = max_model_len
        self.mean_turns = float(w.turns)

    def next(self) -> Conversation:
        turns = []
        for k in range(self.w.turns):
            p = self.synth.next(shared_prefix=k == 0)
            turns.append(Turn(p.text, p.max_tokens, p.input_tokens))
        kept = fits(turns, self.max_len)
        if not kept:  # the first turn alone is over the context: send it cut, as a prompt is
            first = turns[0]
            n_out = min(first.max_tokens, max(1, (self.max_len or 2) // 2))
            n_in = max(1, (self.max_len or 2) - n_out - 3 * CHAT_OVERHEAD)
            words = first.text.split(" ")[:n_in]
            kept = [Turn(" ".join(words), n_out, len(words))]
        return Conversation(tuple(kept))


class FileConversations:
    """A ShareGPT file's conversations in order, cycled (each cut to ``turns`` and to the
    model's context); those whose first turn does not fit are left out."""

    def __init__(self, path: Path, w: Workload, max_model_len: int | None = None) -> None:
        convs, self.skipped = _read_once(path, w)
        self.items: list[Conversation] = []
        for c in convs:
            system_tokens = len(c.system) // 4 if c.system else 0
            kept = fits(list(c.turns), max_model_len, system_tokens)
            if kept:
                self.items.append(Conversation(tuple(kept), c.system))
            else:
                self.skipped += 1
        if not self.items:
            raise ConfigError(
                f"{path}: no conversation fits max_model_len {max_model_len} "
                f"({self.skipped} skipped); nothing sent"
            )
        self.mean_turns = float(np.mean([len(c.turns) for c in self.items]))
        self.i = 0

    def next(self) -> Conversation:
        c = self.items[self.i % len(self.items)]
        self.i += 1
        return c


_READ: dict[tuple[object, ...], tuple[list[Conversation], int]] = {}


def _read_once(path: Path, w: Workload) -> tuple[list[Conversation], int]:
    """A file's conversations, read once per process (every endpoint gets the same ones; a
    ShareGPT file can be hundreds of MB); read again when the file or the settings change."""
    from qtui.load.sharegpt import read_conversations

    try:
        st = path.stat()
        key: tuple[object, ...] = (
            str(path.resolve()), st.st_mtime_ns, st.st_size, w.turns, w.answer_lengths,
            w.output_tokens.mean,
        )  # fmt: skip
    except OSError:
        return read_conversations(path, w)  # says why it cannot be read
    if key not in _READ:
        _READ.clear()  # one file at a time is kept
        _READ[key] = read_conversations(path, w)
    convs, skipped = _READ[key]
    return list(convs), skipped


def history_tokens(history: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> int:
    """The estimated tokens of the messages before a turn (characters / 4 plus the template)."""
    return sum(len(text) // 4 + CHAT_OVERHEAD for _, text in history)
