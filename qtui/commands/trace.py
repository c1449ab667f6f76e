"""`qtui trace`: write a trace from a recorded session, convert or rescale one, describe one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from qtui.errors import ConfigError
from qtui.load.trace import (
    Trace,
    TraceItem,
    dump_trace,
    read_trace,
    scale_rate,
    trace_from_requests,
    trace_summary,
)


def _rescaled(items: list[TraceItem], speed: float, rate: float, seed: int) -> list[TraceItem]:
    if speed <= 0:
        raise ConfigError(f"--speed {speed}: must be above 0")
    items = scale_rate(items, rate, seed) if rate != 1.0 else items
    if speed != 1.0:
        items = [
            replace(
                it,
                offset_s=it.offset_s / speed,
                think_s=None if it.think_s is None else it.think_s / speed,
            )
            for it in items
        ]
    return items


def _write(items: list[TraceItem], out: Path) -> str:
    try:
        out.write_text(dump_trace(items), "utf-8")
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the trace ({exc.strerror})") from None
    return trace_summary(Trace(out, tuple(items)))


def from_session(
    session: Path, out: Path, endpoint: str | None, speed: float, rate: float, seed: int
) -> str:
    """The requests one endpoint of ``session`` sent, as a trace file (qtui's JSONL)."""
    from qtui.session.reader import load_session

    s = load_session(session)
    names = s.endpoints
    if endpoint is None:
        if not names:
            raise ConfigError(f"{session}: no endpoint recorded any request; nothing written")
        base = s.profile.profile.baseline if s.profile else None
        endpoint = base if base in names else names[0]
    elif endpoint not in names:
        raise ConfigError(
            f"{session}: no endpoint {endpoint!r} (it has {', '.join(names) or 'none'}); "
            "pick one with --endpoint"
        )
    items = trace_from_requests(s.frame("request").to_dicts(), endpoint)
    if not items:
        raise ConfigError(
            f"{session}: endpoint {endpoint} has no request with both token counts; nothing written"
        )
    return _write(_rescaled(items, speed, rate, seed), out)


def convert(src: Path, out: Path, speed: float, rate: float, seed: int) -> str:
    """A trace (qtui's or Mooncake's JSONL) checked and written in qtui's format."""
    items = list(read_trace(src).items)
    return _write(_rescaled(items, speed, rate, seed), out)


def show(src: Path) -> str:
    return trace_summary(read_trace(src))


def sharegpt(src: Path, out: Path, output_tokens: int | None) -> str:
    """A ShareGPT-style file as a JSONL prompt file (``kind = "jsonl"``)."""
    import json

    from qtui.load.sharegpt import sharegpt_prompts

    try:
        text = src.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{src}: cannot read ShareGPT file ({exc})") from None
    lines, skipped = sharegpt_prompts(src, text, output_tokens)
    try:
        out.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the prompt file ({exc.strerror})") from None
    basis = f"{output_tokens} tokens each" if output_tokens else "the recorded answer's length / 4"
    return (
        f"{out}: {len(lines)} prompts (first human turn; max_tokens = {basis}); "
        f'{skipped} conversations skipped; use it as [workload] kind = "jsonl"'
    )
