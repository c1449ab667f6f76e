"""`qtui bench`'s progress on a terminal: a rich live display (a bar over the run's length, one
row per endpoint), repainted once a second. Pipes and logs get plain lines instead
(`qtui.commands.bench.plain_due`)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qtui.load.backoff import backing_text


def progress_table(run: Any) -> Table:
    """One row per endpoint from the run's latest 1 s windows (``run.latest``)."""
    t = Table(box=None, pad_edge=False, header_style="bold")
    for col, right in (("endpoint", False), ("req/s", True), ("out tok/s", True),
                       ("TTFT p95", True), ("in flight", True), ("errors", False)):  # fmt: skip
        t.add_column(col, justify="right" if right else "left", no_wrap=not right)
    for name, s in run.latest.items():
        ttft = f"{s.ttft.p95 * 1000:.0f} ms" if s.ttft.p95 is not None else "-"
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(s.errors.items()) if n)
        ep = run.eps.get(name)
        unit = "req/s" if ep is not None and ep.by == "rate" else "users"
        backing = backing_text(s.backing_off, unit)
        errors = "; ".join(x for x in (kinds, backing) if x) or "0"
        t.add_row(name, f"{s.rps:.1f}", f"{s.out_tps:.0f}", ttft, str(s.in_flight), errors)
    return t


class LiveProgress:
    """A rich Live display on stderr: started once, updated each second, stopped at the end."""

    def __init__(self, run: Any, console: Console | None = None) -> None:
        from rich.live import Live

        self.run = run
        self.console = console or Console(stderr=True)
        total = None if run.mode == "sweep" else float(run.duration)
        self.bar = Progress(
            TextColumn("[bold]qtui bench[/] {task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[bound]}"),
            console=self.console,
        )
        what = "sweep" if total is None else f"{run.mode}, {total:g} s"
        self.task = self.bar.add_task(what, total=total, bound="")
        self.t0 = time.perf_counter()
        self.live = Live(self._view(), console=self.console, auto_refresh=False, transient=False)

    def _view(self) -> Group:
        return Group(self.bar, progress_table(self.run))

    def start(self) -> None:
        self.live.start()

    def update(self) -> None:
        health = self.run.health[-1] if self.run.health else None
        bound = "[b red]client-bound[/]" if health is not None and health.client_bound else ""
        self.bar.update(self.task, completed=time.perf_counter() - self.t0, bound=bound)
        self.live.update(self._view(), refresh=True)

    def stop(self) -> None:
        self.live.stop()
