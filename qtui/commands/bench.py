"""`qtui bench PROFILE`: the load headless; records, per-second series, summary, a session."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import polars as pl

from qtui.client import loop as client_loop
from qtui.commands.bench_progress import LiveProgress
from qtui.config.load import load_model
from qtui.config.profile import Profile
from qtui.cost.figure import replicas_and_cost_text
from qtui.engines.server import ServerProcess
from qtui.errors import ClientBound, NothingCompleted, QtuiError
from qtui.evidence.accounting import partial_text
from qtui.evidence.capacity import capacity_text
from qtui.evidence.records import RequestRecord, ServerSecond, Stats
from qtui.launch.logs import launch_weights
from qtui.launch.watch import ServerWatch
from qtui.load.backoff import backing_text
from qtui.load.engine import EndpointResult, LoadRun, Mode
from qtui.load.selfcheck import ClientHealth
from qtui.session.recorder import Recorder
from qtui.session.schema import SUFFIX
from qtui.session.writer import SessionWriter


class _Collector:
    """Keeps what a bench run records, for its CSV and summary files; every record goes through
    the one recorder the live app uses too (``qtui.session.recorder``)."""

    def __init__(self, endpoints: Sequence[str] = ()) -> None:
        self.records: list[RequestRecord] = []
        self.client: list[dict[str, Any]] = []
        self.server: list[dict[str, Any]] = []
        self.gpu: list[dict[str, Any]] = []
        self.health: list[ClientHealth] = []
        self.events: list[dict[str, Any]] = []
        self.level_of: Callable[[str], float | None] = lambda _name: None
        self.rec = Recorder(None, endpoints, sink=self._keep, on_request=self.records.append)
        self._kept = {"client_second": self.client, "server_second": self.server,
                      "gpu_sample": self.gpu}  # fmt: skip

    def _keep(self, kind: str, row: dict[str, Any]) -> None:
        if (rows := self._kept.get(kind)) is not None:
            rows.append(dict(row))

    def record(self, r: RequestRecord) -> None:
        self.rec.request(r)

    def second(self, s: Stats) -> None:
        h = self.health[-1] if self.health else None
        self.rec.second(s, self.level_of(s.endpoint), bool(h and h.client_bound))

    def server_second(self, s: ServerSecond) -> None:
        self.rec.server(s)

    def gpu_sample(self, key: str, snap: Any) -> None:
        self.rec.gpu(key, snap)

    def event(self, kind: str, msg: str, key: str = "message") -> None:
        if kind == "tokens":  # the load engine's word on input lengths (qtui.load.tokens)
            kind, key = "load", "input_lengths"
        elif kind == "file":  # the workload's file by its content
            kind, key = "load", "workload_file"
        self.events.append(self.rec.event(kind, key, msg))
        print(f"qtui: {kind}: {msg}", file=sys.stderr)


@dataclass
class Served:
    """Where the endpoints answer: name → base URL, name → DCGM exporter URL."""

    urls: dict[str, str]
    dcgm: dict[str, str] = field(default_factory=dict)
    simulated: bool = False
    pids: dict[str, int] = field(default_factory=dict)
    servers: dict[str, ServerProcess] = field(default_factory=dict)  # the ones qtui started


@contextlib.contextmanager
def serve(
    prof: Profile, profile_path: Path, launch: bool, endpoint_urls: dict[str, str] | None
) -> Iterator[Served]:
    """The endpoints' URLs for the run: given ones, the profile's, the simulator's, or --launch.

    Simulated endpoints (``[endpoints.simulate]``) without a URL get qtui's simulator for the
    duration of the run (with its DCGM-style exporter for GPU samples).
    """
    urls = {e.name: (endpoint_urls or {}).get(e.name) or e.url for e in prof.endpoints}
    if launch:  # start the profile's [endpoints.launch] vLLM servers; stop them when done
        from qtui.launch.vllm import LOG_DIR, launched

        with launched(prof, LOG_DIR) as up:
            urls.update(up.urls)
            yield Served({n: u for n, u in urls.items() if u}, pids=up.pids, servers=up.servers)
        return
    to_sim = [e for e in prof.endpoints if not urls[e.name] and e.simulate is not None]
    if not to_sim:
        yield Served({n: u for n, u in urls.items() if u})
        return
    from qtui.sim.launcher import start_sim

    with start_sim(profile_path, seed=prof.workload.seed) as sim:
        dcgm = {e.name: sim.dcgm_urls[e.name] for e in to_sim if e.name in sim.dcgm_urls}
        for e in to_sim:
            urls[e.name] = sim.endpoints[e.name]
        yield Served({n: u for n, u in urls.items() if u}, dcgm, True, {})


def _progress(run: LoadRun, t0: float) -> str:
    parts = []
    for name, s in run.latest.items():
        ttft = f"{s.ttft.p95 * 1000:.0f}ms" if s.ttft.p95 is not None else "-"
        err = sum(s.errors.values())
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(s.errors.items()) if n)
        ep = run.eps.get(name)
        backing = backing_text(
            s.backing_off, "req/s" if ep is not None and ep.by == "rate" else "users"
        )
        parts.append(
            f"{name}: {s.rps:.1f} req/s {s.out_tps:.0f} tok/s ttft95 {ttft} "
            f"inflight {s.in_flight}{f' err {err} ({kinds})' if err else ''}"
            f"{f' {backing}' if backing else ''}"
        )
    bound = " [client-bound]" if run.health and run.health[-1].client_bound else ""
    return f"[{time.time() - t0:5.0f}s] " + " | ".join(parts) + bound


async def _bench(run: LoadRun, show: bool, rec: Recorder) -> dict[str, EndpointResult]:
    t0 = time.time()
    user_second = run.on_second

    tty = sys.stderr.isatty()
    last_plain = [-math.inf]
    live: LiveProgress | None = None

    def tick(s: Stats) -> None:
        if user_second:
            user_second(s)
        if not show or s.endpoint != next(iter(run.eps)):
            return
        if live is not None:  # a terminal: rich's live display, repainted
            live.update()
        elif plain_due(time.time(), last_plain[0]):  # a pipe or a log: whole lines, steadily
            last_plain[0] = time.time()
            print(_progress(run, t0), file=sys.stderr, flush=True)

    run.on_second = tick
    await run.start()
    for name, ep in run.eps.items():
        if ep.result.info is not None:
            rec.discovery(name, ep.result.info)
    if show and tty:
        live = LiveProgress(run)
        live.start()
    try:
        res = await run.wait()
    except asyncio.CancelledError:
        res = await run.stop()
    finally:
        if live is not None:
            live.update()
            live.stop()
    return res


PLAIN_EVERY_S = 5.0  # progress lines when stderr is not a terminal (CI, tee, a log file)


def plain_due(now: float, last: float, every_s: float = PLAIN_EVERY_S) -> bool:
    """Whether a plain progress line is due: the first at once, then one every ``every_s``."""
    return now - last >= every_s


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        path.write_text("")
        return
    keys = list(rows[0])
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def write_outputs(
    out: Path, col: _Collector, results: dict[str, EndpointResult], meta: dict[str, Any]
) -> dict[str, Any]:
    """requests.csv/.parquet, client/server_seconds.csv, gpu_samples.csv, summary.json."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for r in col.records:
        d = r.to_dict()
        d["chunk_times"] = json.dumps([round(x, 6) for x in r.chunk_times])
        d["ttft"], d["e2e"], d["tpot"] = r.ttft, r.e2e, r.tpot
        rows.append(d)
    _write_csv(out / "requests.csv", rows)
    if col.records:
        pl.DataFrame([r.to_dict() for r in col.records], infer_schema_length=None).write_parquet(
            out / "requests.parquet"
        )
    _write_csv(out / "client_seconds.csv", col.client)
    _write_csv(out / "server_seconds.csv", col.server)
    _write_csv(out / "gpu_samples.csv", list(col.gpu))
    summary = {
        **meta,
        "endpoints": {
            n: _one_capacity(r.to_dict(), meta.get("decision"), n) for n, r in results.items()
        },
        "client_health": {
            "seconds": len(col.health),
            "client_bound_seconds": sum(h.client_bound for h in col.health),
            "loop_lag_max_s": max((h.loop_lag_max_s for h in col.health), default=0.0),
            "cpu_max": max((h.cpu for h in col.health), default=0.0),
        },
        "events": col.events,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _one_capacity(ep: dict[str, Any], decision: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """An endpoint's summary with the decision's capacity in place of the load engine's own
    per-run figure: summary.json states one capacity, the record's (``decision``)."""
    judged = (decision or {}).get("endpoints", {}).get(name)
    if judged is not None:
        keys = ("capacity", "capacity_rps", "capacity_lower_bound", "client_bound")
        ep["capacity"] = {k: judged[k] for k in keys}
    return ep


def session_path(out: Path, profile_name: str, started: float) -> Path:
    """``OUT/<profile>-<UTC timestamp>.qtsession`` (a free name: never overwrites)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", profile_name).strip("-") or "session"
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"{slug}-{stamp}{SUFFIX}"
    n = 1
    while path.exists():
        n += 1
        path = out / f"{slug}-{stamp}-{n}{SUFFIX}"
    return path


def _price_tables(prof: Profile, col: _Collector) -> dict[str, Any]:
    """The price tables the profile names, as used (a missing one is a warning, not a stop)."""
    from qtui.config.catalog import load_price_table

    names = {prof.cost.price_table} | {e.price_table for e in prof.endpoints if e.price_table}
    tables = {}
    for name in sorted(names):
        try:
            tables[name] = load_price_table(name)
        except QtuiError as exc:
            col.event("warning", f"price table not recorded: {exc}")
    return tables


def _as_used(prof: Profile, urls: dict[str, str]) -> Profile:
    """The profile with the URLs the run actually used."""
    data = prof.model_dump(mode="json")
    for ep in data["endpoints"]:
        ep["url"] = urls.get(ep["name"]) or ep["url"]
    return Profile.model_validate(data)


def _gpu_sampler(prof: Profile, served: Served, col: _Collector) -> Any:
    from qtui.gpu.factory import build_sources
    from qtui.gpu.sampler import TelemetrySampler

    try:
        sources = build_sources(
            prof.endpoints, pids=served.pids, exporter_urls=served.dcgm, urls=served.urls
        )
    except QtuiError as exc:
        col.event("warning", f"no GPU telemetry: {exc}")
        return None
    col.rec.local = [e.name for e in prof.endpoints if e.name not in sources]
    return TelemetrySampler(sources, rate_hz=1.0, on_snapshot=col.gpu_sample)


def _gpu_seen(sampler: Any) -> dict[str, set[tuple[str, int]]]:
    """Where NVML sees each endpoint's server processes now (one sample, before any load)."""
    from qtui.evidence.sharing import nvml_keys

    if sampler is None:
        return {}
    snaps = sampler.sample_once()
    return nvml_keys(p for snap in snaps.values() for p in snap.processes)


def decision_of(
    results: dict[str, EndpointResult], session: Path
) -> tuple[list[str], dict[str, Any]]:
    """What the run measured and the decision its session supports, in the record's words:
    the session is read back and judged exactly as `qtui report` and a replay judge it.
    Returns the lines printed and the ``decision`` written into summary.json."""
    from qtui.decision.cheapest import option_record, option_text
    from qtui.evidence.turns import turn_text
    from qtui.session.decision import counted_usage_notes, decide, outage_notes
    from qtui.session.reader import load_session
    from qtui.session.turns import session_turns

    d = decide(load_session(session))
    lines: list[str] = []
    per: dict[str, Any] = {}
    doc: dict[str, Any] = {"recommended": d.recommended, "why": d.why, "endpoints": per}
    for row in d.rows:
        name, j = row.summary.endpoint, row.judgement
        # the record's figures (`qtui report`'s "Measured under load": requests that ended,
        # successes and errors; its throughput and error rate), not the engine's window: one
        # figure under one name
        m = row.summary
        line = f"{name}: {m.requests} requests"
        if results.get(name) is not None:
            er = m.error_rate  # no request ended (all open at the stop): no rate, not 0 %
            rate = f"{er:.1%}" if er is not None else "— (no request ended)"
            line += f", {m.out_tps or 0.0:.1f} out tok/s, error rate {rate}"
        # requests open at the stop and partial tokens: the record's counts, in its words
        for extra in (j.stopped, partial_text(j.partial_tokens)):
            if extra:
                line += f", {extra}"
        cap = capacity_text(j.capacity)
        fin = j.finance
        sized = replicas_and_cost_text(fin.replicas, fin.monthly, fin.sizing.text)
        line += f"; capacity {cap}; {sized}"
        lines.append(f"{line}; {j.verdict}")
        per[name] = {
            "capacity": cap,
            "capacity_rps": j.capacity.rps if j.capacity.usable else None,
            "capacity_lower_bound": j.capacity.lower_bound,
            "client_bound": j.capacity.client_bound,
            "replicas": j.finance.replicas.value,
            "replicas_text": j.finance.sizing.text,  # '7 (auto; 7–8 within the bracket)'
            "monthly_usd": j.finance.monthly.value,
            "usd_per_1m_output": j.finance.usd_per_m_output.value,
            "go": j.go,
            "decision": j.status,  # go | no-go | not-decided, as the record's CSV
            "decision_undecided": j.undecided,
            "verdict": j.verdict,  # the record's words: GO, NO-GO, NOT DECIDED (why)
            "reasons": list(j.reasons),
            "cancelled_at_stop": j.cancelled,
            "stopped": j.stopped,  # '1 cancelled at stop, 2 silent for up to 3 s'
            "partial_tokens": j.partial_tokens,
        }
    for name, options in d.gpu_options.items():  # the seed's table: cheapest GPU first
        priced = [o for o in options if o.monthly is not None and o.fits is not False]
        if priced:
            lines.append(f"{name}: cheapest GPUs: " + "; ".join(option_text(o) for o in priced[:3]))
        if name in per:
            per[name]["gpu_options"] = [option_record(o) for o in options]
    prices = [n for n in d.notes if n.startswith("price table ")]  # unreadable, not installed
    said = [*counted_usage_notes(d.session), *outage_notes(d.session), *prices]
    lines += [f"note: {n}" for n in said]
    for name, turns in session_turns(d.session).items():  # multi-turn conversations
        lines.append(f"{name}: {turn_text(turns)}")
        if name in per:
            per[name]["ttft_by_turn"] = [
                {"turn": t.label, "requests": t.requests, "ttft_p50_s": t.p50, "ttft_p95_s": t.p95}
                for t in turns
            ]
    rec = d.recommended
    lines.append(f"recommendation: {rec + ' — ' if rec else ''}{d.why}")
    return lines, doc


def _quality(
    prof: Profile,
    items: Any,  # the golden items, or an LmevalRun
    served: Served,
    results: dict[str, EndpointResult],
    rec: Recorder,
) -> dict[str, Any]:
    from qtui.quality.headless import quality_table, run_profile_quality, targets
    from qtui.quality.lmeval import LmevalRun, run_profile_lmeval

    models = {n: (r.info.model_id if r.info else None) for n, r in results.items()}
    twice = f" ({prof.baseline.name} twice: its own flips are the noise floor)"
    if isinstance(items, LmevalRun):
        print(f"quality: lm-eval task {items.task} on {len(served.urls)} endpoints{twice}",
              file=sys.stderr)  # fmt: skip
        run = run_profile_lmeval(
            prof, items.task, targets(prof, served.urls, models), include=items.include,
            limit=items.limit, tokenizer=items.tokenizer, on_record=rec.quality_item,
        )  # fmt: skip
    else:
        print(f"quality: {len(items)} golden items on {len(served.urls)} endpoints{twice}",
              file=sys.stderr)  # fmt: skip
        run = run_profile_quality(
            prof, items, served.urls, models, rec.quality_item, baseline_twice=True
        )
    _, summary = client_loop.run(run)
    data = rec.quality_summary(summary.to_dict())
    for line in quality_table(summary):
        print(line)
    return data


def run(
    profile: Path,
    out: Path = Path("qtui-out"),
    mode: str | None = None,
    level: float | None = None,
    duration: float | None = None,
    max_requests: int | None = None,
    quality: bool = False,
    launch: bool = False,
    endpoint_urls: dict[str, str] | None = None,
    show_progress: bool = True,
    session: Path | None = None,
    processes: int | None = None,
    lmeval: str | None = None,
    lmeval_include: Path | None = None,
    lmeval_limit: int | None = None,
    lmeval_tokenizer: str | None = None,
) -> dict[str, Any]:
    """Load (and with ``quality`` the golden set, with ``lmeval`` an lm-evaluation-harness
    task instead) on every endpoint; files into ``out``."""
    prof = load_model(profile, Profile)
    items: Any = None
    if lmeval:
        from qtui.quality.lmeval import LmevalRun

        items = LmevalRun(lmeval, lmeval_include, lmeval_limit, lmeval_tokenizer)
        items.prepare()  # not installed, or an unknown task: one line, before any request
    elif quality:
        from qtui.quality.headless import golden_items

        items = golden_items(prof, profile)  # a bad golden set stops here, before any request
    with serve(prof, profile, launch, endpoint_urls) as served:
        return _run_served(
            prof, profile, out, served, items, session, mode, level, duration, max_requests,
            show_progress, processes,
        )  # fmt: skip


def _run_served(
    prof: Profile,
    profile: Path,
    out: Path,
    served: Served,
    items: Any,  # golden items, an LmevalRun, or None (no quality run)
    session: Path | None,
    mode: str | None,
    level: float | None,
    duration: float | None,
    max_requests: int | None,
    show_progress: bool,
    processes: int | None = None,
) -> dict[str, Any]:
    t0 = time.time()
    col = _Collector(endpoints=[e.name for e in prof.endpoints])
    used = _as_used(prof, served.urls)
    tables = _price_tables(prof, col)
    spath = session or session_path(out, prof.profile.name, t0)
    meta = {
        "command": "qtui bench",
        "profile_path": str(profile),
        "simulated": served.simulated,
        "quality": items is not None,
    }
    writer = SessionWriter(spath, profile=used, price_tables=tables, meta=meta)
    col.rec.writer = writer
    for ev in col.events:
        writer.append("event", dict(ev))
    for value in launch_weights(served.servers):  # the weights each launched server logged
        col.rec.event("launch", "weights", value)
    sampler = _gpu_sampler(used, served, col)
    lr = LoadRun(
        used,
        served.urls,
        on_record=col.record,
        on_second=col.second,
        on_server=col.server_second,
        on_health=col.health.append,
        on_event=col.event,
        base_dir=profile.parent,
        mode=cast(Mode | None, mode),
        level=level,
        duration=duration,
        max_requests=max_requests,
        processes=processes,
        gpu_seen=_gpu_seen(sampler),
    )
    col.event("load", lr.isolation.text, "isolation_text")
    col.rec.event("load", "isolation", lr.isolation.to_dict())
    if level is not None and lr.mode != "sweep":  # --level: the held level is not the file's
        col.rec.event("load", "level", level)  # (as the app records a key's new level)
    col.level_of = lambda name: lr.eps[name].level if name in lr.eps else None
    watch = ServerWatch(served.servers, lambda _n, line: col.event("error", line, "server_exit"))
    results: dict[str, EndpointResult] = {}
    quality_doc = None
    try:
        watch.start()
        if sampler is not None:
            sampler.start()
        try:
            results = client_loop.run(_bench(lr, show_progress, col.rec))
        except KeyboardInterrupt:
            results = lr.results()
            print("qtui: interrupted; writing what was recorded", file=sys.stderr)
        finally:
            if sampler is not None:
                sampler.stop()
        for name, r in results.items():  # a held load is evidence through its seconds
            col.rec.levels(name, r.levels, lr.mode)
            if r.failed:
                col.rec.search_failed(name, r.failed, r.failed_text, r.failed_what)
        if items is not None and results:
            quality_doc = _quality(used, items, served, results, col.rec)
    finally:
        watch.stop()
        writer.append(
            "meta", {"t": time.time(), "mode": lr.mode, "endpoints_measured": list(results)}
        )
        writer.close()
    summary_meta = {
        "profile": str(profile),
        "mode": lr.mode,
        "started": t0,
        "ended": time.time(),
        "warmup_s": prof.load.warmup_s,
        "cooldown_s": prof.load.cooldown_s,
        "load_processes": lr.processes,
        "load_hosts": lr.load_hosts(),  # [load] hosts = "ray": hosts, clock bound, drop-outs
        "session": str(spath),
    }
    if quality_doc is not None:
        summary_meta["quality"] = quality_doc
    lines, summary_meta["decision"] = decision_of(results, spath)
    summary = write_outputs(out, col, results, summary_meta)
    for line in lines:
        print(line)
    print(f"results in {out}/; session {spath}")
    if not results:
        raise NothingCompleted("no endpoint was measured")
    idle = unanswered(results)
    if idle:
        why = "; ".join(watch.exited[n] for n in idle if n in watch.exited)
        raise NothingCompleted(
            f"no request completed on {', '.join(idle)}{f' ({why})' if why else ''}; "
            f"what was recorded is in {out}/ and {spath}"
        )
    bound = [n for n, r in results.items() if r.client_bound]
    if bound:
        secs = ", ".join(
            f"{n} {results[n].client_bound_seconds} of {results[n].seconds} s" for n in bound
        )
        raise ClientBound(
            f"the client was the limit ({secs}): its figures are lower bounds; give it more CPU "
            f"(--processes) or less load; what was recorded is in {out}/ and {spath}"
        )
    return summary


def unanswered(results: dict[str, EndpointResult]) -> list[str]:
    """Endpoints that completed no request at all (`qtui bench` then exits 4, naming them)."""
    return [n for n, r in results.items() if r.summary is None or r.summary.requests == 0]
