"""The `quality_item` record: one golden item answered (or not) by one endpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from qtui.quality.checkers import REASONS, Reason


@dataclass(frozen=True)
class QualityRecord:
    """What the session journal stores per item and endpoint (docs/architecture.md)."""

    endpoint: str
    item_id: str
    passed: bool
    reason: Reason
    latency_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    retries: int = 0
    output_text: str | None = None
    tokens: list[str] = field(default_factory=list)
    top_logprobs: list[dict[str, float]] = field(default_factory=list)
    # beyond the minimal shape: what the scores and the report need without the golden file
    finish_reason: str | None = None
    check: str = ""
    tags: list[str] = field(default_factory=list)
    detail: str = ""
    t: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with kind "quality_item"."""
        return {"kind": "quality_item", **asdict(self)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> QualityRecord:
        """Rebuild from a journal dict, ignoring unknown keys (older/newer writers)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if values.get("reason") not in REASONS:
            values["reason"] = "error"
        return cls(**values)

    @property
    def answered(self) -> bool:
        """A response came back (the item counts towards the success rate)."""
        return self.reason != "error"
