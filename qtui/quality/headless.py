"""The golden set on every endpoint without the app (`qtui bench --quality`), and its table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

from qtui.config.profile import Profile
from qtui.errors import ConfigError
from qtui.evidence.records import QualityRecord
from qtui.quality.golden import GoldenItem, load_golden, resolve_golden_path
from qtui.quality.noise import again_name, beyond_noise, floor_line
from qtui.quality.runner import QualityTarget, run_quality
from qtui.quality.summary import QualitySummary, summarize


def golden_items(profile: Profile, profile_path: Path) -> list[GoldenItem]:
    """The profile's golden set, validated (ConfigError naming file:line before any request)."""
    if not profile.workload.golden_set:
        raise ConfigError(
            f"{profile_path}: --quality needs workload.golden_set (a JSONL golden set)"
        )
    return load_golden(resolve_golden_path(profile_path, profile.workload.golden_set))


def targets(
    profile: Profile, urls: Mapping[str, str], models: Mapping[str, str | None]
) -> list[QualityTarget]:
    """One target per endpoint at its URL, with the served model id discovery found."""
    return [
        QualityTarget.from_endpoint(
            e,
            profile.workload.api,
            base_url=urls.get(e.name) or e.url,
            model=e.model or models.get(e.name) or None,
        )
        for e in profile.endpoints
    ]


async def run_profile_quality(
    profile: Profile,
    items: list[GoldenItem],
    urls: Mapping[str, str],
    models: Mapping[str, str | None],
    on_record: Callable[[QualityRecord], None] | None = None,
    concurrency: int = 4,
    baseline_twice: bool = False,
) -> tuple[list[QualityRecord], QualitySummary]:
    """Every item on every endpoint at temperature 0 (seeded); scores, agreement and verdicts.
    ``baseline_twice``: the baseline answers a second time, at the same time as the others (so
    under the same load), as ``<baseline>~again``: the noise floor (qtui/quality/noise.py)."""
    tgts = targets(profile, urls, models)
    if baseline_twice:
        base = next(t for t in tgts if t.name == profile.baseline.name)
        tgts.append(dataclasses.replace(base, name=again_name(base.name)))
    recs = await run_quality(
        items,
        tgts,
        concurrency=concurrency,
        seed=profile.workload.seed,
        timeout_s=profile.load.timeout_s,
        on_record=(lambda r, _d, _t: on_record(r)) if on_record else None,
    )
    names = [e.name for e in profile.endpoints]
    return recs, summarize(recs, names, profile.baseline.name, profile.slo.quality)


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}"


def quality_table(summary: QualitySummary) -> list[str]:
    """A short plain-text table: success (95% CI), schema failures, retries, agreement, verdict."""
    head = (
        f"{'endpoint':14} {'success %':>9} {'95% CI':>13} {'schema fail %':>13} "
        f"{'retry %':>7} {'flips %':>7} {'1st div':>7} {'KL':>7}  verdict"
    )
    lines = [head]
    for e in summary.endpoints:
        s, a = e.score, e.agreement
        iv = s.success.interval
        ci = "—" if iv is None else f"{100 * iv[0]:.1f}–{100 * iv[1]:.1f}"
        div = (
            "—"
            if a is None or a.mean_first_divergence is None
            else f"{a.mean_first_divergence:.1f}"
        )
        kl = "—" if a is None or a.mean_kl is None else f"{a.mean_kl:.3f}"
        name = s.endpoint + (" *" if s.endpoint == summary.baseline else "")
        lines.append(
            f"{name[:14]:14} {_pct(s.success.value):>9} {ci:>13} "
            f"{_pct(s.schema_failure.value):>13} {_pct(s.retry_rate.value):>7} "
            f"{_pct(a.flip_rate if a else None):>7} {div:>7} {kl:>7}  {e.verdict.reason}"
        )
    lines.append(f"(* baseline {summary.baseline}; flips/divergence/KL against it)")
    lines.append(floor_line(summary.noise, summary.baseline))
    for e in summary.endpoints:
        if e.agreement is not None:
            lines.append(f"{e.score.endpoint}: {beyond_noise(e.agreement, summary.noise).text}")
    return lines
