"""Reading an OpenAI-compatible SSE stream with the least work per chunk (pure, no I/O).

Every event is timed and counted as it arrives, but JSON is decoded only where a figure needs
it: the first token chunk, role and finish chunks, the usage chunk, errors, and anything that does
not fit the shape learned from a decoded chunk. Learning: in a decoded plain token chunk (text,
no finish reason, no usage) the bytes are split around its text string into a prefix and a
suffix; when the same prefix with the text ``x`` and the same suffix decodes to a plain token
chunk too, every later event ``prefix + body + suffix`` whose body is ASCII with no quote,
backslash or control character is a plain token chunk (it parses to the same tree with another
non-empty string there), so it is counted with three byte comparisons and one regex scan. The
result is the one `json.loads` of every event gives (tests/client/test_client_equivalence.py
replays recorded streams through both).
"""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

from qtui.evidence.records import RequestRecord

_TEXT_KEYS = ("content", "reasoning_content", "reasoning")
# where a chunk's text may start: compact JSON (vLLM, pydantic) or json.dumps' default (llama.cpp)
_SLOTS = tuple(
    f'"{key}"{sep}"'.encode()
    for key in ("text", "content", "reasoning_content", "reasoning")
    for sep in (":", ": ")
)
# text without these is literally a JSON string's body (non-ASCII takes the decoded path)
_UNSAFE = re.compile(rb'["\\\x00-\x1f\x7f-\xff]')
_STRING_BODY = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)  # up to a JSON string's closing quote
LEARN_TRIES = 2  # decoded plain token chunks a request tries to learn its shape from
SSE_FIELDS = frozenset({b"data", b"event", b"id", b"retry"})


class Malformed(Exception):
    """The response is not the SSE stream of an OpenAI-compatible server."""


class Counter(Protocol):
    """Whoever counts token chunks and their text bytes live (the client, for its per-second
    throughput)."""

    chunks: int
    text_bytes: int


