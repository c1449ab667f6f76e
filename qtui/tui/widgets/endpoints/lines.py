"""Text for each line of an endpoint column (pure: snapshot in, markup out)."""

from __future__ import annotations

from textual.markup import escape

from qtui.evidence.accounting import partial_text
from qtui.evidence.memory import concurrency_line
from qtui.live import fmt
from qtui.live.model import EndpointView, Latency

BAR_WIDTH = 24


def title(e: EndpointView) -> str:
    tags = " ★ base" if e.baseline else ""
    sim = " · sim" if e.simulated else ""
    return f"{e.name}{tags}{sim}"


def identity(e: EndpointView) -> str:
    return f"[b]{escape(e.precision)}[/b] · {escape(e.model or fmt.DASH)}"


def memory(e: EndpointView) -> str:
    m = e.gpu_mem
    if m.total is None:
        return f"GPU mem {fmt.DASH} ({m.detail or m.source})"
    return f"GPU mem {fmt.gib(m.used).removesuffix(' GiB')}/{fmt.gib(m.total)}"


def memory_bar(e: EndpointView) -> str:
    """Bar (█ used ▒ reserved ░ free) and the reserved amount beside it."""
    m = e.gpu_mem
    kv = e.memory.kv if e.memory is not None else None
    tok = "" if kv is None or kv.tokens is None else f" KV {kv.tokens / 1000:.0f}k tok"
    if m.shared:
        text = f" shared,{tok}" if tok else " shared GPU"
        return fmt.bar(m.used, m.total, None, BAR_WIDTH - len(text) - 1) + f" [dim]{text[1:]}[/]"
    if tok:  # the KV cache the server states
        return fmt.bar(m.used, m.total, m.reserved, BAR_WIDTH - len(tok)) + tok
    if m.reserved is None:
        return fmt.bar(m.used, m.total, None, BAR_WIDTH)
    return fmt.bar(m.used, m.total, m.reserved, BAR_WIDTH - 12) + f" {fmt.gib(m.reserved)} rsv"


def concurrency(e: EndpointView) -> str:
    """Max concurrent requests the KV cache holds at the workload's length and at max_model_len."""
    if e.memory is None:
        return f"max req {fmt.DASH}"
    return escape(concurrency_line(e.memory, BAR_WIDTH))


def queue(e: EndpointView) -> str:
    if not e.server_metrics:
        return "KV · run · wait: [dim]no /metrics[/]"
    run = fmt.DASH if e.running is None else str(e.running)
    wait = fmt.DASH if e.waiting is None else str(e.waiting)
    return f"KV {fmt.pct(e.kv_usage)} · run {run} · wait {wait}"


def throughput(e: EndpointView) -> str:
    return f"{fmt.tps(e.out_tps)} · {fmt.rps(e.rps)}"


def latency(label: str, lat: Latency) -> str:
    p95 = fmt.ms(lat.p95_s)
    if lat.breached:
        p95 = f"[b $error]{p95}![/]"
    return f"{label:<4} {fmt.ms(lat.p50_s):>8} {p95:>8}"


LATENCY_HEADER = f"{'':<4} {'p50':>8} {'p95':>8}"


def latency_header(lat: Latency) -> str:
    """Says what the percentiles cover: the last N s of requests, or the server's histograms."""
    label = "srv" if lat.window_s is None else f"{lat.window_s:.0f} s"
    return f"[dim]{label:<4}[/] {'p50':>8} {'p95':>8}"


def slo(e: EndpointView) -> str:
    parts = [x.slo_ms for x in (e.ttft, e.itl, e.e2e)]
    vals = "/".join(fmt.DASH if p is None else f"{p:g}" for p in parts)
    return f"SLO {vals} ms"


def errors(e: EndpointView, max_rate: float) -> str:
    """The error rate and the latest outage; with a prefix-sharing workload, the server's
    prefix-cache hit rate."""
    text = f"errors {fmt.pct(e.error_rate, 1)}"
    if e.error_rate is not None and e.error_rate > max_rate:
        text = f"[b $error]{text}![/]"
    if e.outage:
        text += f" · {escape(e.outage)}"
    if e.prefix_hit is not None:
        text += f" · hit {fmt.pct(e.prefix_hit)}"
    return text


def load_notes(e: EndpointView) -> str:
    """Backing off, requests open at a stop, partial tokens: the record's words ('' if none)."""
    parts = [e.backing_off, e.stopped, partial_text(e.partial_tokens)]
    return "; ".join(escape(p) for p in parts if p)


def quality(e: EndpointView) -> str:
    q = e.quality
    if q.verdict == "go":
        verdict = "[b $success]GO[/]"
    elif q.verdict == "no-go":
        verdict = "[b $error]NO-GO[/]"
    else:  # never NO-GO; why (not measured, no floor set, not enough items): cost view, record
        verdict = "[b $warning]NOT DECIDED[/]"
    return f"quality {fmt.pct(q.score, 1)} {verdict}"


def cost_unit(e: EndpointView) -> str:
    c = e.cost
    if c.usd_per_1m is None:
        return f"$/1M tok: {c.reason or fmt.DASH}"
    return f"{fmt.usd(c.usd_per_1m)}/1M tok · ×{c.replicas or fmt.DASH} {c.gpu}"


def cost_month(e: EndpointView) -> str:
    c = e.cost
    if c.monthly_usd is None:
        return f"monthly: {c.reason or fmt.DASH}"
    text = fmt.usd(c.monthly_usd, "/mo")
    if e.baseline:
        return f"{text} (base)"
    if c.delta_pct is not None:
        colour = "$success" if c.delta_pct < 0 else "$error"
        text += f" [{colour}]{fmt.signed_pct(c.delta_pct)}[/]"
    if c.warning:
        text += " [b $error]SLO![/]"
    return text


def energy(e: EndpointView) -> str:
    en = e.energy
    if en.kwh_per_1m is None:
        return f"energy {fmt.DASH} ({en.reason})"
    return f"energy {en.kwh_per_1m:,.3g} kWh/1M tok"
