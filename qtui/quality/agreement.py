"""Reference-free agreement with the baseline: flips, first divergent token, top-k KL.

Needs no labels: it compares the greedy outputs and logprobs two endpoints returned for the same
prompts, which catches drift that accuracy averages hide. Formulas in docs/golden-set.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from qtui.evidence.records import QualityRecord

PROB_FLOOR = 1e-6  # smallest probability given to a token outside a server's top-k


def first_divergence(a: Sequence[str], b: Sequence[str]) -> int | None:
    """0-based index of the first differing token; a strict prefix diverges at its end."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def _complete(top: dict[str, float], union: set[str]) -> dict[str, float]:
    """Top-k logprobs → a distribution over `union`; missing tokens share the unseen mass."""
    probs = {t: math.exp(lp) for t, lp in top.items()}
    rest = max(0.0, 1.0 - sum(probs.values()))
    smallest = min(probs.values(), default=PROB_FLOOR)
    floor = max(min(rest, smallest), PROB_FLOOR)
    full = {t: max(probs.get(t, floor), PROB_FLOOR) for t in union}
    total = sum(full.values())
    return {t: p / total for t, p in full.items()}


def topk_kl(p_top: dict[str, float], q_top: dict[str, float]) -> float:
    """Approximate KL(P‖Q) in nats from two top-k logprob dicts (P = baseline)."""
    union = set(p_top) | set(q_top)
    if not union:
        return 0.0
    p = _complete(p_top, union)
    q = _complete(q_top, union)
    return max(0.0, sum(pt * math.log(pt / q[t]) for t, pt in p.items()))


@dataclass(frozen=True)
class Agreement:
    """How closely an endpoint's greedy outputs follow the baseline's."""

    endpoint: str
    baseline: str
    pairs: int  # items both answered
    exact_matches: int  # identical output text
    diverged: int  # pairs whose token lists differ (with tokens on both sides)
    mean_first_divergence: float | None  # mean 0-based token index over diverged pairs
    kl_positions: int  # token positions compared for KL
    mean_kl: float | None  # nats per position

    @property
    def match_rate(self) -> float | None:
        return self.exact_matches / self.pairs if self.pairs else None

    @property
    def flip_rate(self) -> float | None:
        rate = self.match_rate
        return None if rate is None else 1.0 - rate


PairCache = dict[tuple[int, int], tuple[bool, int | None, float, int]]
"""Per pair of records (by identity): match, first divergence, KL sum, KL positions. A caller
that keeps its records alive (the evidence) passes one, so a growing run's agreement costs only
its new pairs."""


def _pair(a: QualityRecord, b: QualityRecord) -> tuple[bool, int | None, float, int]:
    match = a.output_text == b.output_text
    if not a.tokens or not b.tokens:
        return match, None, 0.0, 0
    d = first_divergence(a.tokens, b.tokens)
    # the contexts are identical up to and including position d; later positions differ
    last = min(len(a.top_logprobs), len(b.top_logprobs)) - 1
    if d is not None:
        last = min(last, d)
    kl_sum, kl_n = 0.0, 0
    for pos in range(last + 1):
        pa, pb = a.top_logprobs[pos], b.top_logprobs[pos]
        if pa and pb:
            kl_sum += topk_kl(pa, pb)
            kl_n += 1
    return match, d, kl_sum, kl_n


def agreement(
    endpoint: str,
    baseline: str,
    records: Sequence[QualityRecord],
    cache: PairCache | None = None,
) -> Agreement:
    """Compare `endpoint` with `baseline` on every item both answered."""
    base = {r.item_id: r for r in records if r.endpoint == baseline and r.answered}
    mine = {r.item_id: r for r in records if r.endpoint == endpoint and r.answered}
    common = [i for i in base if i in mine]
    matches = 0
    divergences: list[int] = []
    kl_sum = 0.0
    kl_n = 0
    for item_id in common:
        a, b = base[item_id], mine[item_id]
        key = (id(a), id(b))
        if cache is None:
            got = _pair(a, b)
        elif key in cache:
            got = cache[key]
        else:
            got = cache[key] = _pair(a, b)
        match, d, s, n = got
        matches += match
        if d is not None:
            divergences.append(d)
        kl_sum += s
        kl_n += n
    return Agreement(
        endpoint=endpoint,
        baseline=baseline,
        pairs=len(common),
        exact_matches=matches,
        diverged=len(divergences),
        mean_first_divergence=sum(divergences) / len(divergences) if divergences else None,
        kl_positions=kl_n,
        mean_kl=kl_sum / kl_n if kl_n else None,
    )
