"""Deterministic synthetic sessions (tests, benchmarks, demos): same arguments, same records."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from qtui.config.pricing import PriceTable
from qtui.config.profile import Profile
from qtui.session.writer import SessionWriter

T0 = 1_780_000_000.0
"""2026-05-28T20:26:40Z: a fixed start so generated sessions are byte-for-byte repeatable."""

GIB = 1024**3


@dataclass(frozen=True)
class Flavour:
    """How one precision behaves in the synthetic world (relative to BF16)."""

    name: str
    precision: str
    speed: float  # decode speed-up
    weights_gib: float
    quality: float  # probability a golden item passes


FLAVOURS = (
    Flavour("bf16", "bf16", 1.0, 15.0, 0.92),
    Flavour("fp8", "fp8", 1.45, 8.0, 0.90),
    Flavour("int8", "int8", 1.3, 8.2, 0.89),
    Flavour("int4-awq", "int4-awq", 1.8, 5.0, 0.78),
)

SYNTH_PRICES: dict[str, Any] = {
    "table": {
        "provider": "Synthetic Cloud",
        "region": "nowhere-1",
        "source": "qtui.session.synth (made-up prices for tests)",
        "as_of": "2026-01",
    },
    "rows": [
        {
            "gpu": "H100",
            "instance": "synth.h100x1",
            "gpus_per_instance": 1,
            "region": "nowhere-1",
            "on_demand_usd_per_hour": 4.0,
            "spot_usd_per_hour": 2.0,
        }
    ],
}


def synth_profile(endpoints: int = 2, sweep_levels: tuple[float, ...] = (1, 4, 16, 32)) -> Profile:
    """A profile like demo.toml for ``endpoints`` of the flavours (BF16 first, the baseline)."""
    eps = [
        {
            "name": f.name,
            "url": f"http://127.0.0.1:{8000 + i}",
            "precision": f.precision,
            "gpu": "H100",
            "api_key_env": "QTUI_SYNTH_KEY",
            "price_table": None,
        }
        for i, f in enumerate(FLAVOURS[:endpoints])
    ]
    return Profile.model_validate(
        {
            "profile": {"name": "synthetic", "description": "generated", "baseline": "bf16"},
            "endpoints": eps,
            "load": {"mode": "sweep", "sweep": {"levels": list(sweep_levels)}},
            "slo": {
                "ttft_p95_ms": 800,
                "itl_p95_ms": 40,
                "e2e_p95_ms": 8000,
                "quality": {"min_success": 0.7, "max_drop_vs_baseline": 0.1, "min_items": 20},
            },
            "cost": {"price_table": "synth", "peak_rps": 20, "hours_per_month": 730},
        }
    )


def _latency(rng: np.random.Generator, f: Flavour, conc: float, n: int) -> tuple[Any, Any]:
    """TTFT (s) and inter-token latency (s) for ``n`` requests at concurrency ``conc``."""
    load = 1 + conc / 24
    ttft = rng.gamma(4.0, 0.03 * load**1.6 / f.speed, n)
    itl = 0.012 * load / f.speed * rng.uniform(0.9, 1.1, n)
    return ttft, itl


def _requests(
    rng: np.random.Generator,
    f: Flavour,
    t_start: float,
    seconds: float,
    rate: float,
    level: float,
    error_rate: float = 0.0,
) -> list[dict[str, Any]]:
    n = rng.poisson(rate * seconds)
    sends = np.sort(rng.uniform(t_start, t_start + seconds, n))
    ttft, itl = _latency(rng, f, level, n)
    out_tok = rng.integers(96, 161, n)
    in_tok = rng.integers(384, 641, n)
    errors = rng.random(n) < error_rate
    rows = []
    for i in range(n):
        steps = np.full(int(out_tok[i]), itl[i]) * rng.uniform(0.7, 1.3, int(out_tok[i]))
        steps[0] = ttft[i]
        chunks = np.round(np.cumsum(steps), 6)
        err = bool(errors[i])
        rows.append(
            {
                "endpoint": f.name,
                "request_id": f"{f.name}-{t_start:.0f}-{i}",
                "phase": "measure",
                "level": level,
                "t_send": float(sends[i]),
                "t_first_token": None if err else float(sends[i] + chunks[0]),
                "t_end": float(sends[i] + (0.05 if err else chunks[-1])),
                "chunk_times": [] if err else chunks.tolist(),
                "prompt_tokens": int(in_tok[i]),
                "completion_tokens": 0 if err else int(out_tok[i]),
                "usage_source": "server",
                "finish_reason": None if err else "length",
                "error_class": "http" if err else "none",
                "error_detail": "HTTP 503" if err else "",
                "http_status": 503 if err else 200,
            }
        )
    return rows


def _client_seconds(reqs: pl.DataFrame, name: str, t0: float, seconds: int) -> list[dict[str, Any]]:
    """Per-second client windows computed from the requests that ended in each second."""
    ok = reqs.filter(pl.col("error_class") == "none")
    per = (
        ok.with_columns(
            sec=(pl.col("t_end") - t0).floor().cast(pl.Int64),
            ttft=pl.col("t_first_token") - pl.col("t_send"),
            e2e=pl.col("t_end") - pl.col("t_send"),
            itl=(pl.col("t_end") - pl.col("t_first_token")) / (pl.col("completion_tokens") - 1),
        )
        .group_by("sec")
        .agg(
            requests=pl.len(),
            in_tok=pl.col("prompt_tokens").sum(),
            out_tok=pl.col("completion_tokens").sum(),
            **{
                f"{m}_{q}": pl.col(m).quantile(int(q[1:]) / 100, "linear")
                for m in ("ttft", "itl", "e2e")
                for q in ("p50", "p90", "p95", "p99")
            },
        )
    )
    by_sec = {r["sec"]: r for r in per.iter_rows(named=True)}
    rows = []
    for s in range(seconds):
        r = by_sec.get(s, {})
        n = r.get("requests", 0)
        row: dict[str, Any] = {
            "endpoint": name,
            "t": t0 + s + 1,
            "requests": n,
            "rps": float(n),
            "in_tps": float(r.get("in_tok", 0)),
            "out_tps": float(r.get("out_tok", 0)),
            "in_flight": 0,
            "errors": {"connect": 0, "timeout": 0, "http": 0},
        }
        for m in ("ttft", "itl", "tpot", "e2e"):
            for q in ("p50", "p90", "p95", "p99"):
                row[f"{m}_{q}"] = r.get(f"{'itl' if m == 'tpot' else m}_{q}")
        rows.append(row)
    return rows


def write_synthetic_session(
    path: str | Path,
    *,
    endpoints: int = 2,
    minutes: float = 5.0,
    rate: float = 2.0,
    sweep_step_s: float = 20.0,
    quality_items: int = 100,
    seed: int = 0,
    finalise: bool = True,
) -> Path:
    """Write a complete session: profile, prices, discovery, a sweep, steady load, GPU samples at
    2 Hz, server seconds, quality items and summaries, and a few what-if events."""
    rng = np.random.default_rng(seed)
    profile = synth_profile(endpoints)
    seconds = int(minutes * 60)
    w = SessionWriter(
        path,
        profile=profile,
        price_tables={"synth": PriceTable.model_validate(SYNTH_PRICES)},
        meta={"created": T0, "created_iso": "2026-05-28T20:26:40+00:00", "synthetic": True},
        overwrite=True,
    )
    w.append("meta", {"host": "synth", "mode": "sweep then steady", "seed": seed})
    levels = profile.load.sweep.levels
    base_pass = rng.random(quality_items) < FLAVOURS[0].quality
    flip = rng.random(quality_items)
    for idx, f in enumerate(FLAVOURS[:endpoints]):
        w.append(
            "discovery",
            {
                "endpoint": f.name,
                "url": profile.endpoints[idx].url,
                "ok": True,
                "served_model": "meta-llama/Llama-3.1-8B-Instruct",
                "max_model_len": 8192,
                "server_version": "0.26.0",
                "precision_detected": f.precision,
                "headers": {"Authorization": "Bearer sk-synthetic-never-written"},
            },
        )
        t = T0
        for level in levels:
            _, itl = _latency(rng, f, level, 1)
            rps = level / (0.3 + 128 * float(itl[0]))
            reqs = _requests(rng, f, t, sweep_step_s, rps, level)
            for r in reqs:
                r["phase"] = "measure"
            frame = pl.DataFrame(reqs) if reqs else None
            ok = frame.filter(pl.col("error_class") == "none") if frame is not None else None
            if ok is not None and ok.height:
                lat = ok.select(
                    ttft=(pl.col("t_first_token") - pl.col("t_send")).quantile(0.95, "linear"),
                    e2e=(pl.col("t_end") - pl.col("t_send")).quantile(0.95, "linear"),
                    out=pl.col("completion_tokens").sum(),
                    inp=pl.col("prompt_tokens").sum(),
                ).row(0, named=True)
            else:
                lat = {"ttft": None, "e2e": None, "out": 0, "inp": 0}
            n = len(reqs)
            errs = sum(r["error_class"] != "none" for r in reqs)
            w.append(
                "sweep_level",
                {
                    "endpoint": f.name,
                    "level": level,
                    "t_start": t,
                    "t_end": t + sweep_step_s,
                    "requests": n,
                    "rps": n / sweep_step_s,
                    "in_tps": lat["inp"] / sweep_step_s,
                    "out_tps": lat["out"] / sweep_step_s,
                    "ttft_p95": lat["ttft"],
                    "itl_p95": float(np.quantile(itl, 0.95)) * 1.1,
                    "e2e_p95": lat["e2e"],
                    "error_rate": errs / n if n else 0.0,
                },
            )
            t += sweep_step_s
        steady = _requests(rng, f, T0, seconds, rate, 16.0, error_rate=0.002)
        for r in steady:
            w.append("request", r)
        frame = pl.DataFrame(steady)
        for row in _client_seconds(frame, f.name, T0, seconds):
            w.append("client_second", row)
        kv = np.clip(
            0.3 + 0.05 * np.sin(np.arange(seconds) / 60) + rng.normal(0, 0.02, seconds), 0, 1
        )
        for s in range(seconds):
            w.append(
                "server_second",
                {
                    "endpoint": f.name,
                    "t": T0 + s + 1,
                    "running": float(rng.integers(8, 17)),
                    "waiting": float(rng.integers(0, 3)),
                    "kv_cache_usage": float(kv[s]),
                    "preemptions_per_s": 0.0,
                    "prompt_tps": rate * 512,
                    "generation_tps": rate * 128,
                    "prefix_cache_hit_rate": 0.0,
                    "status": "ok",
                    "detail": "",
                },
            )
        total = 80 * GIB
        used_base = int(0.9 * total)  # vLLM pre-allocates weights + KV cache up to the cap
        energy = 0.0
        for h in range(seconds * 2):
            power = 350 + 250 * (0.5 + 0.5 * math.sin(h / 90)) / f.speed
            energy += power * 0.5
            w.append(
                "gpu_sample",
                {
                    "source": "nvml",
                    "endpoint": f.name,
                    "gpu": idx,
                    "uuid": f"GPU-synth-{idx}",
                    "name": "NVIDIA H100 80GB HBM3",
                    "t": T0 + h / 2,
                    "memory_total": total,
                    "memory_used": used_base + int(rng.integers(0, 64)) * 1024**2,
                    "memory_reserved": int(0.5 * GIB),
                    "util": float(min(100.0, 60 + 30 * kv[min(h // 2, seconds - 1)])),
                    "power_w": power,
                    "energy_j": energy,
                    "temperature_c": 55.0 + 10 * kv[min(h // 2, seconds - 1)],
                    "state": "ok",
                    "detail": "",
                },
            )
        # paired with the baseline: an item fails if the baseline fails it, or by a flip
        passed = base_pass & (flip >= (FLAVOURS[0].quality - f.quality) / FLAVOURS[0].quality)
        for i in range(quality_items):
            w.append(
                "quality_item",
                {
                    "endpoint": f.name,
                    "item_id": f"q{i:03d}",
                    "passed": bool(passed[i]),
                    "reason": "ok" if passed[i] else "wrong",
                    "latency_s": 0.8 / f.speed,
                    "prompt_tokens": 200,
                    "completion_tokens": 20,
                    "retries": 0,
                    "output_text": f"answer {i}",
                    "tokens": ["answer", f" {i}"],
                    "top_logprobs": [{"answer": -0.01}, {f" {i}": -0.2}],
                },
            )
        w.append(
            "quality_summary",
            {
                "endpoint": f.name,
                "items": quality_items,
                "passed": int(passed.sum()),
                "success_rate": float(passed.mean()),
            },
        )
    w.append(
        "event",
        {"t": T0 + 60, "kind": "whatif", "key": "traffic.peak_rps", "value": 40, "previous": 20},
    )
    w.append("event", {"t": T0 + 90, "kind": "note", "key": "note", "value": "synthetic run"})
    return w.close(finalise=finalise)
