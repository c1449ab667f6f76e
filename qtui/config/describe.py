"""The workload in words: one text for the decision record and the app (what load was measured)."""

from __future__ import annotations

from qtui.config.profile import LengthDist, Workload


def _dist(d: LengthDist) -> str:
    return f"{d.mean} tokens" if d.dist == "fixed" else f"{d.mean} tokens mean ({d.dist})"


def workload_text(w: Workload, kind: str | None = None) -> str:
    """What requests looked like under ``kind`` (default the workload's own), with the file."""
    kind = kind or w.kind
    if kind == "trace":
        text = f"trace {w.trace_file} replayed at its times, speed {w.speed:g}×"
        if w.rate_scale != 1.0:
            text += f", rate {w.rate_scale:g}× (seed {w.seed})"
        return text + f"; {w.trace_block_size} tokens per hash id"
    if kind == "jsonl":
        return f"JSONL prompts {w.prompts_file}, cycled"
    if kind == "golden":
        return f"golden set {w.golden_set}"
    text = f"synthetic prompts: input {_dist(w.input_tokens)}, output {_dist(w.output_tokens)}"
    if w.prefix_count and w.prefix_tokens:
        text += f", behind {w.prefix_count} shared prefixes of {w.prefix_tokens} tokens"
    return text
