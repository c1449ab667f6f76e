"""The GPU view (key G): cheapest GPU per precision at the traffic target, measured rows marked;
the highlighted row's capacity basis and fit check underneath."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import DataTable

from qtui.live.model import GpuOptionView, Snapshot
from qtui.tui.widgets.text import Cell

COLUMNS = (
    ("precision", "precision"),
    ("gpu", "GPU"),
    ("replicas", "replicas"),
    ("month", "$/month"),
    ("how", "capacity"),
    ("fit", "fits"),
)


def row_key(o: GpuOptionView) -> str:
    return f"{o.endpoint}|{o.gpu}"


def option_cells(o: GpuOptionView) -> dict[str, str]:
    """One GPU option's cells, each with its unit or why it is missing."""
    reps = o.replicas.split(" ", 1)[0] if o.replicas[:1].isdigit() else "—"
    fits = {True: "fits", False: "no", None: "?"}[o.fits]
    if o.fits is False and "short" in o.fit:
        fits = "short " + o.fit.rsplit(": ", 1)[-1].removesuffix(" short")  # "short 1.6 GiB"
    return {
        "precision": o.precision,
        "gpu": o.gpu,
        "replicas": reps,
        "month": "—" if o.monthly_usd is None else f"${o.monthly_usd:,.0f}",
        "how": "measured" if o.measured else ("projected" if o.how.startswith("projected")
                                              else "—"),
        "fit": fits,
    }  # fmt: skip


def detail_text(o: GpuOptionView | None) -> str:
    """The highlighted option: capacity with its basis, replicas, monthly, the fit check."""
    if o is None:
        return "[dim]no endpoint measured yet[/]"
    return "\n".join(
        (
            f"[b]{escape(o.precision)} on {escape(o.gpu)}[/b]: {escape(o.capacity)}",
            f"replicas {escape(o.replicas)} · {escape(o.monthly)}",
            f"fit: {escape(o.fit)}",
        )
    )


class GpuView(Vertical):
    """One row per precision × GPU type, cheapest first within each precision."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._rows: dict[str, GpuOptionView] = {}
        self._order: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Cell(
            "[b]Cheapest GPU per precision[/b] at the traffic target · measured wins",
            classes="gpu-title",
        )
        yield DataTable(cursor_type="row", zebra_stripes=True, classes="gpu-table")
        yield Cell(classes="gpu-detail")

    def on_mount(self) -> None:
        t = self.query_one(DataTable)
        for key, label in COLUMNS:
            t.add_column(label, key=key)

    def show(self, snap: Snapshot) -> None:
        t = self.query_one(DataTable)
        rows = {row_key(o): o for o in snap.gpu_options}
        order = tuple(rows)
        if order != self._order:
            t.clear()
            for k, o in rows.items():
                t.add_row(*option_cells(o).values(), key=k)
        else:
            for k, o in rows.items():
                if self._rows.get(k) != o:
                    for col, value in option_cells(o).items():
                        t.update_cell(k, col, value, update_width=True)
        self._rows, self._order = rows, order
        self._detail()

    def _detail(self) -> None:
        t = self.query_one(DataTable)
        o = None
        if t.row_count:
            key = t.coordinate_to_cell_key(t.cursor_coordinate).row_key.value
            o = self._rows.get(str(key))
        self.query_one(".gpu-detail", Cell).set(detail_text(o))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
