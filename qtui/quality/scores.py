"""Quality scores per endpoint: success with a Wilson 95% interval, paired McNemar vs baseline.

Pure functions over `QualityRecord`s; formulas in docs/golden-set.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qtui.evidence.records import QualityRecord

Z95 = 1.959963984540054  # two-sided 95% normal quantile
Z80 = 0.8416212335729143  # one-sided 80% normal quantile (power 80%)
MAX_ITEMS = 1_000_000  # items_needed beyond this: "no practical number of items decides it"


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes out of n (None when n == 0)."""
    if n <= 0:
        return None
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must be within 0..n={n}")
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value: binomial(b + c, 1/2) on the discordant pairs."""
    if b < 0 or c < 0:
        raise ValueError("discordant counts must be non-negative")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_drop_interval(
    both: int, only_first: int, only_second: int, neither: int, z: float = Z95
) -> tuple[float, float] | None:
    """95% interval of p1 − p2 for paired binary outcomes: Newcombe's hybrid score interval for
    paired data (Newcombe 1998, method 10; Altman et al., Statistics with Confidence, 2000, p.
    52). p1 = (both + only_first)/n, p2 = (both + only_second)/n; None when n == 0."""
    a, b, c, d = both, only_first, only_second, neither
    n = a + b + c + d
    if n <= 0:
        return None
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, z) or (0.0, 1.0)
    l2, u2 = wilson_interval(a + c, n, z) or (0.0, 1.0)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    ad_bc = a * d - b * c
    corrected = ad_bc - n / 2 if ad_bc > n / 2 else ad_bc if ad_bc < 0 else 0.0
    phi = corrected / math.sqrt(margins) if margins else 0.0
    diff = p1 - p2
    low = diff - math.sqrt(
        max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    )
    high = diff + math.sqrt(
        max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    )
    return max(-1.0, low), min(1.0, high)


def items_needed(variance: float, gap: float, z: float = Z95, power_z: float = Z80) -> int | None:
    """Items for a 95% interval to clear a limit ``gap`` away from the estimate with 80% power:
    n = (z₀.₉₇₅ + z₀.₈)² · variance / gap², variance being that of one item (normal
    approximation). None when the estimate sits on the limit (no number of items decides)."""
    if abs(gap) < 1e-9:
        return None
    n = math.ceil((z + power_z) ** 2 * max(variance, 0.0) / gap**2 - 1e-9)
    return n if n <= MAX_ITEMS else None


def paired_items_needed(only_first: int, only_second: int, pairs: int, limit: float) -> int | None:
    """Paired items that would decide whether the drop p1 − p2 is within ``limit``, if the true
    discordance and drop are the observed ones: variance per pair ψ − δ², ψ the discordant share
    (at least 1/pairs, so that no discordance yet still needs items), δ the drop."""
    if pairs <= 0:
        return None
    drop = (only_first - only_second) / pairs
    psi = max((only_first + only_second) / pairs, 1 / pairs)
    return items_needed(psi - drop * drop, limit - drop)


@dataclass(frozen=True)
class Rate:
    """k out of n, with its Wilson 95% interval."""

    k: int
    n: int

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.k, self.n)


@dataclass(frozen=True)
class EndpointScore:
    """Everything the quality panel shows for one endpoint."""

    endpoint: str
    items: int
    success: Rate  # passed / answered (items that got a response)
    errors: int  # items with no response after retries (excluded from success)
    reasons: dict[str, int]
    schema_failure: Rate  # schema failures / answered json_schema items
    retries: int  # total transport retries
    retry_rate: Rate  # items that needed ≥1 retry / items
    by_tag: dict[str, Rate]

    @property
    def answered(self) -> int:
        return self.success.n


def score_endpoint(endpoint: str, records: Iterable[QualityRecord]) -> EndpointScore:
    """Aggregate one endpoint's records."""
    recs = [r for r in records if r.endpoint == endpoint]
    answered = [r for r in recs if r.answered]
    schema_items = [r for r in answered if r.check == "json_schema"]
    tag_pass: Counter[str] = Counter()
    tag_n: Counter[str] = Counter()
    for r in answered:
        for tag in r.tags:
            tag_n[tag] += 1
            tag_pass[tag] += r.passed
    return EndpointScore(
        endpoint=endpoint,
        items=len(recs),
        success=Rate(sum(r.passed for r in answered), len(answered)),
        errors=len(recs) - len(answered),
        reasons=dict(Counter(r.reason for r in recs)),
        schema_failure=Rate(
            sum(r.reason == "schema_failure" for r in schema_items), len(schema_items)
        ),
        retries=sum(r.retries for r in recs),
        retry_rate=Rate(sum(r.retries > 0 for r in recs), len(recs)),
        by_tag={t: Rate(tag_pass[t], tag_n[t]) for t in sorted(tag_n)},
    )


@dataclass(frozen=True)
class Paired:
    """An endpoint against the baseline on the items both answered."""

    endpoint: str
    baseline: str
    pairs: int
    both_pass: int
    only_baseline: int  # b: baseline passed, endpoint failed
    only_endpoint: int  # c: endpoint passed, baseline failed
    delta: float | None  # endpoint success − baseline success (fraction; −0.02 = 2 points worse)
    p_value: float

    @property
    def significant(self) -> bool:
        """The difference is unlikely to be chance at this sample size (p < 0.05)."""
        return self.p_value < 0.05

    @property
    def neither(self) -> int:
        return self.pairs - self.both_pass - self.only_baseline - self.only_endpoint

    @property
    def drop(self) -> float | None:
        """Baseline success − endpoint success on the paired items (0.02: 2 points worse)."""
        return None if self.pairs == 0 else (self.only_baseline - self.only_endpoint) / self.pairs

    @property
    def drop_ci(self) -> tuple[float, float] | None:
        """The drop's 95% interval (``paired_drop_interval``)."""
        return paired_drop_interval(
            self.both_pass, self.only_baseline, self.only_endpoint, self.neither
        )


def compare(endpoint: str, baseline: str, records: Sequence[QualityRecord]) -> Paired:
    """Paired comparison on the items both answered, with an exact McNemar test."""
    base = {r.item_id: r for r in records if r.endpoint == baseline and r.answered}
    mine = {r.item_id: r for r in records if r.endpoint == endpoint and r.answered}
    common = [i for i in base if i in mine]
    both = sum(base[i].passed and mine[i].passed for i in common)
    b = sum(base[i].passed and not mine[i].passed for i in common)
    c = sum(mine[i].passed and not base[i].passed for i in common)
    s_mine = score_endpoint(endpoint, records).success.value
    s_base = score_endpoint(baseline, records).success.value
    delta = None if s_mine is None or s_base is None else s_mine - s_base
    return Paired(endpoint, baseline, len(common), both, b, c, delta, mcnemar_exact(b, c))
