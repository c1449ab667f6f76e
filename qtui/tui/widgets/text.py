"""A Static that redraws only when its text actually changed (keeps slow SSH links quiet)."""

from __future__ import annotations

from textual.widgets import Static


class Cell(Static):
    """One line (or block) of text, updated in place."""

    def __init__(self, text: str = "", **kw: object) -> None:
        super().__init__(text, **kw)  # type: ignore[arg-type]
        self._last = text

    def set(self, text: str) -> None:
        if text != self._last:
            self._last = text
            self.update(text, layout=not self._fixed_size())

    def _fixed_size(self) -> bool:
        """A fixed height and a width that is not ``auto`` (unset fills the container): the
        text can change without a new layout of the screen."""
        h, w = self.styles.height, self.styles.width
        return h is not None and not h.is_auto and (w is None or not w.is_auto)

    @property
    def text(self) -> str:
        return self._last
