"""Put endpoints from several sessions (last month's and today's) into one comparison."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import polars as pl

from qtui.quality.noise import again_name
from qtui.session.reader import Session
from qtui.session.summary import EndpointSummary, summarize


def session_labels(sessions: Sequence[Session]) -> list[str]:
    """A distinct label per session: its profile name, else file stem, numbered if still equal."""
    labels = [s.label for s in sessions]
    if len(set(labels)) < len(labels):
        labels = [s.path.name.split(".")[0] for s in sessions]
    seen: Counter[str] = Counter()
    out = []
    for lab in labels:
        seen[lab] += 1
        out.append(lab if labels.count(lab) == 1 else f"{lab}#{seen[lab]}")
    return out


def endpoint_names(sessions: Sequence[Session], always_label: bool = False) -> list[dict[str, str]]:
    """Per session, old endpoint name → name in the comparison (``label/endpoint`` on clashes,
    or for every endpoint with ``always_label``)."""
    labels = session_labels(sessions)
    names = [s.endpoints for s in sessions]
    counts = Counter(n for ns in names for n in ns)
    return [
        {n: (f"{lab}/{n}" if always_label or counts[n] > 1 else n) for n in ns}
        for lab, ns in zip(labels, names, strict=True)
    ]


TIME_COLUMNS = ("t", "t_send", "t_first_token", "t_end")
"""Wall-clock fields shifted when sessions are aligned on a common start."""


def _start(s: Session) -> float | None:
    span = s.time_range
    return span[0] if span else None


def _shift_doc(rec: dict[str, object], offset: float) -> dict[str, object]:
    out = dict(rec)
    for k in TIME_COLUMNS:
        v = out.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = v + offset
    return out


def merge_sessions(
    sessions: Sequence[Session], *, align: bool = False, always_label: bool = False
) -> Session:
    """One Session holding every endpoint; the first session's SLOs, costs and baseline apply.

    ``align``: shift every session's clock so all start when the first did (replay plays last
    month's and today's side by side). ``always_label``: prefix every endpoint with its session.
    """
    if len(sessions) == 1:
        return sessions[0]
    first = sessions[0]
    renames = [
        {**m, **{again_name(k): again_name(v) for k, v in m.items()}}  # second passes follow
        for m in endpoint_names(sessions, always_label)
    ]
    t_first = _start(first)
    tables: dict[str, list[pl.LazyFrame]] = {}
    documents: dict[str, list[dict[str, object]]] = {}
    warnings: list[str] = []
    for s, mapping in zip(sessions, renames, strict=True):
        warnings += s.warnings
        t_s = _start(s)
        offset = (t_first - t_s) if align and t_first is not None and t_s is not None else 0.0
        for kind, lf in s.tables.items():
            cols = lf.collect_schema().names()
            if "endpoint" in cols:
                lf = lf.with_columns(pl.col("endpoint").replace(mapping))
            if offset:
                lf = lf.with_columns(pl.col(c) + offset for c in TIME_COLUMNS if c in cols)
            tables.setdefault(kind, []).append(lf)
        for kind, recs in s.documents.items():
            if kind in ("header", "profile", "footer"):
                continue
            for rec in recs:
                name = str(rec.get("endpoint"))
                new = {**rec, "endpoint": mapping.get(name, name)} if "endpoint" in rec else rec
                if kind == "quality_summary" and isinstance(rec.get("endpoints"), list):
                    new = {
                        **new,
                        "baseline": mapping.get(str(rec.get("baseline")), rec.get("baseline")),
                        "endpoints": [
                            {
                                **e,
                                "endpoint": mapping.get(str(e.get("endpoint")), e.get("endpoint")),
                            }
                            for e in rec["endpoints"]
                        ],
                    }
                documents.setdefault(kind, []).append(_shift_doc(new, offset) if offset else new)
    profile = None
    if all(s.profile for s in sessions):
        eps = []
        for s, mapping in zip(sessions, renames, strict=True):
            assert s.profile is not None
            # model_copy skips validation: "label/name" is a display name, not a profile key.
            eps += [e.model_copy(update={"name": mapping[e.name]}) for e in s.profile.endpoints]
        assert first.profile is not None
        base = renames[0].get(first.profile.baseline.name, first.profile.baseline.name)
        meta = first.profile.profile.model_copy(update={"baseline": base})
        profile = first.profile.model_copy(update={"endpoints": eps, "profile": meta})
        if any(s.profile.slo != first.profile.slo for s in sessions[1:] if s.profile):
            warnings.append(f"sessions have different SLOs; using those of {first.path.name}")
    documents["profile"] = [profile.model_dump(mode="json")] if profile else []
    merged = Session(
        path=first.path,
        header=first.header,
        documents=documents,
        tables={k: pl.concat(v, how="diagonal_relaxed") for k, v in tables.items()},
        warnings=warnings,
        finalised=all(s.finalised for s in sessions),
        profile=profile,
        price_tables={k: v for s in reversed(sessions) for k, v in s.price_tables.items()},
        label=" + ".join(session_labels(sessions)),
    )
    return merged


def compare(sessions: Sequence[Session]) -> list[EndpointSummary]:
    """Per-endpoint summary rows for all sessions side by side (names made distinct)."""
    merged = merge_sessions(sessions)
    rows = summarize(merged)
    labels = dict(zip(session_labels(sessions), sessions, strict=True))
    by_new = {
        new: lab
        for lab, mapping in zip(labels, endpoint_names(sessions), strict=True)
        for new in mapping.values()
    }
    for row in rows:
        row.session = by_new.get(row.endpoint, row.session)
    return rows
