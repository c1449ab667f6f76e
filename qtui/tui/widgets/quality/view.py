"""The quality view (key v): verdicts with intervals, the noise floor and the per-tag verdicts."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from qtui.live.model import Snapshot
from qtui.tui.widgets.quality.lines import noise_lines, table, tag_table, why_lines
from qtui.tui.widgets.text import Cell


class QualityBoard(VerticalScroll):
    """Read down: the table, per tag, the noise floor, why (scrolls past 24 lines)."""

    def compose(self) -> ComposeResult:
        yield Cell(classes="q-title")
        yield Cell(classes="q-table")
        yield Cell(classes="q-tags")
        yield Cell(classes="q-noise")
        yield Cell(classes="q-why")

    def show(self, snap: Snapshot) -> None:
        items = max((e.quality.items for e in snap.endpoints), default=0)
        running = " · [i]quality run going[/i]" if snap.run.quality_running else ""
        title = (
            f"[b]Quality[/b] — {items} golden items per precision; * = baseline; drop and "
            f"flips vs it{running}"
            if items
            else f"[b]Quality[/b] — no golden run yet: press Q{running}"
        )
        self.query_one(".q-title", Cell).set(title)
        self.query_one(".q-table", Cell).set(escape("\n".join(table(snap))))
        self.query_one(".q-noise", Cell).set(escape("\n".join(noise_lines(snap))))
        self.query_one(".q-why", Cell).set(escape("\n".join(why_lines(snap))))
        tags = tag_table(snap)
        cell = self.query_one(".q-tags", Cell)
        cell.set(escape("\n".join(tags)) if tags else "")
        cell.display = bool(tags)
