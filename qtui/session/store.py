"""Bytes on disk: the JSON-lines journal and the finalised zip container, both read tolerantly."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from qtui import __version__
from qtui.errors import ConfigError
from qtui.session.frames import rows_to_frame
from qtui.session.schema import (
    CHUNK_RESOLUTION_S,
    DOCUMENT_KINDS,
    FORMAT,
    MANIFEST,
    VERSION,
    ZIP_MAGIC,
    check_header,
)

_TABLE_ORDER = ("sweep_level", "client_second", "server_second", "gpu_sample", "quality_item")
"""Small tables first, requests last: a cut-off copy keeps the most kinds."""


@dataclass
class Raw:
    """What a file holds before interpretation: documents as dicts, tables as lazy frames."""

    header: dict[str, Any]
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tables: dict[str, pl.LazyFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    finalised: bool = False


def sniff(path: Path) -> str:
    """``"zip"`` or ``"journal"``; ConfigError naming the file when it is neither."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a qtui session file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not head:
        raise ConfigError(f"{path}: empty file, not a qtui session")
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.lstrip().startswith(b"{"):
        return "journal"
    raise ConfigError(f"{path}: not a qtui session file (expected a {FORMAT} journal or zip)")


# --- journal -------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes, ended with newline) for each line of the file."""
    with path.open("rb") as f:
        for n, line in enumerate(f, 1):
            yield n, line, line.endswith(b"\n")


def read_journal(path: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], list[str]]:
    """Header, records by kind, warnings; damaged lines are skipped and reported once."""
    header: dict[str, Any] | None = None
    by_kind: dict[str, list[dict[str, Any]]] = {}
    damaged: list[int] = []
    cut_tail = False
    last = 0
    for n, line, complete in _lines(path):
        last = n
        if not line.strip(b"\x00 \r\n\t"):
            if line.strip(b"\r\n"):
                damaged.append(n)
            continue
        try:
            rec = json.loads(line)
            kind = rec.pop("k")
            if not isinstance(kind, str):
                raise ValueError("kind")
        except (ValueError, TypeError, KeyError, AttributeError):
            if header is None:
                raise ConfigError(
                    f"{path}: not a qtui session file (line {n} is not a {FORMAT} header)"
                ) from None
            if complete:
                damaged.append(n)
            else:
                cut_tail = True
            continue
        if header is None:
            if kind != "header":
                raise ConfigError(f"{path}: not a qtui session file (no {FORMAT} header)")
            problem = check_header(rec, str(path), __version__)
            if problem:
                raise ConfigError(problem)
            header = rec
            continue
        by_kind.setdefault(kind, []).append(rec)
    if header is None:
        raise ConfigError(f"{path}: not a qtui session file (no {FORMAT} header)")
    warnings = []
    if damaged:
        warnings.append(
            f"{path}: {len(damaged)} damaged line(s) skipped (first at line {damaged[0]})"
        )
    if cut_tail:
        warnings.append(f"{path}: last line (line {last}) was cut off; read the records before it")
    if "footer" not in by_kind:
        n_rec = sum(len(v) for v in by_kind.values())
        warnings.append(
            f"{path}: recording did not finish cleanly; read {n_rec} records up to the last flush"
        )
    return header, by_kind, warnings


def raw_from_journal(path: Path) -> Raw:
    """A journal as tables and documents."""
    header, by_kind, warnings = read_journal(path)
    raw = Raw(header=header, warnings=warnings)
    for kind, rows in by_kind.items():
        if kind in DOCUMENT_KINDS:
            raw.documents[kind] = rows
        else:
            raw.tables[kind] = rows_to_frame(kind, rows).lazy()
    return raw


# --- container -----------------------------------------------------------------------------

GAPS = "chunk_gaps"


