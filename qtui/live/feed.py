"""The one small interface the app talks to: live controller, replay and test fake all fit it."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from qtui.evidence.judging import Judged, JudgeJob
from qtui.live.intents import Intent
from qtui.live.model import Snapshot


class Feed(Protocol):
    """Produces snapshots and takes intents; all I/O happens behind it, off the UI loop."""

    def snapshot(self) -> Snapshot:
        """The latest picture; cheap, never blocks."""
        ...

    def send(self, intent: Intent) -> str | None:
        """Apply an intent now; return why it was rejected, or None."""
        ...

    async def start(self) -> None:
        """Begin background work (scraping, sampling, load if asked)."""
        ...

    async def stop(self) -> None:
        """Stop load and background work cleanly and save what was recorded."""
        ...


@runtime_checkable
class JudgesInThread(Protocol):
    """A feed whose golden items the app judges in a thread (live and replay; not the fake)."""

    def judge_later(self) -> None:
        """From now on ``snapshot`` shows the judgement last taken back, never judges itself."""
        ...

    def quality_job(self) -> JudgeJob | None:
        """The items not judged yet (cheap: a copy of references); None when current."""
        ...

    def take_quality(self, job: JudgeJob, judged: Judged) -> None:
        """``job.run()``'s result, back on the UI loop."""
        ...
