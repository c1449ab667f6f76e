"""The decision record: one document model rendered as Markdown and self-contained HTML, plus CSV.

``build_document`` is pure (Decision → blocks); ``write_report`` is the only function with I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import polars as pl

from qtui.config.describe import workload_text
from qtui.config.profile import Load, QualityFloor, Workload
from qtui.cost.figure import Figure
from qtui.evidence.capacity import capacity_text
from qtui.evidence.memory import (
    GIB,
    latest_stated,
    measured_context,
    memory,
    peak_kv_usage,
    preemptions,
    recorded_weights,
    workload_context,
)
from qtui.evidence.turns import turn_text
from qtui.quality.floor import FLOOR_HINT
from qtui.session.decision import Decision, decide
from qtui.session.reader import Session, load_session
from qtui.session.svg import bar_chart, line_chart
from qtui.session.turns import session_turns, session_turns_by_level
from qtui.session.workloads import clock, workload_spans


@dataclass(frozen=True)
class Block:
    """A heading (h1/h2), paragraph, list, table or chart."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:,.0f}"


def _num(v: float | None, digits: int = 1, suffix: str = "") -> str:
    return "—" if v is None else f"{v:,.{digits}f}{suffix}"


def _fig(f: Figure) -> str:
    return f.text if f.ok else f"— ({f.reason})"


def _iso(t: float | None) -> str:
    if t is None:
        return "?"
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def floor_text(floor: QualityFloor) -> str:
    """The quality floor as the record states it, or that none is set and how to set one."""
    if not floor.is_set:
        return (
            "quality: no floor set, so no precision's quality can be decided; add "
            f"`{FLOOR_HINT}` to the profile"
        )
    limits = []
    if floor.max_drop_vs_baseline is not None:
        limits.append(
            f"at most {floor.max_drop_vs_baseline * 100:.1f} points below the baseline on the "
            "paired items (the whole 95% interval of the drop, Newcombe's paired score interval)"
        )
    if floor.min_success is not None:
        limits.append(f"success ≥ {floor.min_success:.1%} (95% Wilson interval)")
    if floor.max_schema_failure is not None:
        limits.append(f"schema failures ≤ {floor.max_schema_failure:.1%} (95% Wilson interval)")
    return (
        "quality: " + "; ".join(limits) + f"; at least {floor.min_items} items; GO when every "
        "interval is inside its limit, NO-GO when one is wholly outside, else NOT DECIDED"
    )


def comparison_table(d: Decision) -> Block:
    """Precision × p95 × tok/s × quality × $/1M × monthly × reduction × decision."""
    header = (
        "endpoint",
        "precision",
        "p95 e2e at capacity (ms)",
        "output tok/s per replica",
        "quality success (%)",
        "quality vs baseline (pp)",
        "$/1M output tokens (USD)",
        "replicas",
        "monthly cost (USD/month)",
        "reduction vs baseline (%)",
        "decision",
    )
    rows = []
    for r in d.rows:
        fin, s = r.finance, r.summary
        q = s.quality_success
        rows.append(
            (
                s.endpoint + (" (baseline)" if fin.is_baseline else ""),
                s.precision,
                _ms(fin.p95.value) if fin.p95.ok else f"— ({fin.p95.reason})",
                _num(fin.output_tps.value) if fin.output_tps.ok else "—",
                _num(None if q is None else q * 100),
                _num(r.quality_delta_pp, 1),
                _num(fin.usd_per_m_output.value, 3) if fin.usd_per_m_output.ok else "—",
                fin.sizing.text,
                _num(fin.monthly.value, 0) if fin.monthly.ok else "—",
                _num(fin.reduction_pct.value, 1) if fin.reduction_pct.ok else "—",
                r.judgement.verdict,
            )
        )
    return Block("table", header=header, rows=tuple(rows))