def _encode_chunks(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """chunk_times (s offsets) → integer gaps in CHUNK_RESOLUTION_S units, cumulative-exact."""
    if frame.schema.get("chunk_times") != pl.List(pl.Float64):
        return frame, {}
    ticks = (pl.element() / CHUNK_RESOLUTION_S).round().cast(pl.Int64)
    gaps = pl.col("chunk_times").list.eval(ticks.diff().fill_null(ticks)).cast(pl.List(pl.Int32))
    out = frame.select(gaps.alias(GAPS) if c == "chunk_times" else pl.col(c) for c in frame.columns)
    return out, {"chunk_times": f"{GAPS}:{CHUNK_RESOLUTION_S:g}"}


def _decode_chunks(lf: pl.LazyFrame, encoded: dict[str, str]) -> pl.LazyFrame:
    """The inverse of _encode_chunks, lazily (costs nothing unless chunk_times is read)."""
    spec = encoded.get("chunk_times", "")
    if not spec.startswith(f"{GAPS}:"):
        return lf
    unit = float(spec.split(":", 1)[1])
    times = pl.col(GAPS).list.eval(pl.element().cast(pl.Int64).cum_sum() * unit)
    names = lf.collect_schema().names()
    return lf.select(times.alias("chunk_times") if c == GAPS else pl.col(c) for c in names)


def _parquet(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="zstd", compression_level=9, statistics=True)
    return buf.getvalue()


def write_container(path: Path, header: dict[str, Any], by_kind: dict[str, list[Any]]) -> Path:
    """Write the finalised zip next to ``path`` and atomically put it in its place."""
    documents = {k: v for k, v in by_kind.items() if k in DOCUMENT_KINDS}
    tables, encodings = {}, {}
    for k, rows in by_kind.items():
        if k not in DOCUMENT_KINDS:
            tables[k], encodings[k] = _encode_chunks(rows_to_frame(k, rows))
    rank = {k: i for i, k in enumerate(_TABLE_ORDER)}
    order = sorted(tables, key=lambda k: rank.get(k, 50 if k != "request" else 99))
    manifest = {
        **header,
        "finalised": True,
        "tables": {
            k: {"file": f"{k}.parquet", "rows": tables[k].height, "encoded": encodings[k]}
            for k in order
        },
        "documents": documents,
    }
    return _write_zip(path, manifest, ((f"{k}.parquet", _parquet(tables[k])) for k in order))


def _write_zip(path: Path, manifest: dict[str, Any], members: Iterable[tuple[str, bytes]]) -> Path:
    """The manifest (deflated) then the members (stored), to a temporary file next to ``path``,
    fsync'd and atomically renamed into place."""
    tmp = path.with_name(f".{path.name}.finalising")
    try:
        with open(tmp, "wb") as f:
            with zipfile.ZipFile(f, "w") as z:
                z.writestr(
                    MANIFEST,
                    json.dumps(manifest, separators=(",", ":"), default=str),
                    compress_type=zipfile.ZIP_DEFLATED,
                )
                for name, body in members:
                    z.writestr(name, body, zipfile.ZIP_STORED)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def copy_with_documents(
    src: Path, dest: Path, header: dict[str, Any], documents: dict[str, list[dict[str, Any]]]
) -> Path:
    """Write ``dest``: ``src`` (journal or finalised) with ``documents`` appended and ``header``
    fields added; ``src`` is only read. A finalised ``src`` keeps its Parquet members byte for byte.
    """
    if sniff(src) == "journal":
        head, by_kind, _ = read_journal(src)
        for kind, recs in documents.items():
            by_kind.setdefault(kind, []).extend(recs)
        return write_container(dest, {**head, **header}, by_kind)
    members, warnings = _members(src, src.read_bytes())
    if warnings or MANIFEST not in members:
        raise ConfigError(f"{src}: damaged session file; a copy of it cannot be written")
    manifest = json.loads(members[MANIFEST])
    docs = dict(manifest.get("documents") or {})
    for kind, recs in documents.items():
        docs[kind] = [*docs.get(kind, []), *recs]
    manifest = {**manifest, **header, "documents": docs}
    return _write_zip(dest, manifest, ((n, b) for n, b in members.items() if n != MANIFEST))


def _members_by_local_headers(data: bytes) -> tuple[dict[str, bytes], str | None]:
    """Walk a zip front to back (for copies cut short or damaged): intact members, damage note."""
    out: dict[str, bytes] = {}
    off = 0
    while data[off : off + 4] == ZIP_MAGIC:
        if off + 30 > len(data):
            return out, f"cut off at byte {off}"
        _, _, flag, method, _, _, crc, csize, _, nlen, xlen = struct.unpack(
            "<IHHHHHIIIHH", data[off : off + 30]
        )
        name = data[off + 30 : off + 30 + nlen].decode("utf-8", "replace")
        start = off + 30 + nlen + xlen
        end = start + csize
        if flag & 0x08 or end > len(data):
            return out, f"cut off inside {name!r}"
        body = data[start:end]
        try:
            if method == zipfile.ZIP_DEFLATED:
                body = zlib.decompress(body, -15)
            elif method != zipfile.ZIP_STORED:
                return out, f"{name!r} uses an unknown compression"
        except zlib.error:
            return out, f"{name!r} is damaged"
        if zlib.crc32(body) != crc:
            return out, f"{name!r} is damaged (checksum mismatch)"
        out[name] = body
        off = end
    return out, None


def _members(path: Path, data: bytes) -> tuple[dict[str, bytes], list[str]]:
    """Every readable member; a damaged one is left out with a warning."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        members, damage = _members_by_local_headers(data)
        note = f"{path}: file is damaged ({damage or 'no zip directory'}); read what came before"
        return members, [note]
    members, warnings = {}, []
    for info in z.infolist():
        try:
            members[info.filename] = z.read(info)
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            warnings.append(f"{path}: {info.filename} is damaged ({exc}); left out")
    return members, warnings


def raw_from_container(path: Path) -> Raw:
    """A finalised session; damaged tables are left out with a warning."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    members, warnings = _members(path, data)
    if MANIFEST not in members:
        if warnings:
            raise ConfigError(f"{path}: damaged session file (its manifest cannot be read)")
        raise ConfigError(f"{path}: not a qtui session file (a zip without {MANIFEST})")
    try:
        manifest = json.loads(members[MANIFEST])
    except ValueError:
        raise ConfigError(f"{path}: damaged session file (its manifest is not JSON)") from None
    problem = check_header(manifest, str(path), __version__)
    if problem:
        raise ConfigError(problem)
    raw = Raw(
        header={k: v for k, v in manifest.items() if k not in ("tables", "documents")},
        documents=manifest.get("documents") or {},
        warnings=warnings,
        finalised=True,
    )
    for kind, entry in (manifest.get("tables") or {}).items():
        body = members.get(entry.get("file", ""))
        if body is None:
            raw.warnings.append(f"{path}: {kind} records are missing (file damaged); left out")
            continue
        try:
            lf = pl.scan_parquet(body)
            lf.collect_schema()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raw.warnings.append(f"{path}: {kind} records are damaged ({exc}); left out")
            continue
        raw.tables[kind] = _decode_chunks(lf, entry.get("encoded") or {})
    return raw


def new_header(created: float, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The first record of every session."""
    from datetime import UTC, datetime

    return {
        "format": FORMAT,
        "version": VERSION,
        "qtui_version": __version__,
        "created": created,
        "created_iso": datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds"),
        **(meta or {}),
    }
