"""The session format's names, versions and column types: one place, no I/O."""

from __future__ import annotations

from typing import Final

import polars as pl

FORMAT: Final = "qtui-session"
VERSION: Final = 2
"""Bump on any change an older reader cannot read; readers refuse versions above theirs.
Older shapes are converted as they are read, in ``qtui.session.migrate`` only.
2: ``sweep_level`` records are sweep steps only (a held load's evidence is its seconds)."""

SUFFIX: Final = ".qtsession"
ZIP_MAGIC: Final = b"PK\x03\x04"
MANIFEST: Final = "manifest.json"

DOCUMENT_KINDS: Final = (
    "header",
    "meta",
    "profile",
    "price_tables",
    "discovery",
    "quality_summary",
    "event",
    "footer",
)
"""Small or free-shaped records: kept as JSON in the manifest."""

TABLE_KINDS: Final = (
    "request",
    "client_second",
    "server_second",
    "gpu_sample",
    "quality_item",
    "sweep_level",
)
"""Many same-shaped rows: kept as one Parquet file each."""

F = pl.Float64
N = pl.Int64
S = pl.String

_LATENCY = {
    f"{m}_{q}": F for m in ("ttft", "itl", "tpot", "e2e") for q in ("p50", "p90", "p95", "p99")
}

COLUMNS: Final[dict[str, dict[str, pl.DataType | type[pl.DataType]]]] = {
    "request": {
        "endpoint": S,
        "request_id": S,
        "phase": S,
        "level": F,
        "t_send": F,
        "t_first_token": F,
        "t_end": F,
        "chunk_times": pl.List(pl.Float64),
        "prompt_tokens": N,
        "completion_tokens": N,
        "usage_source": S,
        "finish_reason": S,
        "error_class": S,
        "error_detail": S,
        "http_status": N,
        "turn": N,
        "conversation": N,
        "text_bytes": N,
    },
    "client_second": {
        "endpoint": S,
        "t": F,
        "requests": N,
        "rps": F,
        "in_tps": F,
        "out_tps": F,
        **_LATENCY,
        "in_flight": N,
        "phase": S,
    },
    "server_second": {
        "endpoint": S,
        "t": F,
        "running": F,
        "waiting": F,
        "kv_cache_usage": F,
        "preemptions_per_s": F,
        "prompt_tps": F,
        "generation_tps": F,
        "prefix_cache_hit_rate": F,
        **{f"{m}_{q}": F for m in ("ttft", "itl", "e2e") for q in ("p50", "p95")},
        "status": S,
        "detail": S,
        "kv_cache_tokens": N,
        "kv_cache_bytes": N,
        "kv_cache_dtype": S,
        "kv_blocks": N,
        "kv_block_size": N,
        "kv_max_concurrency": F,
    },
    "gpu_sample": {
        "source": S,
        "endpoint": S,
        "gpu": N,
        "uuid": S,
        "name": S,
        "t": F,
        "memory_total": N,
        "memory_used": N,
        "memory_reserved": N,
        "util": F,
        "power_w": F,
        "energy_j": F,
        "temperature_c": F,
        "state": S,
        "detail": S,
    },
    "quality_item": {
        "endpoint": S,
        "item_id": S,
        "passed": pl.Boolean,
        "reason": S,
        "latency_s": F,
        "prompt_tokens": N,
        "completion_tokens": N,
        "retries": N,
        "output_text": S,
    },
    "sweep_level": {"endpoint": S, "level": F},
    "event": {"t": F, "kind": S, "key": S},
}
"""Known columns and their types; other fields are kept with inferred (or JSON text) types."""


JSON_COLUMNS: Final = frozenset({"value", "previous", "top_logprobs", "errors"})
"""Free-shaped fields always kept as JSON text, so a column never changes type mid-session."""

CHUNK_RESOLUTION_S: Final = 1e-4
"""Finalised files keep request chunk times to 0.1 ms (as integer gaps: 4x smaller)."""


def check_header(header: object, where: str, qtui_version: str) -> str | None:
    """Why ``header`` cannot be read by this qtui (one line naming the versions), or None."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return f"{where}: not a qtui session file (no {FORMAT!r} header)"
    version = header.get("version")
    if not isinstance(version, int):
        return f"{where}: session header has no valid format version ({version!r})"
    if version > VERSION:
        writer = header.get("qtui_version", "unknown")
        return (
            f"{where}: session format version {version} (written by qtui {writer}) is newer than "
            f"this qtui {qtui_version} reads (version {VERSION}); upgrade qtui to open it"
        )
    if version < 1:
        return f"{where}: session format version {version} is not valid"
    return None
