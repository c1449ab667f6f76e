"""The baseline's own disagreement (pure): the noise floor that flips and KL are read against.

The baseline answers the golden set twice (the second pass under the same load as the others,
recorded under ``again_name(baseline)``). Under greedy decoding vLLM's batch-dependent numerics
flip some outputs even at the same precision, so an endpoint is only "different" from the
baseline by what its flip rate exceeds the baseline's self-flip rate. Rule: a flip rate at or
below the upper end of the self-flip rate's 95 % Wilson interval is within the noise floor (not a
regression); above it, the excess over the self-flip rate is what the precision changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qtui.evidence.records import QualityRecord
from qtui.quality.agreement import Agreement, PairCache, agreement
from qtui.quality.scores import wilson_interval

AGAIN = "~again"


def again_name(baseline: str) -> str:
    """The endpoint name the baseline's second pass is recorded under."""
    return baseline + AGAIN


@dataclass(frozen=True)
class NoiseFloor:
    """How often the baseline disagrees with itself: flips and KL of its second pass."""

    baseline: str
    self_agreement: Agreement

    @property
    def self_flip_rate(self) -> float | None:
        return self.self_agreement.flip_rate

    @property
    def self_kl(self) -> float | None:
        return self.self_agreement.mean_kl

    @property
    def flip_upper(self) -> float | None:
        """Upper end of the self-flip rate's 95 % Wilson interval."""
        a = self.self_agreement
        ci = wilson_interval(a.pairs - a.exact_matches, a.pairs)
        return None if ci is None else ci[1]


def noise_floor(
    baseline: str, records: Sequence[QualityRecord], cache: PairCache | None = None
) -> NoiseFloor | None:
    """The baseline's second pass against its first; None when it was not asked twice."""
    again = again_name(baseline)
    if not any(r.endpoint == again for r in records):
        return None
    return NoiseFloor(baseline, agreement(again, baseline, records, cache))


@dataclass(frozen=True)
class Beyond:
    """An endpoint's flips read against the noise floor."""

    flip_rate: float | None
    self_flip_rate: float | None
    excess: float | None  # flip rate minus the self-flip rate, never below 0
    within_noise: bool | None  # None when either side is unmeasured
    text: str


WITHIN = "within the noise floor"
BEYOND = "beyond the noise floor"
UNKNOWN = "noise floor unknown"


def noise_words(within: bool | None, excess: float | None = None) -> str:
    """The verdict words on flips every view shows: within / N % beyond the noise floor."""
    if within is None:
        return UNKNOWN
    return WITHIN if within else f"{excess or 0.0:.1%} {BEYOND}"


def _kl(a: Agreement, floor: NoiseFloor | None) -> str:
    """KL vs the baseline next to the baseline's own (nats per token), where logprobs exist."""
    if a.mean_kl is None:
        return ""
    own = ""
    if floor is not None and floor.self_kl is not None:
        own = f" ({a.baseline} vs itself {floor.self_kl:.4f})"
    return f"; KL {a.mean_kl:.4f} nats/token{own}"


def beyond_noise(a: Agreement, floor: NoiseFloor | None) -> Beyond:
    """Flips vs the baseline, next to the baseline's own, in one line every view shows."""
    fr = a.flip_rate
    if fr is None:
        return Beyond(None, None, None, None, "flips: no items both answered")
    if floor is None or floor.self_flip_rate is None or floor.flip_upper is None:
        return Beyond(fr, None, None, None,
                      f"flips {fr:.1%} vs {a.baseline} (its own flips not measured: "
                      f"{UNKNOWN}){_kl(a, floor)}")  # fmt: skip
    sf, up = floor.self_flip_rate, floor.flip_upper
    excess = max(0.0, fr - sf)
    within = fr <= up
    said = noise_words(within, excess)
    return Beyond(fr, sf, excess, within,
                  f"flips {fr:.1%} vs {a.baseline}, {a.baseline} vs itself {sf:.1%} "
                  f"(95% up to {up:.1%}): {said}{_kl(a, floor)}")  # fmt: skip


def floor_line(floor: NoiseFloor | None, baseline: str) -> str:
    """The noise floor itself, as every view states it (or that it was not measured)."""
    if floor is None:
        return (f"noise floor: not measured ({baseline} answered the golden set once; "
                "Q in the app and qtui bench --quality ask it twice)")  # fmt: skip
    a = floor.self_agreement
    if floor.self_flip_rate is None or floor.flip_upper is None:
        return f"noise floor: {baseline} vs itself: no items both passes answered"
    kl = "" if floor.self_kl is None else f", KL {floor.self_kl:.4f} nats/token"
    return (f"noise floor: {baseline} vs itself {floor.self_flip_rate:.1%} flips "
            f"(95% up to {floor.flip_upper:.1%}) on {a.pairs} items{kl}")  # fmt: skip
