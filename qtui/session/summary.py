"""Per-endpoint figures from a recorded session (pure polars over the session's frames)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from qtui.evidence.accounting import CANCELLED, OK
from qtui.evidence.levels import seconds_rate
from qtui.session.reader import Session

GIB = 1024**3
_Q = {"p50": 0.5, "p95": 0.95}


@dataclass
class EndpointSummary:
    """What one endpoint did in one session (descriptive: the decision's figures are in
    ``qtui.decision``); None where nothing was measured. ``requests`` counts successes and
    errors; requests cancelled at qtui's own stop are counted apart in ``cancelled``."""

    endpoint: str
    session: str
    precision: str = "?"
    gpu: str = "?"
    gpus_per_replica: int = 1
    requests: int = 0
    errors: int = 0
    cancelled: int = 0
    duration_s: float = 0.0
    rps: float | None = None
    in_tps: float | None = None
    out_tps: float | None = None
    latency_s: dict[str, float | None] = field(default_factory=dict)
    gpu_memory_used_gib: float | None = None
    gpu_memory_total_gib: float | None = None
    gpu_util_pct: float | None = None
    power_w: float | None = None
    quality_items: int = 0
    quality_passed: int = 0
    prefix_hit_rate: float | None = None  # the server's prefix cache, token-weighted over the run

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def quality_success(self) -> float | None:
        return self.quality_passed / self.quality_items if self.quality_items else None

    def p(self, metric: str, q: str = "p95") -> float | None:
        """Latency quantile in seconds, e.g. ``p("ttft", "p95")``."""
        return self.latency_s.get(f"{metric}_{q}")


def _by_endpoint(df: pl.DataFrame) -> dict[str, dict[str, Any]]:
    return {r["endpoint"]: r for r in df.iter_rows(named=True)}


def _requests(s: Session) -> dict[str, dict[str, Any]]:
    if "request" not in s.tables:
        return {}
    lf = s.tables["request"]
    cols = lf.collect_schema().names()
    if "phase" in cols:
        lf = lf.filter(pl.col("phase").is_null() | (pl.col("phase") == "measure"))
    ok = pl.col("error_class").is_null() | (pl.col("error_class") == OK)
    cancelled = pl.col("error_class") == CANCELLED  # qtui's own stop: never an error
    lf = lf.with_columns(cancelled=cancelled.fill_null(False))
    ttft = pl.col("t_first_token") - pl.col("t_send")
    e2e = pl.col("t_end") - pl.col("t_send")
    span = pl.col("t_end").max() - pl.col("t_send").min()
    base = lf.group_by("endpoint").agg(
        requests=(~pl.col("cancelled")).sum(),
        errors=(~ok & ~pl.col("cancelled")).sum(),
        cancelled=pl.col("cancelled").sum(),
        span=span,
        in_tok=pl.col("prompt_tokens").filter(ok).sum(),
        out_tok=pl.col("completion_tokens").filter(ok).sum(),
        **{f"ttft_{q}": ttft.filter(ok).quantile(v, "linear") for q, v in _Q.items()},
        **{f"e2e_{q}": e2e.filter(ok).quantile(v, "linear") for q, v in _Q.items()},
    )
    itl = (
        lf.filter(ok)
        .select("endpoint", itl=pl.col("chunk_times").list.diff(null_behavior="ignore"))
        .select("endpoint", pl.col("itl").list.slice(1))
        .explode("itl")
        .group_by("endpoint")
        .agg(**{f"itl_{q}": pl.col("itl").quantile(v, "linear") for q, v in _Q.items()})
    )
    a, b = pl.collect_all([base, itl])
    return _by_endpoint(a.join(b, on="endpoint", how="left"))


def _gpu(s: Session) -> dict[str, dict[str, Any]]:
    if "gpu_sample" not in s.tables:
        return {}
    per_gpu = (
        s.tables["gpu_sample"]
        .filter(pl.col("endpoint").is_not_null())
        .group_by("endpoint", "gpu")
        .agg(
            used=pl.col("memory_used").max(),
            total=pl.col("memory_total").max(),
            util=pl.col("util").mean(),
            power=pl.col("power_w").mean(),
        )
    )
    df = (
        per_gpu.group_by("endpoint")
        .agg(pl.col("used").sum(), pl.col("total").sum(), pl.col("util").mean(), pl.col("power"))
        .collect()
    )
    return _by_endpoint(df)


