"""One call from records to everything the quality panel and the report show."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from qtui.config.profile import QualityFloor
from qtui.evidence.records import QualityRecord
from qtui.quality.agreement import Agreement, PairCache, agreement
from qtui.quality.floor import Verdict, verdict
from qtui.quality.noise import NoiseFloor, beyond_noise, floor_line, noise_floor, noise_words
from qtui.quality.scores import EndpointScore, Paired, compare, score_endpoint


@dataclass(frozen=True)
class EndpointQuality:
    score: EndpointScore
    verdict: Verdict
    paired: Paired | None = None  # None for the baseline itself
    agreement: Agreement | None = None


@dataclass(frozen=True)
class QualitySummary:
    baseline: str
    endpoints: list[EndpointQuality]
    noise: NoiseFloor | None = None  # the baseline asked twice; None when asked once
    by_tag: dict[str, dict[str, Verdict]] | None = None  # tag → endpoint → the same verdict rule

    def get(self, name: str) -> EndpointQuality:
        return next(e for e in self.endpoints if e.score.endpoint == name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (rates as fractions, intervals as [low, high]) for the session."""
        out: dict[str, Any] = {
            "kind": "quality_summary",
            "baseline": self.baseline,
            "endpoints": [],
            "noise_floor": None,
            "noise_floor_text": floor_line(self.noise, self.baseline),
        }
        if self.noise is not None:
            out["noise_floor"] = {
                "self_flip_rate": self.noise.self_flip_rate,
                "self_flip_upper95": self.noise.flip_upper,
                "self_kl": self.noise.self_kl,
                "pairs": self.noise.self_agreement.pairs,
                "text": floor_line(self.noise, self.baseline),
            }
        for e in self.endpoints:
            s = e.score
            row: dict[str, Any] = {
                "endpoint": s.endpoint,
                "items": s.items,
                "answered": s.answered,
                "passed": s.success.k,
                "success": s.success.value,
                "success_ci95": s.success.interval,
                "errors": s.errors,
                "reasons": s.reasons,
                "schema_failure_rate": s.schema_failure.value,
                "schema_items": s.schema_failure.n,
                "retries": s.retries,
                "retry_rate": s.retry_rate.value,
                "by_tag": {t: {"passed": r.k, "n": r.n} for t, r in s.by_tag.items()},
                "by_tag_verdict": {
                    t: {"verdict": v.status, "verdict_words": v.words, "reason": v.reason}
                    for t, per in (self.by_tag or {}).items()
                    if (v := per.get(s.endpoint)) is not None
                },
                "verdict": e.verdict.status,
                "verdict_reason": e.verdict.reason,
                "verdict_words": e.verdict.words,
                "undecided": e.verdict.undecided,
                "items_needed": e.verdict.items_needed,
                "paired": asdict(e.paired) if e.paired else None,
                "drop_ci95": e.paired.drop_ci if e.paired else None,
                "agreement": None,
            }
            if e.agreement is not None:
                row["agreement"] = {
                    **asdict(e.agreement),
                    "match_rate": e.agreement.match_rate,
                    "flip_rate": e.agreement.flip_rate,
                }
                b = beyond_noise(e.agreement, self.noise)
                row["agreement"]["within_noise"] = b.within_noise
                row["agreement"]["flips_beyond_noise"] = b.excess
                row["agreement"]["noise_text"] = b.text
                row["agreement"]["noise_words"] = noise_words(b.within_noise, b.excess)
            out["endpoints"].append(row)
        return out


def summarize(
    records: Sequence[QualityRecord],
    endpoints: Sequence[str],
    baseline: str,
    floor: QualityFloor,
    cache: PairCache | None = None,
) -> QualitySummary:
    """Scores, paired test, agreement and verdict for every endpoint, baseline first-class.
    ``cache``: kept by a caller that judges a growing run again and again (the evidence)."""
    rows: list[EndpointQuality] = []
    for name in endpoints:
        score = score_endpoint(name, records)
        if name == baseline:
            rows.append(EndpointQuality(score, verdict(score, floor)))
            continue
        paired = compare(name, baseline, records)
        rows.append(
            EndpointQuality(
                score,
                verdict(score, floor, paired),
                paired,
                agreement(name, baseline, records, cache),
            )
        )
    return QualitySummary(
        baseline,
        rows,
        noise_floor(baseline, records, cache),
        tag_verdicts(records, endpoints, baseline, floor),
    )


def tag_verdicts(
    records: Sequence[QualityRecord],
    endpoints: Sequence[str],
    baseline: str,
    floor: QualityFloor,
) -> dict[str, dict[str, Verdict]]:
    """GO / NO-GO / NOT DECIDED per tag (task:…, risk:…): the same rule on that tag's items only,
    so a review can approve a precision for low-risk tasks and keep the baseline for the rest."""
    tags = sorted({t for r in records for t in r.tags})
    out: dict[str, dict[str, Verdict]] = {}
    for tag in tags:
        mine = [r for r in records if tag in r.tags]
        per: dict[str, Verdict] = {}
        for name in endpoints:
            score = score_endpoint(name, mine)
            paired = None if name == baseline else compare(name, baseline, mine)
            per[name] = verdict(score, floor, paired)
        out[tag] = per
    return out