class SseReader:
    """One response's SSE events: token chunk times into ``times``, the figures kept for
    `finish`. `feed` takes body bytes as they arrive with their arrival offset.

    ``text_bytes`` counts the UTF-8 bytes of the text the token chunks carried: unlike chunks,
    whose tokens vary with how far the server's frontend fell behind (vLLM merges 1 to 270
    tokens into one chunk on a saturated H200), bytes per token is a property of the text, so a
    stream cut before its usage chunk is worth its bytes times the finished requests' tokens
    per byte (`qtui.metrics.stats.tokens_per_byte`).
    """

    __slots__ = (
        "answered", "buf", "counter", "done", "finish_reason", "learn_left", "least", "prefix",
        "suffix", "suffix_end", "text", "text_bytes", "times", "usage",
    )  # fmt: skip

    def __init__(self, times: list[float], counter: Counter, text: list[str] | None = None) -> None:
        self.times = times
        self.text = text  # where the answer's text goes (a conversation's turn), or None
        self.counter = counter
        self.buf = b""
        self.done = False  # [DONE] seen
        self.answered = False  # any event with choices, token-bearing or not
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.text_bytes = 0
        # the learned shape of a plain token chunk, as event bytes: b"data: " + the JSON before
        # its text, and the JSON after it (suffix_end: with the blank line ending the event)
        self.prefix: bytes | None = None
        self.suffix = self.suffix_end = b""
        self.least = 0
        # keeping the text decodes every event: no shape is learned, so no event is skipped
        self.learn_left = 0 if text is not None else LEARN_TRIES

    def feed(self, data: bytes, now: float) -> int:
        """Read the complete events in ``data`` (plus what was left over); the token chunks
        among them get ``now`` as their time. Returns how many there were; raises Malformed."""
        prefix = self.prefix
        if (
            prefix is not None
            and not self.buf
            and len(data) > self.least + 2
            and data.startswith(prefix)
            and data.endswith(self.suffix_end)
            and _UNSAFE.search(data, len(prefix), len(data) - len(self.suffix_end)) is None
        ):  # the common case: one plain token chunk (no newline but the final two)
            self.times.append(now)
            nbytes = len(data) - self.least - 2  # its text: ASCII, no escapes (checked above)
            self.text_bytes += nbytes
            counter = self.counter
            counter.chunks += 1
            counter.text_bytes += nbytes
            return 1
        buf = self.buf
        # SSE lines may end in \r\n (llama.cpp's server) as well as \n (vLLM)
        buf = (buf + data).replace(b"\r\n", b"\n") if b"\r" in data or buf else data
        if b"\n\n" not in buf:
            self.buf = buf
            return 0
        *events, self.buf = buf.split(b"\n\n")
        n = 0
        before = self.text_bytes
        for ev in events:
            if (
                prefix is not None
                and len(ev) > self.least
                and ev.startswith(prefix)
                and ev.endswith(self.suffix)
                and _UNSAFE.search(ev, len(prefix), len(ev) - len(self.suffix)) is None
            ):
                self.times.append(now)
                self.text_bytes += len(ev) - self.least
                n += 1
                continue
            if ev[:5] == b"data:" and b"\n" not in ev:  # one data line
                payload = ev[5:].strip()
            else:
                got = sse_data(ev)
                if got is None:
                    continue
                payload = got
            if payload == b"[DONE]":
                self.done = True
                continue
            n += self._decode(payload, now)
            prefix = self.prefix
        if n:
            self.counter.chunks += n
            self.counter.text_bytes += self.text_bytes - before
        return n

    def _decode(self, payload: bytes, now: float) -> int:
        obj = _loads(payload)
        n = 0
        choices = obj.get("choices")
        fr = None
        if choices:
            if not isinstance(choices, list) or not isinstance(choices[0], dict):
                raise Malformed("choices is not a list of objects")
            self.answered = True
            first = choices[0]
            if carries_text(first):
                self.times.append(now)
                self.text_bytes += carried_bytes(first)
                n = 1
                if self.text is not None:
                    self.text.append(answer_text(first))
            fr = first.get("finish_reason")
            if fr is not None:
                self.finish_reason = fr
        usage = obj.get("usage")
        if usage:
            if not isinstance(usage, dict):
                raise Malformed("usage is not a JSON object")
            self.usage = usage
        if "error" in obj and not choices:
            err = obj["error"]
            msg = err.get("message", "") if isinstance(err, dict) else str(err)
            raise Malformed(f"server error in stream: {one_line(str(msg))}")
        if n and fr is None and not usage and self.learn_left:
            self.learn_left -= 1
            self._learn(payload)
        return n

    def _learn(self, payload: bytes) -> None:
        """Split a plain token chunk around its text; keep the split if it is the text."""
        for slot in _SLOTS:
            i = payload.find(slot)
            if i < 0:
                continue
            start = i + len(slot)
            m = _STRING_BODY.match(payload, start)
            if m is None:
                continue
            prefix, suffix = payload[:start], payload[m.end() - 1 :]
            if b"\n" in prefix or b"\n" in suffix or b"\r" in prefix or b"\r" in suffix:
                return  # from a multi-line event: events of one line would not match it
            if _is_plain_token(prefix + b"x" + suffix):
                self.prefix, self.suffix = b"data: " + prefix, suffix
                self.suffix_end = suffix + b"\n\n"
                self.least = len(self.prefix) + len(suffix)
                return

    def finish(self, rec: RequestRecord) -> None:
        """The record's figures once the body has ended (t_end already set)."""
        times = self.times
        if times:
            rec.t_first_token = rec.t_send + times[0]
        rec.finish_reason = self.finish_reason
        rec.text_bytes = self.text_bytes
        usage = self.usage
        completion = _int(usage.get("completion_tokens")) if usage is not None else None
        if usage is not None and completion is not None and completion >= len(times):
            rec.prompt_tokens = _int(usage.get("prompt_tokens"))
            rec.completion_tokens = completion
            rec.usage_source = "server"
        else:  # no usage, or one that cannot be right (fewer tokens than token chunks): counted
            if usage is not None:
                rec.prompt_tokens = _int(usage.get("prompt_tokens"))
            rec.completion_tokens = len(times)
            rec.usage_source = "counted"
        if not self.done and self.finish_reason is None:
            rec.error_class = "disconnect"
            rec.error_detail = f"stream ended after {len(times)} chunks without [DONE]"
        elif not self.answered:
            rec.error_class = "malformed"
            rec.error_detail = "stream carried no choices"


