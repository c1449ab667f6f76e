"""Deterministic pseudo-text and logprobs (pure). A "token" is a short chunk of text.

Prompt tokens are counted as ceil(characters / 4) (at least 1), the usual rule of thumb for BPE
tokenizers on English text. Generated text is a walk over a fixed vocabulary driven by a state
that hashes the prompt and every token chosen so far, so two endpoints given the same prompt at
temperature 0 produce the same text until their logprob noise makes them choose differently.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

_WORDS = [
    "the",
    "model",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
    "which",
    "data",
    "can",
    "not",
    "have",
    "more",
    "also",
    "time",
    "but",
    "their",
    "has",
    "one",
    "all",
    "were",
    "used",
    "new",
    "first",
    "system",
    "two",
    "these",
    "other",
    "its",
    "may",
    "such",
    "than",
    "been",
    "only",
    "into",
    "some",
    "most",
    "results",
    "number",
    "between",
    "each",
    "value",
    "based",
    "over",
    "under",
    "both",
    "high",
    "low",
    "large",
    "small",
    "well",
    "test",
    "case",
    "point",
    "study",
    "form",
    "level",
    "power",
    "memory",
    "speed",
    "token",
    "batch",
    "cache",
    "layer",
    "weight",
    "answer",
    "question",
    "result",
    "figure",
    "table",
    "cost",
    "price",
    "energy",
    "request",
    "server",
    "client",
    "latency",
    "throughput",
    "precision",
    "quality",
    "check",
]
VOCAB: tuple[str, ...] = (
    *(" " + w for w in _WORDS),
    *(" " + w.capitalize() for w in _WORDS[:24]),
    ".",
    ",",
    ";",
    ":",
    "\n",
    " (",
    ")",
    " -",
    "'s",
    "s",
    "ing",
    "ed",
    *(" " + str(d) for d in range(10)),
)
TOP_K = 5
_MASK = (1 << 61) - 1


def count_prompt_tokens(text: str) -> int:
    """~4 characters per token, at least 1."""
    return max(1, math.ceil(len(text) / 4))


def count_chat_tokens(contents: list[str]) -> int:
    """Message contents plus a chat template's few tokens per message and the reply header."""
    return sum(count_prompt_tokens(c) + 4 for c in contents) + 3


