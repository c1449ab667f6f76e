"""The help screen, generated from the live bindings so it cannot go stale."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def binding_rows(
    sections: Iterable[tuple[str, Iterable[BindingType]]],
) -> list[tuple[str, str, str]]:
    """(area, keys, description) for every binding, in declaration order."""
    rows: list[tuple[str, str, str]] = []
    for area, bindings in sections:
        keys: dict[str, list[str]] = {}
        desc: dict[str, str] = {}
        for one in Binding.make_bindings(bindings):
            if one.system:
                continue
            keys.setdefault(one.action, []).append(one.key_display or one.key)
            desc.setdefault(one.action, one.description or one.action)
        for action, ks in keys.items():
            rows.append((area, " ".join(dict.fromkeys(ks)), desc[action]))
    return rows


def help_text(rows: list[tuple[str, str, str]]) -> Text:
    """Plain rich Text (no markup parsing: keys like "[" are literal)."""
    out = Text()
    area = ""
    for a, keys, desc in rows:
        if a != area:
            if area:
                out.append("\n")
            area = a
            out.append(a + "\n", style="bold")
        out.append(f"  {keys:<16} {desc}\n")
    return out


class HelpScreen(ModalScreen[None]):
    """Every key, grouped by where it works."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close help")
    ]

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.rows = binding_rows([*sections, ("Help", list(self.BINDINGS))])

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static("[b]qtui keys[/b] (mouse optional)\n", id="help-title")
            yield Static(help_text(self.rows), id="help-body")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
