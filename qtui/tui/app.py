"""The qtui app: renders the feed's snapshots at a fixed rate and sends the user's intents back."""

from __future__ import annotations

import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer
from textual.worker import Worker, WorkerState

from qtui.errors import QtuiError
from qtui.evidence.judging import Judged, JudgeJob
from qtui.live import intents as it
from qtui.live.feed import Feed, JudgesInThread
from qtui.live.model import MODES, Snapshot
from qtui.live.pricing import SavesPriceTables, save_whatif_table
from qtui.tui.messages import IntentMessage
from qtui.tui.widgets.charts.view import ChartsView
from qtui.tui.widgets.cost.panel import CostPanel
from qtui.tui.widgets.endpoints.board import EndpointBoard
from qtui.tui.widgets.finance.view import FinanceView
from qtui.tui.widgets.gpus.view import GpuView
from qtui.tui.widgets.help.screen import HelpScreen
from qtui.tui.widgets.quality.view import QualityBoard
from qtui.tui.widgets.status.line import StatusLine

VIEWS = ("main", "finance", "cost", "charts", "quality")
CHART_EVERY = 4  # charts redraw at most every 4th refresh (plots are the costly part)


class QtuiCommands(Provider):
    """The command palette: every app action by name."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, QtuiApp)
        matcher = self.matcher(query)
        for b in Binding.make_bindings(app.BINDINGS):
            if not b.description or b.system:
                continue
            score = matcher.match(b.description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(b.description),
                    partial(app.run_action, b.action),
                    help=f"key: {b.key_display or b.key}",
                )


class QtuiApp(App[None]):
    """Endpoints side by side; load controls; cost what-ifs; finance view; charts."""

    CSS_PATH = Path(__file__).with_name("qtui.tcss")
    TITLE = "qtui"
    COMMANDS = App.COMMANDS | {QtuiCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("m", "view('main')", "Main view"),
        Binding("f", "view('finance')", "Finance view"),
        Binding("c", "view('cost')", "Cost what-ifs"),
        Binding("g", "view('charts')", "Charts"),
        Binding("G", "view('gpus')", "Cheapest GPU per precision", key_display="G"),
        Binding("v", "view('quality')", "Quality verdicts, noise floor, per tag", show=False),
        Binding("space", "toggle_load", "Start/stop load", key_display="space"),
        Binding("o", "cycle_mode", "Load mode"),
        Binding("right_square_bracket", "level(1)", "Level up", key_display="]"),
        Binding("left_square_bracket", "level(-1)", "Level down", key_display="["),
        Binding("w", "cycle_workload", "Workload"),
        Binding("Q", "quality", "Run quality", key_display="Q"),
        Binding("p", "play", "Replay play/pause", show=False),
        Binding("greater_than_sign", "speed(2)", "Replay faster", key_display=">", show=False),
        Binding("less_than_sign", "speed(0.5)", "Replay slower", key_display="<", show=False),
        Binding("full_stop", "seek(10)", "Replay +10 s", key_display=".", show=False),
        Binding("comma", "seek(-10)", "Replay −10 s", key_display=",", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, feed: Feed, *, hz: float = 4.0, title: str = "qtui") -> None:
        super().__init__()
        if not 0 < hz <= 10:
            raise ValueError("refresh rate must be in (0, 10] Hz")
        self.feed = feed
        self.hz = hz
        self.title = title
        self.view = "main"
        self.last_seq = -1
        self.snap: Snapshot | None = None
        self.refreshes = 0
        self.last_render_mono = 0.0
        self._judging: tuple[Worker[Judged], JudgeJob] | None = None  # at most one in flight

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with ContentSwitcher(initial="main", id="views"):
            yield EndpointBoard(id="main")
            yield FinanceView(id="finance")
            yield CostPanel(id="cost")
            yield ChartsView(id="charts")
            yield QualityBoard(id="quality")
            yield GpuView(id="gpus")
        yield Footer()

    async def on_mount(self) -> None:
        # widget references taken once: a modal (help) on top must not break the refresh
        self._status = self.query_one(StatusLine)
        self._board = self.query_one(EndpointBoard)
        self._finance = self.query_one(FinanceView)
        self._cost = self.query_one(CostPanel)
        self._charts = self.query_one(ChartsView)
        self._quality = self.query_one(QualityBoard)
        self._gpus = self.query_one(GpuView)
        self._switcher = self.query_one(ContentSwitcher)
        if isinstance(self.feed, JudgesInThread):
            self.feed.judge_later()  # golden items are judged in a thread, not in tick
        await self.feed.start()
        self.tick(force=True)
        self.set_interval(1 / self.hz, self.tick)

    def help_sections(self) -> list[tuple[str, list[BindingType]]]:
        """Every key the app answers, by area, for the help screen."""
        return [
            ("Everywhere", [*self.BINDINGS, Binding("ctrl+p", "command_palette", "Commands")]),
            ("Cost view", list(CostPanel.BINDINGS)),
        ]

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)

    # --- refresh -------------------------------------------------------------------------
    def tick(self, force: bool = False) -> None:
        """Pull a snapshot; push it only into the visible view, only if something changed."""
        if not self.is_running or self._exit_renderables or not hasattr(self, "_status"):
            return
        snap = self.feed.snapshot()
        if snap.seq == self.last_seq and not force:
            return
        self.last_seq = snap.seq
        self.snap = snap
        self.refreshes += 1
        self._status.show(snap)
        if self.view == "main":
            self._board.show(snap)
        elif self.view == "finance":
            self._finance.show(snap)
        elif self.view == "cost":
            self._cost.show(snap)
        elif self.view == "charts" and (force or self.refreshes % CHART_EVERY == 0):
            self._charts.show(snap)
        elif self.view == "quality":
            self._quality.show(snap)
        elif self.view == "gpus":
            self._gpus.show(snap)
        self.last_render_mono = time.monotonic()
        self._judge_next()

    # --- quality judged off the loop -----------------------------------------------------
    @property
    def judging(self) -> bool:
        """A judgement of the golden items is running in its thread."""
        return self._judging is not None

    def _judge_next(self) -> None:
        """Judge the golden items that came in since, in a thread: one job at a time; items
        that arrive meanwhile go, all together, into the next job when this one ends."""
        if self._judging is not None or not isinstance(self.feed, JudgesInThread):
            return
        job = self.feed.quality_job()
        if job is not None:
            worker = self.run_worker(job.run, "judge golden items", group="quality-judge",
                                     exclusive=True, thread=True)  # fmt: skip
            self._judging = (worker, job)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self._judging is None or event.worker is not self._judging[0]:
            return
        if event.state == WorkerState.SUCCESS and isinstance(self.feed, JudgesInThread):
            result = event.worker.result
            if isinstance(result, Judged):
                self.feed.take_quality(self._judging[1], result)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._judging = None
            self.tick(force=True)  # show it, and start on what came in meanwhile

    # --- intents -------------------------------------------------------------------------
    def send(self, intent: it.Intent) -> None:
        reason = self.feed.send(intent)
        if reason:
            self.notify(reason, severity="error", timeout=4)
        self.tick(force=True)

    def on_intent_message(self, message: IntentMessage) -> None:
        self.send(message.intent)

    def on_cost_panel_save_table(self, message: CostPanel.SaveTable) -> None:
        """Write the what-if's own prices as a price table; the file I/O runs in a thread."""
        self.run_worker(self._save_table(message.endpoint, message.name), group="save-table")

    async def _save_table(self, endpoint: str, name: str) -> None:
        if not isinstance(self.feed, SavesPriceTables):
            self.notify("this feed cannot save price tables", severity="error", timeout=6)
            return
        try:
            path = await save_whatif_table(self.feed, endpoint, name)
        except QtuiError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.notify(f"saved price table {path.stem} ({path}); b picks it", timeout=8)
        self.tick(force=True)

    # --- actions -------------------------------------------------------------------------
    def action_view(self, name: str) -> None:
        self.view = name
        self._switcher.current = name
        if name == "cost":
            self._cost.table.focus()
        elif name == "gpus":
            self._gpus.query_one(DataTable).focus()
        self.tick(force=True)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def action_toggle_load(self) -> None:
        running = self.snap is not None and self.snap.run.running
        self.send(it.StopLoad() if running else it.StartLoad())

    def action_cycle_mode(self) -> None:
        cur = self.snap.run.mode if self.snap else MODES[0]
        self.send(it.SetMode(MODES[(MODES.index(cur) + 1) % len(MODES)]))

    def action_level(self, direction: int) -> None:
        self.send(it.StepLevel(1 if direction > 0 else -1))

    def action_cycle_workload(self) -> None:
        if self.snap is None or not self.snap.run.workloads:
            return
        ws = self.snap.run.workloads
        cur = self.snap.run.workload
        nxt = ws[(ws.index(cur) + 1) % len(ws)] if cur in ws else ws[0]
        self.send(it.SetWorkload(nxt))

    def action_quality(self) -> None:
        self.send(it.RunQuality())

    def action_play(self) -> None:
        self.send(it.TogglePlay())

    def action_speed(self, factor: float) -> None:
        rp = self.snap.run.replay if self.snap else None
        if rp is not None:
            self.send(it.SetSpeed(min(60.0, max(1.0, rp.speed * factor))))

    def action_seek(self, delta: float) -> None:
        self.send(it.Seek(delta))

    async def action_quit(self) -> None:
        await self.feed.stop()
        self.exit()