def tokenize(text: str, vocab_size: int) -> list[int]:
    """The simulator's tokens of a text: one per 4 characters (``count_prompt_tokens``), each
    id a stable hash of its characters (the same text always gives the same ids)."""
    if not text:
        return []
    data = text.encode("utf-8", "surrogatepass")
    n = count_prompt_tokens(text)
    per = max(1, -(-len(data) // n))
    return [stable_id(data[i * per : (i + 1) * per], vocab_size) for i in range(n)]


def stable_id(chunk: bytes, vocab_size: int) -> int:
    digest = hashlib.blake2b(chunk, digest_size=4).digest()
    return int.from_bytes(digest, "little") % max(1, vocab_size - 1000) + 1000


def ids_text(ids: list[int]) -> str:
    """Token ids as text of exactly 4 characters per token (base 36), so the prefix cache's
    blocks of 16 tokens are 64 characters, as for a text prompt."""
    return "".join(_base36(i).rjust(4, "0")[-4:] for i in ids)


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def chat_text(roles: list[str], contents: list[str]) -> str:
    """Chat messages as one templated prompt (a ChatML-like template: each message behind its
    role, then the assistant's header), so a conversation's next turn starts with the text of
    the turn before and its answer, as a real chat template renders it."""
    body = "".join(f"<|{r}|>\n{c}\n" for r, c in zip(roles, contents, strict=True))
    return body + "<|assistant|>\n"


def split_tokens(text: str) -> list[str]:
    """Cut fixed text (a golden answer) into token-sized pieces: words, then 4-char chunks."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch.isspace() or not (ch.isalnum() or ch == "_"):
            if word:
                out.append(word)
            word = ch if ch == " " else ""
            if ch != " ":
                out.append(ch)
        else:
            word += ch
            if len(word.strip()) >= 4:
                out.append(word)
                word = ""
    if word:
        out.append(word)
    return [t for t in out if t] or [text]


def stable_hash(*parts: object) -> int:
    """Same value in every process (Python's str hash is salted; tuples of ints are not)."""
    h = 1469598103934665603
    for p in parts:
        for b in str(p).encode():
            h = ((h ^ b) * 1099511628211) & _MASK
        h = ((h ^ 0xFF) * 1099511628211) & _MASK
    return h


def prompt_key(text: str) -> int:
    """The generation state a prompt starts from: a stable 61-bit hash at C speed (long prompts)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _MASK


def block_keys(text: str, block_tokens: int) -> tuple[int, ...]:
    """One key per whole KV block of a prompt, each naming the block and everything before it
    (as vLLM's block hashes do): two prompts share their leading keys exactly as far as they
    share their leading blocks. A token is 4 characters here, as in ``count_prompt_tokens``."""
    data = text.encode("utf-8", "surrogatepass")
    step = 4 * block_tokens
    h = hashlib.blake2b(digest_size=8)
    keys = []
    for i in range(0, len(data) - step + 1, step):
        h.update(data[i : i + step])
        keys.append(int.from_bytes(h.copy().digest(), "little") & _MASK)
    return tuple(keys)


def _u(h: int) -> float:
    return (h & 0xFFFFFFFF) / 4294967296.0


def _gauss(h: int) -> float:
    u1 = max(_u(h), 1e-12)
    u2 = _u(h >> 32)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)


@dataclass(frozen=True, slots=True)
class Choice:
    """One generated token with its logprob and the top-k alternatives (for logprobs output)."""

    text: str
    logprob: float
    top: tuple[tuple[str, float], ...]


def _candidates(state: int, pos: int) -> tuple[list[int], list[float]]:
    """The baseline distribution at one position: TOP_K vocabulary ids and their logits."""
    h = hash((state, pos)) & _MASK
    n = len(VOCAB)
    ids: list[int] = []
    logits: list[float] = []
    for k in range(TOP_K):
        hk = hash((h, k)) & _MASK
        idx = hk % n
        while idx in ids:
            idx = (idx + 1) % n
        ids.append(idx)
        # _u(hk >> 8), inlined: this runs once per generated token
        logits.append(-(k * (0.6 + 2.0 * (((hk >> 8) & 0xFFFFFFFF) / 4294967296.0))) if k else 0.0)
    return ids, logits


def _log_softmax(logits: list[float], rest: float = -2.5) -> list[float]:
    m = max(logits)
    z = m + math.log(sum(math.exp(x - m) for x in logits) + math.exp(rest - m))
    return [x - z for x in logits]


class TokenStream:
    """Generates one request's tokens; ``noise`` perturbs the logits deterministically."""

    def __init__(
        self,
        prompt_state: int,
        noise: float = 0.0,
        noise_seed: int = 0,
        temperature: float = 0.0,
        rng: random.Random | None = None,
        want_top: bool = False,
    ) -> None:
        self.state = prompt_state
        self.noise = noise
        self.noise_seed = noise_seed
        self.temperature = temperature
        self.rng = rng
        self.want_top = want_top
        self.pos = 0

    def _logits(self) -> tuple[list[int], list[float]]:
        ids, logits = _candidates(self.state, self.pos)
        if self.noise > 0:
            h = hash((self.noise_seed, self.state, self.pos)) & _MASK
            noise, log, sqrt, cos, tau = self.noise, math.log, math.sqrt, math.cos, 2 * math.pi
            out = []
            for k, x in enumerate(logits):  # x + noise * _gauss(...), inlined (hot path)
                hk = hash((h, k)) & _MASK
                u1 = max((hk & 0xFFFFFFFF) / 4294967296.0, 1e-12)
                u2 = ((hk >> 32) & 0xFFFFFFFF) / 4294967296.0
                out.append(x + noise * (sqrt(-2.0 * log(u1)) * cos(tau * u2)))
            logits = out
        return ids, logits

    def _logprobs(self) -> tuple[list[int], list[float]]:
        ids, logits = self._logits()
        return ids, _log_softmax(logits)

    def _pick(self, ids: list[int], logits: list[float]) -> int:
        """Index into ``ids``: argmax at temperature 0, else sampled from softmax(logits / T).

        Sampling draws one ``rng.random()`` over cumulative weights, as ``random.choices`` does.
        """
        if self.temperature <= 0 or self.rng is None:
            if self.noise <= 0:
                return 0  # the top candidate has logit 0, every other one is negative
            return max(range(len(logits)), key=logits.__getitem__)
        t = self.temperature
        weights = [math.exp(x / t) for x in logits]
        r = self.rng.random() * sum(weights)
        acc = 0.0
        for k, w in enumerate(weights):
            acc += w
            if r < acc:
                return k
        return len(weights) - 1

    def next_text(self) -> str:
        """The next token's text only (no logprobs asked for): the same choice as :meth:`next`.

        The streaming hot path: no log-softmax, and greedy decoding without noise needs only
        the top candidate's id.
        """
        if self.want_top:
            return self.next().text
        if self.noise <= 0 and (self.temperature <= 0 or self.rng is None):
            h = hash((self.state, self.pos)) & _MASK
            idx = (hash((h, 0)) & _MASK) % len(VOCAB)
        else:
            ids, logits = self._logits()
            idx = ids[self._pick(ids, logits)]
        self.state = hash((self.state, idx)) & _MASK
        self.pos += 1
        return VOCAB[idx]

    def next(self) -> Choice:
        """The next token: argmax at temperature 0, else sampled (seeded rng when given)."""
        ids, logits = self._logits()
        k = self._pick(ids, logits)
        lps = _log_softmax(logits)
        return self._emit(ids[k], lps[k], ids, lps)

    def forced(self, text: str) -> Choice:
        """A token fixed in advance (golden answers), with logprobs around it."""
        ids, lps = self._logprobs()
        lp = max(lps)
        best = max(range(len(lps)), key=lps.__getitem__)
        top = [(VOCAB[i], p) for i, p in zip(ids, lps, strict=True)]
        top[best] = (text, lp)
        self.state = hash((self.state, stable_hash(text))) & _MASK
        self.pos += 1
        return Choice(text, lp, tuple(top) if self.want_top else ())

    def _emit(self, idx: int, lp: float, ids: list[int], lps: list[float]) -> Choice:
        self.state = hash((self.state, idx)) & _MASK
        self.pos += 1
        top = tuple((VOCAB[i], p) for i, p in zip(ids, lps, strict=True)) if self.want_top else ()
        return Choice(VOCAB[idx], lp, top)


def natural_length(prompt_state: int, lo: int = 16, hi: int = 400) -> int:
    """Where the text would end (EOS) without ignore_eos; the same for every endpoint."""
    return lo + (hash((prompt_state, 7919)) & _MASK) % (hi - lo)
