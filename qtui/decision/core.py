"""Price the evidence, judge every precision, recommend one (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from qtui.config.profile import Profile
from qtui.cost.compare import CostComparison, EndpointMeasure, FinanceRow, build_comparison
from qtui.cost.figure import PERCENT, USD_MONTH, Figure
from qtui.cost.formulas import reduction_pct
from qtui.cost.whatif import WhatIf
from qtui.decision.gpus import DOES_NOT_FIT, NOT_SUPPORTED, OnGpu, on_gpu
from qtui.evidence.accumulate import Evidence
from qtui.evidence.capacity import Capacity, capacity_text
from qtui.evidence.levels import LevelPoint
from qtui.quality.floor import NOT_MEASURED, words

Status = Literal["go", "no-go", "not-decided"]

NO_RECOMMENDATION = (
    "no precision met every SLO, the quality floor and has a price; keep the current one"
)


@dataclass(frozen=True, slots=True)
class Judgement:
    """One precision: its evidence, its finance row, and GO, NO-GO or NOT DECIDED with every
    reason (``go`` is True only for GO)."""

    name: str
    precision: str
    is_baseline: bool
    capacity: Capacity
    curve: tuple[LevelPoint, ...]
    error_rate: float | None
    cancelled: int
    quality: str | None  # the quality verdict's status ("go", "no-go", "not-decided")
    quality_reason: str
    finance: FinanceRow
    go: bool
    reasons: tuple[str, ...]
    status: Status = "no-go"
    undecided: str | None = None  # why NOT DECIDED: not measured, no floor set, not enough items
    noise: str = ""  # its flips (and KL) vs the baseline next to the baseline's own
    noise_words: str = ""  # within / N % beyond the noise floor / noise floor unknown
    by_tag: tuple[tuple[str, str, str], ...] = ()  # (tag, quality verdict words, reason) per tag
    on_gpu: OnGpu | None = None  # the GPU priced: measured or projected capacity, the fit check
    stopped: str = ""  # requests open at the stop (qtui.evidence.accounting.stop_text)
    silent_at_stop: int = 0  # of the cancelled: silent when stopped
    partial_tokens: int = 0  # streamed by requests that did not complete: never throughput

    @property
    def verdict(self) -> str:
        """GO, NO-GO or NOT DECIDED (its reason), as every view and the record say it."""
        return words(self.status, self.undecided)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Every precision judged, and the recommendation with the saving against the baseline."""

    judgements: tuple[Judgement, ...]
    comparison: CostComparison
    baseline: str
    recommended: str | None
    why: str
    savings: Figure
    reduction: Figure
    noise_floor: str = ""  # the baseline's self-flip rate and self-KL, or that it is unmeasured

    def get(self, name: str) -> Judgement:
        return next(j for j in self.judgements if j.name == name)


def judge(
    name: str,
    profile: Profile,
    cap: Capacity,
    error_rate: float | None,
    quality: Mapping[str, Any],
    fin: FinanceRow,
) -> tuple[Status, str | None, list[str]]:
    """The one go/no-go rule: latency SLO capacity, error rate, quality floor, a price, enough
    replicas. Returns (status, why not decided, reasons), one reason per criterion.

    A criterion that fails is NO-GO; otherwise a precision whose quality is not decided (not
    measured, no floor set, not enough items) is NOT DECIDED, never NO-GO. The baseline is what
    runs today: its quality blocks it only when NO-GO (an absolute floor surely broken)."""
    reasons: list[str] = []
    ok = True
    if cap.usable:
        reasons.append(f"meets every latency SLO: {capacity_text(cap)}")
    elif (cap.reason or "").startswith((DOES_NOT_FIT, NOT_SUPPORTED)):
        ok = False
        reasons.append(f"{cap.reason}: {cap.detail}")
    else:
        ok = False
        reasons.append(f"latency SLO: {cap.reason}" + (f" ({cap.detail})" if cap.detail else ""))
    limit = profile.slo.max_error_rate
    if error_rate is not None and error_rate > limit:
        ok = False
        reasons.append(f"error rate {error_rate:.2%} > {limit:.2%} (cancelled at stop excluded)")
    is_base = name == profile.baseline.name
    status = quality.get("verdict")
    undecided: str | None = None
    if status is None:
        undecided = "not measured"
        reasons.append(
            f"quality {words(None)}: {NOT_MEASURED}" + (" (baseline)" if is_base else "")
        )
    else:
        if status == "no-go":
            ok = False
        elif status != "go":
            undecided = str(quality.get("undecided") or "not enough items")
        reasons.append(f"quality {quality.get('verdict_reason') or words(status, undecided)}")
    if is_base:
        undecided = None
    if fin.monthly.value is None:
        ok = False
        reasons.append(f"monthly cost: {fin.monthly.reason}")
    if fin.sizing.status == "slo-breach":  # replicas set by hand, too few for the traffic
        ok = False
        reasons.append(f"replicas: {fin.sizing.text}")
    if not ok:
        return "no-go", None, reasons
    return ("not-decided" if undecided else "go"), undecided, reasons


