"""Prompts to send: synthetic with length distributions (optionally behind shared prefixes), a
JSONL file, a golden-set hook; trace replay is `qtui/load/trace.py`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from qtui.client.stream import Prompt
from qtui.config.profile import LengthDist, Workload
from qtui.errors import ConfigError
from qtui.load.prefixes import SharedText, with_prefix
from qtui.load.tokens import TokenPool, WordPool
from qtui.load.words import WORDS

if TYPE_CHECKING:
    from qtui.load.conversation import Conversation, ConversationSource

_WORDS = WORDS
_WORDS_STREAM = 0x57  # keeps the words' random stream apart from the lengths' one


class PromptSource(Protocol):
    """Anything the engine can ask for the next prompt."""

    def next(self) -> Prompt: ...


def sample_lengths(d: LengthDist, rng: np.random.Generator, n: int) -> np.ndarray:
    """n integer lengths ≥ 1 from a fixed / uniform (± spread·mean) / normal (σ = spread) law."""
    if d.dist == "fixed" or d.spread == 0:
        out = np.full(n, float(d.mean))
    elif d.dist == "uniform":
        lo, hi = d.mean * (1 - d.spread), d.mean * (1 + d.spread)
        out = rng.uniform(lo, hi, n)
    else:
        out = rng.normal(d.mean, d.spread, n)
    return np.maximum(1, np.rint(out)).astype(int)


def sample_length(d: LengthDist, rng: np.random.Generator) -> int:
    """One length, as ``sample_lengths(d, rng, 1)[0]`` (the same draws), without numpy arrays
    for a fixed length (once per request: numpy's per-call cost is most of it)."""
    if d.dist == "fixed" or d.spread == 0:
        return max(1, d.mean)
    return int(sample_lengths(d, rng, 1)[0])


class SyntheticWorkload:
    """Random-word prompts of sampled token lengths; outputs fixed (ignore_eos, + min_tokens).

    With ``prefix_count`` K > 0 each prompt is one of K shared prefixes of ``prefix_tokens``
    tokens (picked at random) followed by a unique suffix of the sampled input length, so
    prefix caching matters (as vLLM's prefix_repetition and GuideLLM's prefix_tokens)."""

    def __init__(
        self,
        w: Workload,
        max_model_len: int | None = None,
        salt: int = 0,
        shard: int = 0,
        pool: TokenPool | WordPool | None = None,
        run: int = 0,
    ) -> None:
        self.w = w
        # a load worker process (shard > 0) draws its own prompts; shard 0 is the one-process run
        self.rng = np.random.default_rng([w.seed, salt, shard] if shard else [w.seed, salt])
        self.words_rng = np.random.default_rng([w.seed, salt, shard, run, _WORDS_STREAM])
        self.max_len = max_model_len
        self.n = 0
        self.pool = pool  # token ids (exact lengths, server /tokenize), or None: text
        self.prefixes = SharedText(w.seed, pool=pool)

    def next(self, shared_prefix: bool = True) -> Prompt:
        """The next prompt (``shared_prefix = False``: without one, a conversation's later turn)."""
        n_in = sample_length(self.w.input_tokens, self.rng)
        n_out = sample_length(self.w.output_tokens, self.rng)
        shared = self.w.prefix_tokens if self.w.prefix_count > 0 and shared_prefix else 0
        if self.max_len:
            n_out = min(n_out, max(1, self.max_len // 2))
            n_in = min(n_in, max(1, self.max_len - n_out - 8 - shared))
        self.n += 1
        if isinstance(self.pool, WordPool):  # chat: n one-token words are n tokens exactly
            text = self.pool.text(self.words_rng, n_in)
            if shared:
                k = int(self.rng.integers(self.w.prefix_count))
                text = self.prefixes.prefix_words(k, shared) + text
            return Prompt(text, n_out, shared + n_in, fixed_output=True)
        if self.pool is not None:  # exact: random token ids (unique), behind the shared ones
            ids = self.pool.sample(self.words_rng, n_in)
            if shared:
                k = int(self.rng.integers(self.w.prefix_count))
                ids = self.prefixes.prefix_ids(k, shared) + ids
            return Prompt("", n_out, shared + n_in, fixed_output=True, token_ids=ids)
        # a distinct head per request keeps prefix caching from flattering the numbers
        words = self.words_rng.choice(len(_WORDS), size=max(0, n_in - 2))
        text = f"{self.n} " + " ".join(map(_WORDS.__getitem__, words.tolist()))
        if shared:  # one of K shared prefixes (the same K for every endpoint), then the suffix
            k = int(self.rng.integers(self.w.prefix_count))
            text = with_prefix(self.prefixes, k, shared, text)
        # the sampled output length is made exact (ignore_eos + min_tokens), whatever the law
        return Prompt(text, n_out, shared + n_in, fixed_output=True)


class JsonlWorkload:
    """Prompts from a JSONL file: one {"prompt": str, "max_tokens": int?} per line, cycled."""

    def __init__(self, path: Path, w: Workload) -> None:
        self.items: list[Prompt] = []
        default_out = w.output_tokens.mean
        try:
            lines = path.read_text("utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read prompts file ({exc.strerror})") from None
        for i, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                text = obj["prompt"]
                if not isinstance(text, str):
                    raise TypeError
                max_tokens = int(obj.get("max_tokens", default_out))
            except (ValueError, KeyError, TypeError):
                raise ConfigError(
                    f'{path}:{i}: expected {{"prompt": "...", "max_tokens": N}} (max_tokens opt.)'
                ) from None
            self.items.append(Prompt(text, max_tokens, len(text) // 4, fixed_output=False))
        if not self.items:
            raise ConfigError(f"{path}: no prompts in file")
        self.i = 0

    def next(self) -> Prompt:
        p = self.items[self.i % len(self.items)]
        self.i += 1
        return p


class Strided:
    """Items shard, shard + K, shard + 2K, … of a cycled source: K load processes sharing one
    prompt list send it in the order one process would, each taking every K-th prompt."""

    def __init__(self, source: PromptSource, shard: int, shards: int) -> None:
        self.source, self.shard, self.shards = source, shard, shards
        self.started = False

    def next(self) -> Prompt:
        skip = self.shards - 1 if self.started else self.shard
        self.started = True
        for _ in range(skip):
            self.source.next()
        return self.source.next()


class StridedConversations:
    """Conversations shard, shard + K, … of a cycled file (as `Strided` does prompts)."""

    def __init__(self, source: ConversationSource, shard: int, shards: int) -> None:
        self.source, self.shard, self.shards = source, shard, shards
        self.mean_turns = source.mean_turns
        self.started = False

    def next(self) -> Conversation:
        skip = self.shards - 1 if self.started else self.shard
        self.started = True
        for _ in range(skip):
            self.source.next()
        return self.source.next()


def think(w: Workload) -> tuple[float, bool]:
    """A sender's think time between turns: (seconds, exponential rather than fixed)."""
    return w.think_time_s, w.think_dist == "exponential"


# the quality engineer plugs the golden-set source in here: (workload, base_dir) -> PromptSource
GoldenFactory = Callable[[Workload, Path], PromptSource]


def make_source(
    w: Workload,
    base_dir: Path,
    max_model_len: int | None = None,
    salt: int = 0,
    golden: GoldenFactory | None = None,
    shard: int = 0,
    shards: int = 1,
    pool: TokenPool | WordPool | None = None,
    run: int = 0,
) -> PromptSource | ConversationSource:
    """The prompt source a profile's [workload] asks for (paths relative to the profile), or
    its conversations (multi-turn); ``shard`` of ``shards`` is one load worker process's part;
    ``run`` makes synthetic text unique to the run (`SyntheticWorkload`)."""
    if w.multi_turn:
        from qtui.load.conversation import FileConversations, SyntheticConversations

        if w.kind == "synthetic":
            return SyntheticConversations(w, max_model_len, salt, shard, pool, run)
        assert w.conversations_file is not None
        convs = FileConversations(base_dir / w.conversations_file, w, max_model_len)
        return StridedConversations(convs, shard, shards) if shards > 1 else convs
    if w.kind == "synthetic":
        return SyntheticWorkload(w, max_model_len, salt, shard, pool, run)
    if w.kind == "trace":  # untimed, in order (the engine replays a trace on its times)
        from qtui.load.trace import TraceOrder, load_trace

        trace = load_trace(w, base_dir)
        trace.check_limit(max_model_len, "this one")
        order = TraceOrder(trace, w, pool if isinstance(pool, TokenPool) else None)
        return Strided(order, shard, shards) if shards > 1 else order
    if w.kind == "jsonl":
        if not w.prompts_file:
            raise ConfigError('workload.kind = "jsonl" needs workload.prompts_file')
        source: PromptSource = JsonlWorkload(base_dir / w.prompts_file, w)
    else:
        if golden is None:
            from qtui.load.golden import golden_source

            golden = golden_source
        source = golden(w, base_dir)
    return Strided(source, shard, shards) if shards > 1 else source
