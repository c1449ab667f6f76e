"""The main view: one column per endpoint, baseline first, scrolling sideways when narrow."""

from __future__ import annotations

from textual import events
from textual.containers import HorizontalScroll

from qtui.live.model import Snapshot
from qtui.tui.widgets.endpoints.column import EndpointColumn

MIN_WIDTH, MAX_WIDTH = 26, 44


def column_width(available: int, n: int) -> int:
    """Share the width; below the minimum the board scrolls sideways instead of squeezing."""
    return max(MIN_WIDTH, min(MAX_WIDTH, available // max(n, 1)))


class EndpointBoard(HorizontalScroll):
    """Creates columns once, then only updates them (no DOM query per refresh: at 4 Hz a query
    walking every cell of every column was the largest part of a refresh)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: dict[str, EndpointColumn] = {}

    def show(self, snap: Snapshot) -> None:
        want = [e.name for e in snap.endpoints]
        if list(self._columns) != want:
            self.remove_children()
            self._columns = {n: EndpointColumn(n) for n in want}
            self.mount(*self._columns.values())
            self._fit()
            self.call_after_refresh(self.show, snap)
            return
        for e in snap.endpoints:
            self._columns[e.name].show(e, snap.slo_error_rate)

    def _fit(self) -> None:
        width = column_width(self.size.width, len(self._columns))
        for c in self._columns.values():
            c.styles.width = width

    def on_resize(self, _: events.Resize) -> None:
        self._fit()