def _quality(s: Session) -> dict[str, tuple[int, int]]:
    if "quality_item" in s.tables:
        df = (
            s.tables["quality_item"]
            .group_by("endpoint")
            .agg(n=pl.len(), k=pl.col("passed").cast(pl.Int64).sum())
            .collect()
        )
        return {r["endpoint"]: (int(r["n"]), int(r["k"] or 0)) for r in df.iter_rows(named=True)}
    out = {}
    for rec in s.docs("quality_summary"):
        if rec.get("items"):
            out[str(rec["endpoint"])] = (int(rec["items"]), int(rec.get("passed") or 0))
    return out


def _prefix(s: Session) -> dict[str, float]:
    """Each endpoint's prefix-cache hit rate over the run: its per-second rates (vLLM's
    ``prefix_cache_hits`` / ``prefix_cache_queries``) weighted by the prompt tokens of each
    second, so a busy second counts as its tokens do; seconds without either are left out."""
    if "server_second" not in s.tables:
        return {}
    lf = s.tables["server_second"]
    if not {"prefix_cache_hit_rate", "prompt_tps"} <= set(lf.collect_schema().names()):
        return {}
    df = (
        lf.filter(
            pl.col("prefix_cache_hit_rate").is_not_null()
            & pl.col("prompt_tps").is_not_null()
            & (pl.col("prompt_tps") > 0)
        )
        .group_by("endpoint")
        .agg(
            hits=(pl.col("prefix_cache_hit_rate") * pl.col("prompt_tps")).sum(),
            tokens=pl.col("prompt_tps").sum(),
        )
        .collect()
    )
    return {r["endpoint"]: r["hits"] / r["tokens"] for r in df.iter_rows(named=True) if r["tokens"]}


def _delivered(s: Session) -> dict[str, float]:
    """Output tok/s each endpoint delivered over its recorded seconds, by the rule its held
    capacity is read with (`seconds_rate`): one throughput for the record's comparison and its
    "Measured under load" table of a held run. Sessions without client seconds: none."""
    if "client_second" not in s.tables:
        return {}
    lf = s.tables["client_second"]
    if not {"endpoint", "out_tps"} <= set(lf.collect_schema().names()):
        return {}
    rows: dict[str, list[dict[str, Any]]] = {}
    if "phase" in lf.collect_schema().names():  # warm-up and cool-down seconds: not measured
        lf = lf.filter(pl.col("phase").is_null() | (pl.col("phase") == "measure"))
    cols = pl.col("^(endpoint|out_tps|duration_s|unpaid_tokens)$")
    for r in lf.select(cols).collect().iter_rows(named=True):
        rows.setdefault(str(r["endpoint"]), []).append(r)
    return {n: v for n, secs in rows.items() if (v := seconds_rate(secs, "out_tps")) is not None}


def _total(values: list[float | None] | None) -> float | None:
    """Sum of the known values; None when none is known."""
    known = [v for v in values or [] if v is not None]
    return sum(known) if known else None


def summarize(s: Session) -> list[EndpointSummary]:
    """One row per endpoint, in profile order; the SLOs come from the recorded profile."""
    reqs, gpus, quality, prefix = _requests(s), _gpu(s), _quality(s), _prefix(s)
    delivered = _delivered(s)
    eps = {e.name: e for e in s.profile.endpoints} if s.profile else {}
    rows = []
    for name in s.endpoints:
        ep = eps.get(name)
        r = reqs.get(name, {})
        g = gpus.get(name, {})
        span = float(r.get("span") or 0.0)
        n_ok = (r.get("requests") or 0) - (r.get("errors") or 0)
        row = EndpointSummary(
            endpoint=name,
            session=s.label,
            precision=ep.precision if ep else "?",
            gpu=ep.gpu if ep else "?",
            gpus_per_replica=ep.gpus_per_replica if ep else 1,
            requests=int(r.get("requests") or 0),
            errors=int(r.get("errors") or 0),
            cancelled=int(r.get("cancelled") or 0),
            duration_s=span,
            rps=n_ok / span if span > 0 else None,
            in_tps=(r.get("in_tok") or 0) / span if span > 0 else None,
            # tokens delivered per second (cut streams included); without client seconds
            # (older records), the completed requests' tokens over their span
            out_tps=delivered.get(name, (r.get("out_tok") or 0) / span if span > 0 else None),
            latency_s={f"{m}_{q}": r.get(f"{m}_{q}") for m in ("ttft", "itl", "e2e") for q in _Q},
            gpu_memory_used_gib=g["used"] / GIB if g.get("used") is not None else None,
            gpu_memory_total_gib=g["total"] / GIB if g.get("total") is not None else None,
            gpu_util_pct=g.get("util"),
            power_w=_total(g.get("power")),
            prefix_hit_rate=prefix.get(name),
        )
        row.quality_items, row.quality_passed = quality.get(name, (0, 0))
        rows.append(row)
    return rows
