"""Quality gates: golden sets, checkers, scores, agreement with the baseline, go/no-go, runner."""

from qtui.evidence.records import QualityRecord, Reason
from qtui.quality.agreement import Agreement, agreement, first_divergence, topk_kl
from qtui.quality.checkers import evaluate, judge
from qtui.quality.floor import Verdict, verdict
from qtui.quality.golden import GoldenItem, load_golden, parse_golden, resolve_golden_path
from qtui.quality.runner import QualityTarget, run_quality
from qtui.quality.scores import (
    EndpointScore,
    Paired,
    Rate,
    compare,
    mcnemar_exact,
    score_endpoint,
    wilson_interval,
)
from qtui.quality.summary import EndpointQuality, QualitySummary, summarize

__all__ = [
    "Agreement",
    "EndpointQuality",
    "EndpointScore",
    "GoldenItem",
    "Paired",
    "QualityRecord",
    "QualitySummary",
    "QualityTarget",
    "Rate",
    "Reason",
    "Verdict",
    "agreement",
    "compare",
    "evaluate",
    "first_divergence",
    "judge",
    "load_golden",
    "mcnemar_exact",
    "parse_golden",
    "resolve_golden_path",
    "run_quality",
    "score_endpoint",
    "summarize",
    "topk_kl",
    "verdict",
    "wilson_interval",
]