def recommend(
    judgements: tuple[Judgement, ...], baseline: str
) -> tuple[str | None, str, Figure, Figure]:
    """The cheapest GO precision (the baseline wins a tie): (name, why, $/month saved, %)."""
    go = [j for j in judgements if j.go and j.finance.monthly.value is not None]
    go.sort(key=lambda j: (j.finance.monthly.value or 0.0, j.name != baseline))
    open_ = [j for j in judgements if j.status == "not-decided"]
    pending = (
        "; not decided, so not recommended: "
        + ", ".join(f"{j.name} ({j.undecided})" for j in open_)
        if open_
        else ""
    )
    if not go:
        return (None, NO_RECOMMENDATION + pending, Figure.missing("no recommendation", USD_MONTH),
                Figure.missing("n/a", PERCENT))  # fmt: skip
    best = go[0]
    monthly = best.finance.monthly.value or 0.0
    base = next((j for j in judgements if j.name == baseline), None)
    base_monthly = base.finance.monthly.value if base else None
    if base_monthly:
        savings = Figure.of(base_monthly - monthly, USD_MONTH, f"vs {baseline}")
        reduction = Figure.of(reduction_pct(base_monthly, monthly), PERCENT, f"vs {baseline}")
    else:
        savings = Figure.missing(f"baseline {baseline} has no monthly cost", USD_MONTH)
        reduction = Figure.missing(f"baseline {baseline} has no monthly cost", PERCENT)
    others = len(go) - 1
    why = (
        f"{best.name} is the cheapest precision that meets every latency SLO and the "
        f"quality floor" + (f" ({others} other(s) also qualify)" if others else "") + pending
    )
    return best.name, why, savings, reduction


def decide(evidence: Evidence, whatif: WhatIf) -> Outcome:
    """Price every endpoint's evidence at the what-if state and judge it (pure)."""
    profile = evidence.profile
    base = profile.baseline.name
    measures, caps, ons = [], {}, {}
    measured = {e.name: evidence.capacity(e.name) for e in profile.endpoints}
    for e in profile.endpoints:
        if e.name not in whatif.endpoints:
            continue
        wi = whatif.endpoints[e.name]
        ons[e.name] = on = on_gpu(evidence, e.name, wi.gpu, wi.gpus_per_replica, measured)
        cap = caps[e.name] = on.capacity
        watts, basis = evidence.power(e.name, cap.level)
        measures.append(
            EndpointMeasure(
                name=e.name,
                precision=e.precision,
                capacity=cap,
                curve=evidence.points(e.name),
                power_w_per_gpu=watts,
                power_basis=basis if watts is not None else "",
                power_reason=basis if watts is None else None,
                quality_delta_pp=evidence.quality_delta_pp(e.name),
                measured_gpu=e.gpu,
                capacity_basis=on.basis,
            )
        )
    comparison = build_comparison(measures, whatif, base)
    judgements = []
    for m in measures:
        ev = evidence.eps[m.name]
        fin = comparison.row(m.name)
        quality = evidence.quality(m.name)
        status, undecided, reasons = judge(
            m.name, profile, m.capacity, ev.counts.error_rate, quality, fin
        )
        judgements.append(
            Judgement(
                name=m.name,
                precision=m.precision,
                is_baseline=m.name == base,
                capacity=m.capacity,
                curve=m.curve,
                error_rate=ev.counts.error_rate,
                cancelled=ev.counts.cancelled,
                stopped=ev.counts.stop_text,
                silent_at_stop=ev.counts.silent,
                partial_tokens=ev.counts.partial_tokens,
                quality=quality.get("verdict"),
                quality_reason=str(quality.get("verdict_reason") or ""),
                finance=fin,
                go=status == "go",
                reasons=tuple(reasons),
                status=status,
                undecided=undecided,
                **_quality_detail(quality),
                on_gpu=ons[m.name],
            )
        )
    done = tuple(judgements)
    name, why, savings, reduction = recommend(done, base)
    noise = evidence.noise_floor()[1]
    return Outcome(done, comparison, base, name, why, savings, reduction, noise)


def _quality_detail(quality: Mapping[str, Any]) -> dict[str, Any]:
    """The noise-floor line and per-tag quality verdicts of one endpoint's quality row."""
    agree = quality.get("agreement")
    agree = agree if isinstance(agree, Mapping) else {}
    tags = quality.get("by_tag_verdict")
    tags = tags if isinstance(tags, Mapping) else {}
    return {
        "noise": str(agree.get("noise_text") or ""),
        "noise_words": str(agree.get("noise_words") or ""),
        "by_tag": tuple(
            (t, str(v.get("verdict_words") or words(v.get("verdict"))), str(v.get("reason", "")))
            for t, v in sorted((str(k), x) for k, x in tags.items())
            if isinstance(v, Mapping)
        ),
    }
