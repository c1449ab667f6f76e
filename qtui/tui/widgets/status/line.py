"""The status line: source, load mode and level, elapsed, requests sent, client-bound warning."""

from __future__ import annotations

from qtui.live import fmt
from qtui.live.model import Snapshot
from qtui.tui.widgets.text import Cell


def status_text(snap: Snapshot) -> str:
    """One line; the client-bound warning wins space over everything else."""
    r = snap.run
    parts = []
    if r.replay is not None:
        rp = r.replay
        state = "▶" if rp.playing else "⏸"
        parts.append(
            f"[b]replay[/b] {state} {fmt.duration(rp.position_s)}/{fmt.duration(rp.duration_s)} "
            f"×{rp.speed:g}"
        )
    else:
        state = "[b $success]▶ load on[/]" if r.running else "[b]■ load off[/]"
        parts.append(state)
    parts.append(f"{r.mode} {fmt.level(r.level, r.level_unit)}")
    parts.append(f"{fmt.duration(r.elapsed_s)} elapsed")
    parts.append(f"{r.requests_sent:,} req sent")
    parts.append(f"workload {r.workload}")
    if r.quality_running:
        parts.append("quality run…")
    line = " · ".join(parts)
    if r.search:  # a knee search's progress wins space over the rest (not the warning)
        line = f"[b]knee[/] {r.search} · " + line
    if r.client_bound:
        line = f"[b $warning]⚠ client-bound: {r.client_bound}[/] · " + line
    if r.message:
        line += f" · {r.message}"
    return line


class StatusLine(Cell):
    """Top line of every view."""

    def show(self, snap: Snapshot) -> None:
        self.set(status_text(snap))
