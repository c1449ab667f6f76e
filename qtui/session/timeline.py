"""A session's timed records in the order they happened: what a replay feeds the view and what
the decision record's evidence is built from (pure over a loaded Session)."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from qtui.session.reader import Session

KINDS = ("client_second", "server_second", "gpu_sample")
# what a verdict and the agreement with the baseline (flips, KL) need of a golden answer;
# a field a record lacks (None in its column) takes the record's default
ITEM_COLUMNS = ("endpoint", "item_id", "passed", "reason", "retries", "check", "tags", "t",
                "output_text", "tokens", "top_logprobs")  # fmt: skip
REQUIRED = ("endpoint", "item_id", "passed")


def session_records(
    session: Session, kinds: Collection[str] | None = None
) -> list[tuple[float, str, dict[str, Any]]]:
    """Every timed record in time order (only ``kinds`` when given): per-second series, sweep
    levels (at ``t_end``), events, discoveries, quality summaries."""
    out: list[tuple[float, str, dict[str, Any]]] = []
    for kind in KINDS if kinds is None else [k for k in KINDS if k in kinds]:
        for rec in session.frame(kind).to_dicts():
            if rec.get("t") is not None:
                out.append((float(rec["t"]), kind, rec))
    wanted = (lambda k: True) if kinds is None else kinds.__contains__
    if wanted("sweep_level"):
        for rec in session.frame("sweep_level").to_dicts():
            if rec.get("t_end") is not None:
                out.append((float(rec["t_end"]), "sweep_level", rec))
    if wanted("event"):
        for ev in session.docs("event"):
            if ev.get("t") is not None:
                out.append((float(ev["t"]), "event", ev))
    if wanted("discovery"):
        for doc in session.docs("discovery"):
            out.append((float(doc.get("t") or 0.0), "discovery", doc))
    end = max((r[0] for r in out), default=0.0)
    if wanted("quality_item"):  # the golden answers (older recordings: judged from these)
        items = session.frame("quality_item")
        keep = [c for c in ITEM_COLUMNS if c in items.columns]
        for item in items.select(keep).to_dicts() if keep else ():
            if isinstance(lp := item.get("top_logprobs"), str):  # kept as JSON text
                item["top_logprobs"] = _json_list(lp)
            item = {k: v for k, v in item.items() if v is not None or k in REQUIRED}
            out.append((float(item.get("t") or end), "quality_item", item))
    qs = session.docs("quality_summary") if wanted("quality_summary") else []
    for q in qs:
        out.append((float(q.get("t") or end), "quality_summary", q))
    out.sort(key=lambda r: r[0])
    return out


def _json_list(text: str) -> list[dict[str, float]]:
    """Top logprobs kept as JSON text, numbers only (a scrubbed "[redacted]" is no logprob);
    [] when the text is not a list (a damaged or older record)."""
    try:
        value = json.loads(text)
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [
        {str(k): float(v) for k, v in pos.items() if isinstance(v, int | float)}
        if isinstance(pos, dict) else {}
        for pos in value
    ]  # fmt: skip
