"""The llama.cpp integration suite: real engine, real quantizations, real servers on 127.0.0.1.

Part of the default `python -m pytest` run (CI included). The first run builds llama-cpp-python
into ~/.cache/qtui (about 6 min on 2 cores); later runs reuse it. Leave it out with
`-m "not llamacpp"`, or set QTUI_SKIP_LLAMACPP=1. When the engine cannot be provisioned (no
compiler, no network) its tests fail with one line saying why; they never skip silently.

One session-scoped `campaign` does everything once (discovery, a load sweep, the golden set,
a recorded session) and the tests assert on what it measured.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from qtui.client.discovery import ServerInfo, discover
from qtui.config.load import load_model
from qtui.config.paths import shipped_profiles_dir
from qtui.config.profile import Profile
from qtui.engines.cache import cache_dir
from qtui.engines.provision import Engine, ensure_engine, ensure_smollm2
from qtui.engines.quantize import build_variants
from qtui.engines.server import ServerProcess, ServerSpec, running_servers
from qtui.engines.variants import DEFAULT_VARIANTS, SAME_WEIGHTS
from qtui.errors import QtuiError
from qtui.evidence.records import RequestRecord, ServerSecond, Stats
from qtui.launch.watch import server_exit_line
from qtui.load.engine import EndpointResult, LoadRun
from qtui.quality import (
    QualityRecord,
    QualityTarget,
    agreement,
    load_golden,
    run_quality,
    score_endpoint,
)
from qtui.quality import summarize as quality_summary
from qtui.session.reader import Session, load_session
from qtui.session.rows import sweep_level_row
from qtui.session.writer import SessionWriter

PROFILE = shipped_profiles_dir() / "llamacpp.toml"
# Not in the profile: the reference's own weights in F32, served only for the golden set, to
# measure how many flips a change of llama.cpp kernel alone causes (see docs/llamacpp.md).
SAME_WEIGHTS_NAME = "q4_1-f32"


SKIP_ENV = "QTUI_SKIP_LLAMACPP"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marked tests run by default; QTUI_SKIP_LLAMACPP=1 skips them, saying so."""
    if os.environ.get(SKIP_ENV, "").strip() not in ("1", "true", "yes"):
        return
    skip = pytest.mark.skip(
        reason=f"llama.cpp integration suite: skipped because {SKIP_ENV} is set"
    )
    for item in items:
        if item.get_closest_marker("llamacpp") is not None:
            item.add_marker(skip)


@contextmanager
def provisioning(what: str) -> Iterator[None]:
    """A provisioning failure (no compiler, no network, ...) fails the suite in one line."""
    try:
        yield
    except QtuiError as exc:
        reason = str(exc)
    else:
        return
    raise pytest.fail.Exception(
        f"llama.cpp suite: {what} failed: {reason} "
        f"(set {SKIP_ENV}=1 or run pytest -m 'not llamacpp' to leave the suite out)",
        pytrace=False,
    ) from None


def _say(config: pytest.Config, msg: str) -> None:
    """Progress on the terminal now, past output capture (the first build takes minutes)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(f"[llamacpp] {msg}")
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"[llamacpp] {msg}")


@pytest.fixture(scope="session")
def llama_engine(pytestconfig: pytest.Config) -> Engine:
    t0 = time.monotonic()
    with provisioning("installing llama-cpp-python"):
        engine = ensure_engine(log=lambda m: _say(pytestconfig, m))
    _say(pytestconfig, f"llama-cpp-python {engine.version} ready in {time.monotonic() - t0:.0f} s")
    return engine


@pytest.fixture(scope="session")
def llama_profile() -> Profile:
    return load_model(PROFILE, Profile)


@pytest.fixture(scope="session")
def variant_files(
    llama_engine: Engine, llama_profile: Profile, pytestconfig: pytest.Config
) -> dict[str, Path]:
    """precision → GGUF file: the shipped Q4_1, the quantizations and the F32 same-weights
    control, cached by source hash."""
    with provisioning("fetching SmolLM2"):
        source = ensure_smollm2(log=lambda m: _say(pytestconfig, m))
    wanted = {e.precision for e in llama_profile.endpoints}
    variants = (*(v for v in DEFAULT_VARIANTS if v.precision in wanted), SAME_WEIGHTS)
    with provisioning("quantizing SmolLM2"):
        return build_variants(llama_engine, source, variants, cache_dir() / "models" / "variants")


@pytest.fixture(scope="session")
def llama_servers(
    llama_engine: Engine,
    llama_profile: Profile,
    variant_files: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, ServerProcess]]:
    """One server per endpoint on a free port; all stopped at the end, whatever happened."""
    specs = [
        ServerSpec(e.name, variant_files[e.precision], e.model or e.name)
        for e in llama_profile.endpoints
    ]
    control = variant_files[SAME_WEIGHTS.precision]
    specs.append(ServerSpec(SAME_WEIGHTS_NAME, control, f"smollm2-135m-{SAME_WEIGHTS_NAME}"))
    logs = tmp_path_factory.mktemp("llama-logs")
    with (
        provisioning("starting the llama.cpp servers"),
        running_servers(llama_engine.python, specs, logs) as servers,
    ):
        yield {s.spec.name: s for s in servers}
    orphans = [s.spec.name for s in servers if s.proc.poll() is None]
    assert not orphans, f"servers still running after the suite: {orphans}"


def live_profile(profile: Profile, servers: dict[str, ServerProcess]) -> Profile:
    """The shipped profile pointed at the servers' actual ports."""
    data = profile.model_dump()
    for ep in data["endpoints"]:
        ep["url"] = servers[ep["name"]].url
    return Profile.model_validate(data)


