"""The golden set as a load workload: its prompts, cycled, at their own output lengths."""

from __future__ import annotations

from pathlib import Path

from qtui.client.stream import Prompt
from qtui.config.profile import Workload
from qtui.errors import ConfigError
from qtui.quality.golden import load_golden


class GoldenWorkload:
    """Every golden item's prompt (a chat item's last user message) in file order, cycled.

    Outputs are not fixed (no ignore_eos): the answers are short and end where the model ends
    them, as they would in production.
    """

    def __init__(self, path: Path) -> None:
        items = load_golden(path)
        if not items:
            raise ConfigError(f"{path}: the golden set has no items")
        self.prompts = [
            Prompt(i.last_user_message, i.max_tokens, len(i.last_user_message) // 4, False)
            for i in items
        ]
        self.n = 0

    def next(self) -> Prompt:
        p = self.prompts[self.n % len(self.prompts)]
        self.n += 1
        return p


def golden_source(w: Workload, base_dir: Path) -> GoldenWorkload:
    """The GoldenFactory for ``workload.kind = "golden"`` (path relative to the profile)."""
    if not w.golden_set:
        raise ConfigError('workload.kind = "golden" needs workload.golden_set')
    return GoldenWorkload(base_dir / w.golden_set)
