"""Exact input lengths from the server's ``/tokenize`` (vLLM offers it; so does the simulator).

Once per run the common-word text every synthetic prompt is drawn from is tokenized by each
endpoint; when every endpoint answers with the same ids (the same tokenizer: one model at
several precisions), prompts are sent as token ids drawn from that pool, so a prompt of N
tokens is N tokens on every endpoint (as ``vllm bench serve``'s random dataset samples token
ids). Otherwise, or over the chat API (which takes text), lengths are estimates, and the record
says which. `input_lengths` is that sentence, in the words every place shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

from qtui.client.discovery import auth_headers, tls_context
from qtui.config.profile import Workload
from qtui.load.words import WORDS

EXACT = "input lengths exact (server /tokenize)"
NO_TOKENIZE = "input lengths estimated (no /tokenize)"
DIFFERENT = "input lengths estimated (the endpoints' /tokenize differ: not one tokenizer)"
CHAT = "input lengths estimated (chat API: prompts are text)"
TEXT = "input lengths estimated (prompt text: characters / 4)"
POOL_TEXT = " " + " ".join(WORDS)  # every word once, each behind a space as in a prompt


@dataclass(frozen=True, slots=True)
class TokenPool:
    """Token ids of common words, shared by every endpoint (one tokenizer)."""

    ids: tuple[int, ...]
    _arr: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_arr", np.asarray(self.ids, dtype=np.int64))

    def sample(self, rng: np.random.Generator, n: int) -> tuple[int, ...]:
        """``n`` ids drawn uniformly from the pool (``n`` tokens exactly); one numpy take, not
        a Python step per token (it runs once per request)."""
        picks = rng.integers(len(self.ids), size=max(0, n))
        return tuple(self._arr[picks].tolist())


@dataclass(frozen=True, slots=True)
class WordPool:
    """Common words that are one token each behind a space, in a row as well as alone, for
    every endpoint (the chat API takes text: ``n`` of them are ``n`` tokens of a message)."""

    words: tuple[str, ...]

    def text(self, rng: np.random.Generator, n: int) -> str:
        """``n`` words, each behind a space: exactly ``n`` tokens."""
        picks = rng.integers(len(self.words), size=max(0, n))
        return "".join(" " + self.words[int(i)] for i in picks)


CHAT_EXACT = (
    "input lengths exact (server /tokenize) for the user messages; the chat template (and a "
    "conversation's earlier answers) add what the server counts"
)
MIN_WORDS = 16  # fewer one-token words than this: prompts would repeat too much; estimated


def chat_lengths(
    w: Workload, lists: Sequence[tuple[str, ...] | None]
) -> tuple[str, WordPool | None]:
    """The chat API's statement and word pool: exact user messages when every endpoint's
    ``/tokenize`` found the same one-token words (synthetic prompts only)."""
    if w.kind != "synthetic":
        return CHAT, None
    if not lists or any(x is None or len(x) < MIN_WORDS for x in lists):
        return (NO_TOKENIZE if any(x is None for x in lists) or not lists else CHAT), None
    if any(x != lists[0] for x in lists[1:]):
        return DIFFERENT, None
    first = lists[0]
    assert first is not None
    return CHAT_EXACT, WordPool(first)


def input_lengths(
    w: Workload, pools: Sequence[tuple[int, ...] | None], text_lines: int = 0
) -> tuple[str, TokenPool | None]:
    """What the record says about input lengths, and the pool to draw prompts from (None:
    text prompts, estimated). Exact needs token-id prompts (completions API), a synthetic or
    trace workload, and the same non-empty ids from every endpoint; ``text_lines`` trace lines
    that carry their own prompt text are sent as text (said so)."""
    if w.kind not in ("synthetic", "trace") or w.multi_turn:
        return (CHAT if w.api == "chat" else TEXT), None
    if w.api == "chat":
        return CHAT, None
    if not pools or any(p is None or not p for p in pools):
        return NO_TOKENIZE, None
    if any(p != pools[0] for p in pools[1:]):
        return DIFFERENT, None
    first = pools[0]
    assert first is not None
    if text_lines:  # a trace's lines with their own prompt text are sent as that text
        return f"{EXACT}, but for {text_lines} trace lines with prompt text (estimated)", TokenPool(
            first
        )
    return EXACT, TokenPool(first)


async def fetch_words(
    url: str, model: str, key: str | None, timeout_s: float = 10.0
) -> tuple[str, ...] | None:
    """The common words that the endpoint's ``/tokenize`` counts as one token each behind a
    space, four in a row as four (so a message of them is additive), checked once more on all
    of them together; None when it offers no ``/tokenize``."""
    verify = tls_context() if url.startswith("https:") else False
    try:
        async with httpx.AsyncClient(timeout=timeout_s, verify=verify) as c:

            async def count(text: str) -> int | None:
                body = {"model": model, "prompt": text, "add_special_tokens": False}
                r = await c.post(f"{url}/tokenize", json=body, headers=auth_headers(key))
                got = r.json().get("count") if r.status_code == 200 else None
                return got if isinstance(got, int) and not isinstance(got, bool) else None

            first = WORDS[0]
            if await count(f" {first} {first} {first} {first}") is None:
                return None  # no /tokenize: one request says so, not one per word
            counts = await asyncio.gather(*(count(f" {w} {w} {w} {w}") for w in WORDS))
            words = tuple(w for w, n in zip(WORDS, counts, strict=True) if n == 4)
            mixed = "".join(f" {w}" for w in words)
            if words and await count(mixed) != len(words):
                return ()  # not additive in a row: no exact messages from these words
            return words
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


async def fetch_pool(
    url: str, model: str, key: str | None, timeout_s: float = 10.0
) -> tuple[int, ...] | None:
    """The endpoint's token ids of the word pool (each id once, sorted), or None when it
    offers no ``/tokenize`` (any failure: a 404, a timeout, an answer without ``tokens``)."""
    body = {"model": model, "prompt": POOL_TEXT, "add_special_tokens": False}
    verify = tls_context() if url.startswith("https:") else False
    try:
        async with httpx.AsyncClient(timeout=timeout_s, verify=verify) as c:
            r = await c.post(f"{url}/tokenize", json=body, headers=auth_headers(key))
        data = r.json() if r.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in tokens
    ):
        return None
    return tuple(sorted(set(tokens))) or None