def quality_blocks(d: Decision) -> list[Block]:
    """The noise floor with every precision's flips and KL next to it, and the quality verdict
    per tag (so a review can approve a precision for some tasks only); [] without a golden run."""
    js = [r.judgement for r in d.rows]
    if not any(j.quality is not None for j in js):
        return []
    floor = d.outcome.noise_floor or "noise floor: not measured"
    noise = tuple(f"{j.name}: {j.noise}" for j in js if not j.is_baseline and j.noise)
    blocks = [Block("h2", "Quality: the noise floor"), Block("ul", items=(floor, *noise))]
    tags = sorted({t for j in js for t, _, _ in j.by_tag})
    if tags:
        cells = {(j.name, t): w for j in js for t, w, _ in j.by_tag}
        blocks += [
            Block("h2", "Quality per tag"),
            Block(
                "p",
                "The same floor and rule on each tag's items only: a precision GO on a tag may "
                "serve that task while the others keep the baseline.",
            ),
            Block(
                "table",
                header=("tag", *(j.name for j in js)),
                rows=tuple((t, *(cells.get((j.name, t), "—") for j in js)) for t in tags),
            ),
        ]
    return blocks


def measured_table(d: Decision) -> Block:
    header = (
        "endpoint",
        "requests",
        "error rate (%)",
        "req/s",
        "output tok/s",
        "TTFT p50 (ms)",
        "TTFT p95 (ms)",
        "ITL p50 (ms)",
        "ITL p95 (ms)",
        "e2e p50 (ms)",
        "e2e p95 (ms)",
        "prefix-cache hits (%)",
        "GPU memory used (GiB)",
        "capacity",
    )
    rows = []
    for r in d.rows:
        s = r.summary
        er = s.error_rate
        rows.append(
            (
                s.endpoint,
                f"{s.requests:,}",
                _num(None if er is None else er * 100, 2),
                _num(s.rps, 2),
                _num(s.out_tps),
                *(_ms(s.p(m, q)) for m in ("ttft", "itl", "e2e") for q in ("p50", "p95")),
                _num(None if s.prefix_hit_rate is None else s.prefix_hit_rate * 100),
                _num(s.gpu_memory_used_gib),
                capacity_text(r.capacity),
            )
        )
    return Block("table", header=header, rows=tuple(rows))


def turns_blocks(d: Decision) -> list[Block]:
    """TTFT per turn position of multi-turn conversations (none without conversations)."""
    turns = session_turns(d.session)
    if not turns:
        return []
    header = ("endpoint", "turn", "requests", "TTFT p50 (ms)", "TTFT p95 (ms)")
    rows = tuple(
        (name, t.label, f"{t.requests:,}", _ms(t.p50), _ms(t.p95))
        for name, ts in turns.items()
        for t in ts
    )
    blocks = [
        Block("h2", "TTFT per turn position"),
        Block(
            "p",
            "Each turn resends the conversation so far (its earlier turns and the server's "
            "answers); turn 1 has no history, turns 2+ can reuse it from the prefix cache.",
        ),
        Block("table", header=header, rows=rows),
        Block("ul", items=tuple(f"{name}: {turn_text(ts)}" for name, ts in turns.items())),
    ]
    by_level = session_turns_by_level(d.session)
    if len({lv for _, lv in by_level}) > 1:  # a sweep: turn 1 vs later turns at each step
        blocks.append(
            Block(
                "ul",
                items=tuple(
                    f"{name} at level {lv:g}: {turn_text(ts)}"
                    for (name, lv), ts in by_level.items()
                ),
            )
        )
    return blocks


def memory_table(d: Decision) -> Block:
    """KV cache as each server states it (vllm:cache_config_info); weights estimated."""
    header = (
        "endpoint",
        "KV cache (tokens)",
        "KV cache (GiB)",
        "KV dtype",
        "blocks × size",
        "max concurrent (requests of the workload's length)",
        "max concurrent (requests of max_model_len)",
        "peak KV use (%)",
        "preemptions",
        "weights (GiB)",
    )
    events = d.session.docs("event")
    rows_ss = d.session.frame("server_second").to_dicts()
    cols = ("endpoint", "prompt_tokens", "completion_tokens", "error_class")
    rows_rq = d.session.table("request").select(cols).collect().to_dicts()
    wl = d.profile.workload
    profile_ctx = workload_context(wl.mean_input_tokens, wl.output_tokens.mean)
    models = {
        e.name: e.model or (e.simulate.model if e.simulate else "") for e in d.profile.endpoints
    }
    rows = []
    for r in d.rows:
        name = r.summary.endpoint
        ctx = measured_context(rows_rq, name) or profile_ctx
        stated = recorded_weights(events, name)
        m = memory(
            latest_stated(rows_ss, name), models.get(name) or "", r.summary.precision, ctx, stated
        )
        pre = preemptions(rows_ss, name)
        kv, w = m.kv, m.weights
        peak = peak_kv_usage(rows_ss, name)
        mml = m.max_model_len
        wlc = m.workload_concurrency
        rows.append(
            (
                name,
                f"{kv.tokens:,}" if kv.tokens is not None else f"unknown: {kv.reason}",
                _num(None if kv.bytes is None else kv.bytes / GIB, 2),
                kv.dtype or "—",
                "—" if kv.blocks is None else f"{kv.blocks:,} × {kv.block_size}",
                "—" if wlc is None else f"{wlc:,.1f} at {ctx.tokens:,.0f} tok ({ctx.basis})",
                "—"
                if kv.max_concurrency is None or mml is None
                else f"{kv.max_concurrency:,.1f} at {mml:,.0f} tok",
                _num(None if peak is None else peak * 100, 1),
                "— (not reported)" if pre is None else f"{pre:,.0f}",
                (
                    f"{w.bytes / GIB:.2f} ({w.basis})"
                    if w.bytes is not None
                    else f"unknown: {w.basis}"
                ),
            )
        )
    return Block("table", header=header, rows=tuple(rows))


