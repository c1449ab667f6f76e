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
    """Creates columns once, then only updates them."""

    def show(self, snap: Snapshot) -> None:
        have = {c.endpoint_name: c for c in self.query(EndpointColumn)}
        want = [e.name for e in snap.endpoints]
        if list(have) != want:
            self.remove_children()
            have = {n: EndpointColumn(n) for n in want}
            self.mount(*have.values())
            self._fit()
            self.call_after_refresh(self.show, snap)
            return
        for e in snap.endpoints:
            have[e.name].show(e, snap.slo_error_rate)

    def _fit(self) -> None:
        cols = list(self.query(EndpointColumn))
        width = column_width(self.size.width, len(cols))
        for c in cols:
            c.styles.width = width

    def on_resize(self, _: events.Resize) -> None:
        self._fit()
