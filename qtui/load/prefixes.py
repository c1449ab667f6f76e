"""Shared prompt text: a pool of K system prefixes, and Mooncake's hash-id blocks (pure).

A prefix or a block is a fixed run of common words (one token each in the usual tokenizers),
drawn from a generator seeded by the workload seed and its id, so every request, endpoint and
process that names the same prefix or hash id sends byte-identical text, and a server with
prefix caching can reuse it. Suffixes are unique per request, so only the shared part hits.
"""

from __future__ import annotations

import numpy as np

from qtui.load.tokens import TokenPool, WordPool
from qtui.load.words import WORDS

_PREFIX, _BLOCK = 1, 2  # seed domains: prefix k and hash id k are different texts


def words(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` random common words."""
    return [WORDS[i] for i in rng.choice(len(WORDS), size=max(0, n))]


class SharedText:
    """Prefixes and blocks by id, each built once and cached (the same text every time)."""

    def __init__(
        self, seed: int, block_size: int = 512, pool: TokenPool | WordPool | None = None
    ) -> None:
        self.seed, self.block_size = seed, block_size
        self.pool = pool if not isinstance(pool, WordPool) else None
        self.words = pool if isinstance(pool, WordPool) else None
        self._prefix_words: dict[tuple[int, int], str] = {}
        self._prefixes: dict[tuple[int, int], str] = {}
        self._blocks: dict[int, list[str]] = {}
        self._prefix_ids: dict[tuple[int, int], tuple[int, ...]] = {}
        self._block_ids: dict[int, tuple[int, ...]] = {}

    def prefix_words(self, k: int, tokens: int) -> str:
        """Shared prefix ``k`` as exactly ``tokens`` one-token words (needs the word pool)."""
        assert self.words is not None
        key = (k, tokens)
        got = self._prefix_words.get(key)
        if got is None:
            got = self.words.text(np.random.default_rng([self.seed, _PREFIX, k]), tokens)
            self._prefix_words[key] = got
        return got

    def prefix_ids(self, k: int, tokens: int) -> tuple[int, ...]:
        """Shared prefix ``k`` as exactly ``tokens`` token ids (needs the pool)."""
        assert self.pool is not None
        key = (k, tokens)
        got = self._prefix_ids.get(key)
        if got is None:
            got = self.pool.sample(np.random.default_rng([self.seed, _PREFIX, k]), tokens)
            self._prefix_ids[key] = got
        return got

    def block_ids(self, hash_id: int) -> tuple[int, ...]:
        """Hash id ``hash_id``'s block as ``block_size`` token ids (needs the pool)."""
        assert self.pool is not None
        got = self._block_ids.get(hash_id)
        if got is None:
            rng = np.random.default_rng([self.seed, _BLOCK, hash_id])
            got = self.pool.sample(rng, self.block_size)
            self._block_ids[hash_id] = got
        return got

    def ids_from_blocks(
        self, hash_ids: tuple[int, ...], input_tokens: int, rng: np.random.Generator
    ) -> tuple[int, ...]:
        """`from_blocks` in token ids: exactly ``input_tokens`` of them."""
        assert self.pool is not None
        out: list[int] = []
        for h in hash_ids:
            if len(out) >= input_tokens:
                break
            out.extend(self.block_ids(h)[: input_tokens - len(out)])
        out.extend(self.pool.sample(rng, input_tokens - len(out)))
        return tuple(out)

    def prefix(self, k: int, tokens: int) -> str:
        """Shared system prefix ``k`` of ``tokens`` words."""
        key = (k, tokens)
        text = self._prefixes.get(key)
        if text is None:
            rng = np.random.default_rng([self.seed, _PREFIX, k])
            text = f"System {k}: " + " ".join(words(rng, max(0, tokens - 2)))
            self._prefixes[key] = text
        return text

    def block(self, hash_id: int) -> list[str]:
        """The ``block_size`` words of hash id ``hash_id`` (Mooncake: one KV block each)."""
        got = self._blocks.get(hash_id)
        if got is None:
            rng = np.random.default_rng([self.seed, _BLOCK, hash_id])
            got = words(rng, self.block_size)
            self._blocks[hash_id] = got
        return got

    def from_blocks(
        self, hash_ids: tuple[int, ...], input_tokens: int, rng: np.random.Generator
    ) -> str:
        """``input_tokens`` words: the hash ids' blocks in order, the last one cut to fit (as
        Mooncake, AIPerf and vLLM's readers do); unique words pad a trace that lists too few."""
        out: list[str] = []
        for h in hash_ids:
            if len(out) >= input_tokens:
                break
            out.extend(self.block(h)[: input_tokens - len(out)])
        out.extend(words(rng, input_tokens - len(out)))
        return " ".join(out)


def with_prefix(shared: SharedText, k: int, prefix_tokens: int, suffix: str) -> str:
    """Prefix ``k`` then the unique suffix."""
    return f"{shared.prefix(k, prefix_tokens)}\n{suffix}"