def gpu_table(d: Decision) -> Block:
    """Cheapest GPU per precision: every GPU type in qtui/data/gpus.toml, fitting and priced
    first and cheapest first; measured rows marked; each projection with its basis; the fit
    check (weights + KV for the SLO concurrency vs memory × the profile's fraction)."""
    header = (
        "endpoint",
        "precision",
        "GPU",
        "capacity",
        "replicas",
        "monthly cost (USD/month)",
        "fit check",
    )
    rows = []
    for name, options in d.gpu_options.items():
        for o in options:
            m, reps = o.finance.monthly, o.finance.replicas
            rows.append(
                (
                    name,
                    o.precision,
                    o.gpu + (" (measured)" if o.on.measured else ""),
                    capacity_text(o.on.capacity),
                    reps.text if reps.value is not None else f"— ({reps.reason})",
                    _num(m.value, 0) if m.value is not None else f"— ({m.reason})",
                    ("fits: " if o.fits else "") + o.on.fit_text,
                )
            )
    return Block("table", header=header, rows=tuple(rows))


def _series_chart(s: Session, column: str, title: str, unit: str, scale: float) -> str | None:
    if "client_second" not in s.tables:
        return None
    lf = s.tables["client_second"]
    if column not in lf.collect_schema().names():
        return None
    df = lf.select("endpoint", "t", column).sort("t").collect()
    if df.is_empty():
        return None
    t0 = float(df["t"].min())  # type: ignore[arg-type]
    series = {}
    for name in df["endpoint"].unique(maintain_order=True).to_list():
        part = df.filter(pl.col("endpoint") == name)
        step = max(1, part.height // 400)
        part = part.gather_every(step)
        xs = ((part["t"] - t0) / 60).to_list()
        ys = [None if v is None else v * scale for v in part[column].to_list()]
        series[str(name)] = (xs, ys)
    return line_chart(title, series, unit)


def _review_note(s: Session) -> str:
    """What a review session adds: whose review, when, and how many changes it made."""
    if not s.header.get("review_of"):
        return ""
    n = sum(1 for e in s.docs("event") if e.get("review") and e.get("kind") == "whatif")
    return (
        f" This is a review of `{s.header['review_of']}` made {_iso(s.header.get('reviewed'))}: "
        f"{n} what-if change(s) made in the review are applied (listed below)."
    )


def workload_lines(s: Session, wl: Workload) -> list[str]:
    """The workload line, or one line per span where the app's `w` switched it mid-run."""
    span = s.time_range or (0.0, 0.0)
    spans = workload_spans(s.docs("event"), wl.kind, span[0], span[1])
    if len({sp.kind for sp in spans}) <= 1:
        return [f"workload: {workload_text(wl, spans[0].kind if spans else None)}; API: {wl.api}"]
    head = f"workload: switched with `w` during the run ({len(spans)} spans); API: {wl.api}"
    return [head] + [
        f"{clock(sp.start)}–{clock(sp.end)}: {workload_text(wl, sp.kind)}" for sp in spans
    ]


def input_lengths_lines(s: Session) -> list[str]:
    """What the load engine said of input lengths (exact from /tokenize, or estimated) and of
    the workload's file (its SHA-256), each different statement once in the order made; none
    in sessions from before it said."""
    said: list[str] = []
    for e in s.docs("event"):
        if e.get("kind") == "load" and e.get("key") in ("input_lengths", "workload_file"):
            v = str(e.get("value"))
            if v not in said:
                said.append(v)
    return said


def build_document(d: Decision) -> list[Block]:
    """The decision record's content, in order (pure)."""
    p, s = d.profile, d.session
    slo, floor, wl, load, cost = p.slo, p.slo.quality, p.workload, p.load, p.cost
    span = s.time_range
    blocks = [
        Block("h1", f"Decision record: {p.profile.name}"),
        Block(
            "p",
            f"Session `{s.path.name}` recorded {_iso(s.header.get('created'))} with qtui "
            f"{s.header.get('qtui_version')} (format v{s.header.get('version')}); "
            + (f"{(span[1] - span[0]) / 60:.1f} minutes of data; " if span else "")
            + f"baseline **{d.baseline}**. {p.profile.description}"
            + _review_note(s),
        ),
        Block("h2", "Recommendation"),
    ]
    if d.recommended:
        r = d.row(d.recommended)
        blocks.append(
            Block(
                "p",
                f"**Deploy {d.recommended} ({r.summary.precision}) with "
                f"{r.finance.replicas.text} replica(s)**: {_fig(r.finance.monthly)}; savings "
                f"{_fig(d.savings)} ({_fig(d.reduction)} vs {d.baseline}). {d.why}.",
            )
        )
    else:
        blocks.append(Block("p", f"**No change recommended.** {d.why}."))
    blocks += [
        Block("h2", "Workload"),
        Block(
            "ul",
            items=(
                *workload_lines(s, wl),
                *input_lengths_lines(s),
                "load: " + _load_words(load) + f"; {load.duration_s:g} s per run",
                f"traffic target: {_fig(d.comparison.peak_rps)} at peak, headroom "
                f"{cost.headroom:g}×, {cost.hours_per_month:g} hours/month",
            ),
        ),
        Block("h2", "SLOs and quality floor"),
        Block(
            "ul",
            items=(
                "TTFT p95 ≤ "
                + (f"{slo.ttft_p95_ms:g} ms" if slo.ttft_p95_ms else "(no SLO)")
                + "; ITL p95 ≤ "
                + (f"{slo.itl_p95_ms:g} ms" if slo.itl_p95_ms else "(no SLO)")
                + "; end-to-end p95 ≤ "
                + (f"{slo.e2e_p95_ms:g} ms" if slo.e2e_p95_ms else "(no SLO)"),
                f"error rate ≤ {slo.max_error_rate:.1%}",
                floor_text(floor),
            ),
        ),
        Block("h2", "Comparison per precision"),
        comparison_table(d),
        Block("h2", "Go / no-go"),
        Block(
            "ul",
            items=tuple(
                f"**{r.summary.endpoint}: {r.judgement.verdict}**: " + "; ".join(r.reasons)
                for r in d.rows
            ),
        ),
        *quality_blocks(d),
        Block("h2", "Measured under load"),
        measured_table(d),
        *turns_blocks(d),
        Block("h2", "Where the memory goes"),
        memory_table(d),
        Block("h2", "Cheapest GPU per precision"),
        Block(
            "p",
            "Each precision on every GPU type in qtui/data/gpus.toml at the traffic target, at "
            "the cheapest price the loaded price tables give; a measured capacity wins, else "
            "it is projected from the GPU it was measured on (decode by memory bandwidth, "
            "prefill by dense TFLOPS at the precision, the decode share from the measured "
            "TTFT and ITL; docs/memory.md). A precision that does not fit a GPU has no capacity "
            "there.",
        ),
        gpu_table(d)
        if any(d.gpu_options.values())
        else Block("p", "No precision was measured on a GPU in qtui/data/gpus.toml."),
    ]
    charts = [
        bar_chart(
            "Cost per 1M output tokens",
            [r.summary.endpoint for r in d.rows],
            [r.finance.usd_per_m_output.value for r in d.rows],
            "USD/1M tokens",
        ),
        bar_chart(
            "Monthly cost at the traffic target",
            [r.summary.endpoint for r in d.rows],
            [r.finance.monthly.value for r in d.rows],
            "USD/month",
        ),
        _series_chart(s, "e2e_p95", "End-to-end latency p95 per second", "ms", 1000.0),
        _series_chart(s, "out_tps", "Output tokens per second", "tok/s", 1.0),
    ]
    blocks.append(Block("h2", "Charts"))
    blocks += [Block("svg", c) for c in charts if c]
    tables = d.comparison.tables
    blocks += [
        Block("h2", "Prices and assumptions"),
        Block(
            "ul",
            items=tuple(
                f"price table {t.name}: {t.provider} {t.region}, as of {t.as_of} ({t.source})"
                for t in tables
            )
            + tuple(
                f"{r.summary.endpoint}: {r.finance.price_label or _fig(r.finance.usd_per_gpu_hour)}"
                for r in d.rows
            )
            + tuple(
                f"{r.summary.endpoint}: energy at measured GPU power (not in the monthly cost) "
                + _fig(r.finance.energy_month)
                + (f": {r.finance.energy_month.note}" if r.finance.energy_month.ok else "")
                for r in d.rows
            )
            + tuple(d.notes),
        ),
        Block("h2", "Monitoring plan"),
        Block("p", "_To be written: which metrics, dashboards and alert thresholds, and who._"),
        Block("h2", "Rollback plan"),
        Block("p", "_To be written: the trigger, the steps back to the baseline, and the owner._"),
    ]
    return blocks


# --- rendering ------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind == "h1":
            out.append(f"# {b.text}\n")
        elif b.kind == "h2":
            out.append(f"## {b.text}\n")
        elif b.kind == "p":
            out.append(f"{b.text}\n")
        elif b.kind == "ul":
            out.append("\n".join(f"- {i}" for i in b.items) + "\n")
        elif b.kind == "table":
            out.append("| " + " | ".join(map(_md_cell, b.header)) + " |")
            out.append("|" + "|".join("---" for _ in b.header) + "|")
            out += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in b.rows]
            out.append("")
        elif b.kind == "svg":
            title = re.search(r'aria-label="([^"]*)"', b.text)
            out.append(f"_Chart: {title.group(1) if title else 'chart'} (see the HTML record)._\n")
    return "\n".join(out)