def _loads(payload: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(payload)
    except ValueError:
        head = payload[:60].decode("utf-8", "replace")
        raise Malformed(f"event is not JSON: {one_line(head)}") from None
    if not isinstance(obj, dict):
        raise Malformed("event is not a JSON object")
    return obj


def _is_plain_token(payload: bytes) -> bool:
    """A token chunk with no finish reason and no usage (what the fast path may count)."""
    try:
        obj = json.loads(payload)
    except ValueError:
        return False
    if not isinstance(obj, dict) or obj.get("usage"):
        return False
    choices = obj.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return False
    return carries_text(choices[0]) and choices[0].get("finish_reason") is None


def carries_text(choice: Any) -> bool:
    """A token chunk: non-empty `text` (completions) or `delta` content/reasoning (chat).

    llama.cpp's role-only first chat chunk and its empty final chunk (finish_reason only) carry
    no token, nor does vLLM's chat role chunk (`content: ""`); none of them is timed or counted.
    """
    if not isinstance(choice, dict):
        return False
    if choice.get("text"):
        return True
    delta = choice.get("delta")
    return isinstance(delta, dict) and any(delta.get(k) for k in _TEXT_KEYS)


def carried_bytes(choice: dict[str, Any]) -> int:
    """UTF-8 bytes of the text a token chunk carries (``text``, or ``delta`` content/reasoning):
    what the fast path measures as the bytes of the JSON string between its prefix and suffix
    (there ASCII without escapes, where bytes and characters agree)."""
    n = 0
    text = choice.get("text")
    if isinstance(text, str):
        n += len(text.encode("utf-8"))
    delta = choice.get("delta")
    if isinstance(delta, dict):
        for key in _TEXT_KEYS:
            v = delta.get(key)
            if isinstance(v, str):
                n += len(v.encode("utf-8"))
    return n


def answer_text(choice: dict[str, Any]) -> str:
    """The answer text a token chunk adds (completions ``text`` or chat ``delta.content``; a
    reasoning model's reasoning is not part of the answer a conversation resends)."""
    text = choice.get("text")
    if isinstance(text, str):
        return text
    delta = choice.get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    return content if isinstance(content, str) else ""


def sse_data(event: bytes) -> bytes | None:
    """The data of one SSE event (its ``data:`` lines joined); None for a comment or an event
    without data. Other fields (``event:``, ``id:``, ``retry:``) are ignored, as the spec says."""
    if not event or event[:1] == b":":
        return None
    if event.startswith(b"data:") and b"\n" not in event:  # the common case: one data line
        return event[5:].strip()
    lines = [ln for ln in event.split(b"\n") if ln and ln[:1] != b":"]
    data = [ln[5:].strip() for ln in lines if ln.startswith(b"data:")]
    unknown = [ln for ln in lines if ln.split(b":", 1)[0] not in SSE_FIELDS]
    if unknown:
        head = unknown[0][:60].decode("utf-8", "replace")
        raise Malformed(f"not an SSE data line: {one_line(head)}")
    return b"\n".join(data) if data else None


def _int(v: Any) -> int | None:
    """A token count: a non-negative number (a bool, a string or a negative is no count)."""
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or v != v:
        return None
    return int(v)


def one_line(s: str) -> str:
    return " ".join(s.split())[:120]
