"""The quality view's text (pure): each endpoint's success and paired drop with 95 % intervals,
its flips against the baseline's own (the noise floor), its verdict, and the verdict per tag.
Every line fits 80 columns; the words are the decision record's."""

from __future__ import annotations

from qtui.live import fmt
from qtui.live.model import EndpointView, Snapshot

WIDTH = 78  # 80 columns less the view's padding
VERDICT_W = 11  # "NOT DECIDED"
TAG_W = 20
HEAD = (
    f"{'precision':<12} {'success':>7} {'95% CI (%)':>11} {'drop (95% CI), pts':>20} "
    f"{'flips':>6} {'quality':<{VERDICT_W}}"
)


def _ci(ci: tuple[float, float] | None, scale: float = 100.0) -> str:
    return fmt.DASH if ci is None else f"{ci[0] * scale:.1f}–{ci[1] * scale:.1f}"


def _drop(e: EndpointView) -> str:
    q = e.quality
    if e.baseline:
        return "baseline"
    if q.drop_pts is None:
        return fmt.DASH
    lo, hi = q.drop_ci_pts or (None, None)
    iv = "" if lo is None or hi is None else f" ({lo:.1f} to {hi:.1f})"
    return f"{q.drop_pts:.1f}{iv}"


def verdict_word(words: str) -> str:
    """GO, NO-GO or NOT DECIDED: the verdict's status words without the reason."""
    return words.split(" (", 1)[0]


def table(snap: Snapshot) -> list[str]:
    """One row per precision: success (95% CI), drop vs the baseline (95% CI), flips, verdict."""
    rows = [HEAD]
    for e in snap.endpoints:
        q = e.quality
        name = e.precision + (" *" if e.baseline else "")
        rows.append(
            f"{name[:12]:<12} {fmt.pct(q.score, 1):>7} {_ci(q.success_ci):>11} "
            f"{_drop(e)[:20]:>20} {fmt.pct(q.flip_rate, 1):>6} {verdict_word(q.words):<{VERDICT_W}}"
        )
    return rows


def noise_lines(snap: Snapshot) -> list[str]:
    """The noise floor and every endpoint's flips and KL next to it, as the record words them."""
    base = next((e for e in snap.endpoints if e.baseline), None)
    lines = [snap.noise_floor] if snap.noise_floor else []
    for e in snap.endpoints:
        if not e.baseline and e.quality.noise:
            lines.append(f"{e.precision}: {e.quality.noise}")
    if not lines and base is not None:
        lines.append("noise floor: not measured (Q asks every endpoint, the baseline twice)")
    return lines


def why_lines(snap: Snapshot) -> list[str]:
    """Why each precision's quality is what it is (the verdict's reason), the undecided first."""
    order = {"not-decided": 0, "no-go": 1, "go": 2}
    eps = sorted(snap.endpoints, key=lambda e: order.get(e.quality.verdict, 0))
    return [f"{e.precision} — {e.quality.reason}" for e in eps if e.quality.items]


def tag_table(snap: Snapshot) -> list[str]:
    """Tag × precision: the quality verdict on that tag's items only (no header when no tags)."""
    eps = [e for e in snap.endpoints if not e.baseline and e.quality.by_tag]
    room = max(1, (WIDTH - TAG_W) // (VERDICT_W + 1))
    eps = eps[:room]
    if not eps:
        return []
    tags = sorted({t for e in eps for t, _, _ in e.quality.by_tag})
    names = "".join(f" {e.precision[:VERDICT_W]:<{VERDICT_W}}" for e in eps)
    head = f"{'quality per tag':<{TAG_W}}{names}"
    rows = [head]
    for tag in tags:
        cells = []
        for e in eps:
            got = {t: w for t, w, _ in e.quality.by_tag}
            cells.append(f" {verdict_word(got.get(tag, fmt.DASH)):<{VERDICT_W}}")
        rows.append(f"{tag[:TAG_W]:<{TAG_W}}" + "".join(cells))
    return rows