@dataclass
class Campaign:
    """Everything one run of qtui against the llama.cpp servers measured."""

    profile: Profile
    files: dict[str, Path]
    infos: dict[str, ServerInfo]
    results: dict[str, EndpointResult]
    requests: list[RequestRecord] = field(default_factory=list)
    seconds: list[Stats] = field(default_factory=list)
    server_seconds: list[ServerSecond] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)
    quality: list[QualityRecord] = field(default_factory=list)
    control: list[QualityRecord] = field(default_factory=list)  # the reference, asked again
    same_weights: list[QualityRecord] = field(default_factory=list)  # its weights in F32
    session_path: Path | None = None
    session: Session | None = None
    logs: dict[str, Path] = field(default_factory=dict)  # server name → its log file
    dead: list[str] = field(default_factory=list)  # one line per server that died meanwhile


async def _drive(profile: Profile, writer: SessionWriter, camp: Campaign, control_url: str) -> None:
    for ep in profile.endpoints:
        info = await discover(ep.url)
        camp.infos[ep.name] = info
        writer.append("discovery", {"endpoint": ep.name, **info.to_dict()})

    def on_record(rec: RequestRecord) -> None:
        camp.requests.append(rec)
        writer.append("request", rec.to_dict())

    def on_second(st: Stats) -> None:
        camp.seconds.append(st)
        writer.append("client_second", st.flat())

    def on_server(ss: ServerSecond) -> None:
        camp.server_seconds.append(ss)
        writer.append("server_second", ss.to_dict())

    def on_event(kind: str, msg: str) -> None:
        camp.events.append((kind, msg))
        writer.event(kind, msg)

    run = LoadRun(
        profile,
        on_record=on_record,
        on_second=on_second,
        on_server=on_server,
        on_event=on_event,
        base_dir=PROFILE.parent,
    )
    camp.results = await run.run()
    for name, res in camp.results.items():
        for lv in res.levels:
            writer.append("sweep_level", sweep_level_row(name, lv))
    assert profile.workload.golden_set is not None
    items = load_golden(PROFILE.parent / profile.workload.golden_set)
    targets = [QualityTarget.from_endpoint(e) for e in profile.endpoints]
    # one request at a time per server: llama.cpp serialises them anyway
    camp.quality = await run_quality(
        items,
        targets,
        concurrency=1,
        seed=profile.workload.seed,
        on_record=lambda rec, _d, _t: writer.append("quality_item", rec.to_dict()),
    )
    # the reference once more, items in reverse order (other cache states): any flip here would
    # be the server's noise, not quantization
    ref = QualityTarget.from_endpoint(profile.baseline)
    again = dataclasses.replace(ref, name=f"{ref.name}-again")
    same = QualityTarget(SAME_WEIGHTS_NAME, control_url, f"smollm2-135m-{SAME_WEIGHTS_NAME}")
    camp.control, camp.same_weights = await asyncio.gather(
        run_quality(list(reversed(items)), [again], concurrency=1, seed=profile.workload.seed),
        run_quality(items, [same], concurrency=1, seed=profile.workload.seed),
    )
    names = [e.name for e in profile.endpoints]
    summary = quality_summary(camp.quality, names, profile.baseline.name, profile.slo.quality)
    writer.append("quality_summary", summary.to_dict())


