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
    if kind == "sharegpt":
        out = (
            f"output {_dist(w.output_tokens)}"
            if w.answer_lengths == "fixed"
            else "output the recorded answers' lengths"
        )
        return (
            f"ShareGPT conversations {w.conversations_file}, up to {w.turns} turns each, "
            f"{out}" + _conversation(w)
        )
    text = f"synthetic prompts: input {_dist(w.input_tokens)}, output {_dist(w.output_tokens)}"
    if w.prefix_count and w.prefix_tokens:
        text += f", behind {w.prefix_count} shared prefixes of {w.prefix_tokens} tokens"
    if w.turns > 1:
        text = f"synthetic conversations of {w.turns} turns: " + text.split(": ", 1)[1]
        text += _conversation(w)
    return text


def _conversation(w: Workload) -> str:
    think = (
        f"{w.think_time_s:g} s"
        if w.think_dist == "fixed"
        else f"{w.think_time_s:g} s mean (exponential)"
    )
    return f"; each turn resends the history and the answers; think time {think} (seed {w.seed})"