def _inline(text: str) -> str:
    html = escape(text)
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    html = re.sub(r"`(.+?)`", r"<code>\1</code>", html)
    return re.sub(r"(?<![\w])_(.+?)_(?![\w])", r"<em>\1</em>", html)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #333}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f2f2f2}
td:first-child,th:first-child{text-align:left}
tr:nth-child(even){background:#fafafa}code{background:#f4f4f4;padding:0 3px}
svg{display:block;margin:1em 0}
"""


def to_html(blocks: list[Block]) -> str:
    title = next((b.text for b in blocks if b.kind == "h1"), "qtui decision record")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
    ]
    for b in blocks:
        if b.kind in ("h1", "h2"):
            out.append(f"<{b.kind}>{_inline(b.text)}</{b.kind}>")
        elif b.kind == "p":
            out.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th>{escape(h)}</th>" for h in b.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in b.rows
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif b.kind == "svg":
            out.append(b.text)
    out.append("</body></html>")
    return "\n".join(out)


# --- CSV -------------------------------------------------------------------------------------


def summary_frame(d: Decision) -> pl.DataFrame:
    """One row per endpoint, units in the column names, plain numbers (for spreadsheets)."""

    def v(f: Figure) -> float | None:
        return f.value

    rows = []
    for r in d.rows:
        s, fin = r.summary, r.finance
        er, q = s.error_rate, s.quality_success
        rows.append(
            {
                "session": s.session,
                "endpoint": s.endpoint,
                "precision": s.precision,
                "gpu": s.gpu,
                "baseline": fin.is_baseline,
                "requests": s.requests,
                "errors": s.errors,
                "error_rate_pct": None if er is None else er * 100,
                "throughput_req_per_s": s.rps,
                "output_tok_per_s": s.out_tps,
                **{
                    f"{m}_{qq}_ms": None if s.p(m, qq) is None else s.p(m, qq) * 1000  # type: ignore[operator]
                    for m in ("ttft", "itl", "e2e")
                    for qq in ("p50", "p95")
                },
                "capacity_req_per_s_per_replica": r.capacity.rps if r.capacity.usable else None,
                "capacity_basis": r.capacity.qualifier or r.capacity.reason,
                "capacity_lower_bound": r.capacity.lower_bound,
                "capacity_client_bound": r.capacity.client_bound,
                "cancelled_at_stop": s.cancelled,
                "silent_at_stop": r.judgement.silent_at_stop,
                "partial_tokens": r.judgement.partial_tokens,
                "capacity_output_tok_per_s_per_replica": v(fin.output_tps),
                "gpu_memory_used_gib": s.gpu_memory_used_gib,
                "quality_success_pct": None if q is None else q * 100,
                "quality_vs_baseline_pp": r.quality_delta_pp,
                "price_usd_per_gpu_hour": v(fin.usd_per_gpu_hour),
                "cost_usd_per_1m_output_tokens": v(fin.usd_per_m_output),
                "replicas": v(fin.replicas),
                "monthly_cost_usd": v(fin.monthly),
                "energy_usd_per_month": v(fin.energy_month),
                "reduction_vs_baseline_pct": v(fin.reduction_pct),
                "quality_noise_floor": r.judgement.noise_words or None,
                "decision": r.judgement.status,
                "decision_undecided": r.judgement.undecided,
                "recommended": s.endpoint == d.recommended,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def series_frame(s: Session) -> pl.DataFrame:
    """Per endpoint and second: client, server and GPU figures joined, ISO UTC timestamps."""
    key = ["endpoint", "second"]
    sec = (pl.col("t").floor()).cast(pl.Int64).alias("second")
    client = s.table("client_second").select(
        "endpoint",
        sec,
        pl.col("requests").alias("requests_completed"),
        pl.col("rps").alias("throughput_req_per_s"),
        pl.col("in_tps").alias("input_tok_per_s"),
        pl.col("out_tps").alias("output_tok_per_s"),
        *(
            (pl.col(f"{m}_{q}") * 1000).alias(f"{m}_{q}_ms")
            for m in ("ttft", "itl", "e2e")
            for q in ("p50", "p95")
        ),
    )
    server = s.table("server_second").select(
        "endpoint",
        sec,
        pl.col("running").alias("running_requests"),
        pl.col("waiting").alias("waiting_requests"),
        (pl.col("kv_cache_usage") * 100).alias("kv_cache_usage_pct"),
    )
    gpu = (
        s.table("gpu_sample")
        .filter(pl.col("endpoint").is_not_null())
        .group_by("endpoint", sec)
        .agg(
            (pl.col("memory_used").max() / 1024**3).alias("gpu_memory_used_gib"),
            pl.col("util").mean().alias("gpu_util_pct"),
            pl.col("power_w").mean().alias("gpu_power_w"),
        )
    )
    df = (
        client.join(server, on=key, how="full", coalesce=True)
        .join(gpu, on=key, how="left")
        .sort(key)
        .collect()
    )
    when = pl.from_epoch(pl.col("second"), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return df.select(when.alias("time_utc"), pl.exclude("second"))


def write_report(
    sessions: list[Path], out: Path, on_warning: Callable[[str], None] | None = None
) -> list[Path]:
    """Write ``<name>-decision.md/.html``, ``<name>-summary.csv``, ``<name>-series.csv``.

    Several sessions are merged into one comparison (clashing endpoint names get the session's
    label); each session's reading warnings go to ``on_warning`` (one line each).
    """
    from qtui.session.compare import merge_sessions

    loaded = [load_session(p) for p in sessions]
    for s in loaded:
        for w in s.warnings:
            if on_warning is not None:
                on_warning(w)
    session = merge_sessions(loaded)
    decision = decide(session)
    blocks = build_document(decision)
    out.mkdir(parents=True, exist_ok=True)
    stem = "+".join(p.name.split(".")[0] for p in sessions)
    files = {
        out / f"{stem}-decision.md": to_markdown(blocks),
        out / f"{stem}-decision.html": to_html(blocks),
    }
    for path, text in files.items():
        path.write_text(text, "utf-8")
    summary_csv, series_csv = out / f"{stem}-summary.csv", out / f"{stem}-series.csv"
    summary_frame(decision).write_csv(summary_csv)
    series_frame(session).write_csv(series_csv, float_precision=6)
    return [*files, summary_csv, series_csv]


def _load_words(load: Load) -> str:
    """The load the profile asked for, in the words of its mode only: a concurrency run names
    its users, a rate run its arrivals, a sweep its levels."""
    if load.mode == "sweep":
        return f"sweep by {load.sweep_by}, levels {', '.join(f'{x:g}' for x in load.sweep.levels)}"
    if load.mode == "rate":
        return f"rate {load.rate:g} req/s (open loop)"
    return f"concurrency {load.concurrency} users (closed loop)"