@pytest.fixture(scope="session")
def campaign(
    llama_profile: Profile,
    llama_servers: dict[str, ServerProcess],
    variant_files: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Campaign:
    profile = live_profile(llama_profile, llama_servers)
    camp = Campaign(profile, variant_files, {}, {})
    camp.logs = {name: s.log_path for name, s in llama_servers.items()}
    path = tmp_path_factory.mktemp("session") / "llamacpp.qtsession"
    meta: dict[str, Any] = {
        "engine": "llama.cpp (llama-cpp-python server)",
        "model": "SmolLM2-135M-Instruct",
        "files": {p: f.name for p, f in variant_files.items()},
        "file_bytes": {p: f.stat().st_size for p, f in variant_files.items()},
    }
    t0 = time.monotonic()
    with SessionWriter(path, profile=profile, meta=meta) as writer:
        asyncio.run(_drive(profile, writer, camp, llama_servers[SAME_WEIGHTS_NAME].url))
    _say(pytestconfig, f"campaign done in {time.monotonic() - t0:.0f} s; session {path}")
    camp.dead = [
        server_exit_line(name, s.proc.returncode, s.log_path)
        for name, s in llama_servers.items()
        if s.proc.poll() is not None
    ]
    for line in camp.dead:
        _say(pytestconfig, line)
    for line in campaign_table(camp):
        _say(pytestconfig, line)
    keep = os.environ.get("QTUI_LLAMACPP_SESSION_OUT")
    if keep:  # how sessions/llamacpp-smollm2.qtsession is refreshed
        shutil.copyfile(path, keep)
        _say(pytestconfig, f"session copied to {keep}")
    camp.session_path = path
    camp.session = load_session(path)
    return camp


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1000:.0f}"


def campaign_table(camp: Campaign) -> list[str]:
    """What was measured, as lines for the CI log (and docs/llamacpp.md)."""
    base = camp.profile.baseline.name
    lines = ["endpoint  MB     level  req/s  out tok/s  TTFT p50 ms  e2e p50 ms  pass  flips  KL"]
    for ep in camp.profile.endpoints:
        score = score_endpoint(ep.name, camp.quality)
        agree = agreement(ep.name, base, camp.quality) if ep.name != base else None
        mb = camp.files[ep.precision].stat().st_size / 1e6
        for i, lv in enumerate(camp.results[ep.name].levels):
            st = lv.stats
            tail = ""
            if i == 0:
                ok = f"{score.success.k}/{score.items}"
                fr = None if agree is None else agree.flip_rate
                kld = None if agree is None else agree.mean_kl
                flips = "-" if fr is None else f"{fr:.2f}"
                kl = "-" if kld is None else f"{kld:.4f}"
                tail = f"  {ok:>5}  {flips:>5}  {kl}"
            size = f"{mb:.1f}" if i == 0 else ""
            lines.append(
                f"{ep.name if i == 0 else '':<8}  {size:>5}  {lv.level:>5g}  "
                f"{st.rps:>5.2f}  {st.out_tps:>9.1f}  {_ms(st.ttft.p50):>11}  "
                f"{_ms(st.e2e.p50):>10}{tail}"
            )
    for label, recs in (
        ("reference asked again", camp.control),
        ("same weights, F32", camp.same_weights),
    ):
        if recs:
            name = recs[0].endpoint
            a = agreement(name, base, camp.quality + recs)
            flips = "-" if a.flip_rate is None else f"{a.flip_rate:.2f}"
            kl = "-" if a.mean_kl is None else f"{a.mean_kl:.4f}"
            lines.append(f"control {name} ({label}): flips {flips}  KL {kl}")
    return lines


def answered(camp: Campaign, recs: list[QualityRecord], what: str, server: str) -> None:
    """Fail with one clear line when a control answered no item (its server died, most likely)."""
    if not any(r.output_text is not None for r in recs):
        log = camp.logs.get(server, "the server logs")
        why = f"{recs[0].reason}: {recs[0].detail}" if recs else "nothing was asked"
        pytest.fail(f"{what}: no item answered ({why}) — see {log}", pytrace=False)
