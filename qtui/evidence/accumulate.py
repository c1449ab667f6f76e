"""Everything a decision rests on, accumulated from the session journal's records (pure).

The live app (as records arrive), a replay (in the session's order) and `qtui report` / `qtui
bench` (over a whole session) feed the same records, in the same order, into an ``Evidence``;
each endpoint's load levels, capacity, power at a load level, energy, error counts and quality
come from here, so every place that shows them shows the same figures.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from qtui.config.profile import Profile
from qtui.evidence.accounting import Counts
from qtui.evidence.capacity import ENDPOINT_FAILED, Capacity, capacity, failed_capacity
from qtui.evidence.judging import Judged, JudgeJob
from qtui.evidence.levels import LevelPoint, held_point, num, sweep_point
from qtui.evidence.records import QualityRecord
from qtui.evidence.sharing import Isolation, sharing_label
from qtui.quality.agreement import PairCache
from qtui.quality.noise import again_name, floor_line

ENERGY_WINDOW_S = 60  # power and energy over the last minute when no level says otherwise
ENERGY_SAMPLES = 4 * ENERGY_WINDOW_S  # GPU samples come at up to 4 Hz
POWER_SAMPLES = 4 * 900  # per-GPU power samples kept: 15 minutes at 4 Hz, longer than a level
TOKEN_SECONDS = ENERGY_WINDOW_S  # output tokens per second kept, for energy per token
JUDGED = ("verdict", "verdict_reason", "verdict_words", "undecided", "items_needed", "paired",
          "drop_ci95", "agreement", "by_tag_verdict")  # fmt: skip  # what the rule writes


@dataclass
class _Mean:
    """A running mean of one value per sample time (a later GPU of the same sample replaces)."""

    total: float = 0.0
    n: int = 0
    last_t: float | None = None
    last: float = 0.0

    def add(self, t: float, value: float) -> None:
        if self.last_t == t:
            self.total += value - self.last
        else:
            self.total += value
            self.n += 1
        self.last_t, self.last = t, value

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


@dataclass
class EndpointEvidence:
    """What was measured for one endpoint, as accumulated so far."""

    held: dict[tuple[float, str], list[dict[str, Any]]] = field(default_factory=dict)
    sweep: dict[float, dict[str, Any]] = field(default_factory=dict)  # sweep_level rows
    counts: Counts = field(default_factory=Counts)  # measured seconds, cancelled apart
    seconds: int = 0  # client seconds measured
    client_bound_seconds: int = 0
    gpus: dict[Any, dict[str, Any]] = field(default_factory=dict)  # latest sample per GPU
    gpu: dict[str, Any] = field(default_factory=dict)  # summed over the endpoint's GPUs
    energy: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=ENERGY_SAMPLES)
    )  # (t, J summed over the endpoint's GPUs)
    tokens: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=TOKEN_SECONDS)
    )  # (t, output tokens in the second ending at t)
    power: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=POWER_SAMPLES)
    )  # (t, W per GPU: the sample's power summed over the endpoint's GPUs ÷ GPUs reporting)
    held_power: dict[tuple[float, str], _Mean] = field(default_factory=dict)
    sweep_power: dict[float, float] = field(default_factory=dict)  # W per GPU per sweep level
    power_seen: bool = False  # some GPU sample arrived (with or without a power reading)
    summary: dict[str, Any] = field(default_factory=dict)  # its recorded quality_summary row
    failed: str = ""  # a ``load``/``search_failed`` event: the endpoint failed mid-search
    failed_what: str = ENDPOINT_FAILED  # ... or the client was the limit (``CLIENT_STOPPED``)
    server: dict[str, Any] = field(default_factory=dict)  # latest server_second stating its KV
    model: str = ""  # the served model id, as discovered
    weights: dict[str, Any] = field(default_factory=dict)  # launch/weights event: server's log
    preemptions: float = 0.0  # vllm:num_preemptions_total over the session (rate × seconds)
    preemptions_seen: bool = False  # the server reports the counter
    peak_kv_usage: float | None = None  # highest KV-cache use (0-1) the server reported
    _server_t: float | None = None


class Evidence:
    """Accumulates a profile's records; answers with each endpoint's points and capacity."""

    def __init__(self, profile: Profile, *, measuring: bool = True) -> None:
        self.profile = profile
        self.eps: dict[str, EndpointEvidence] = {
            e.name: EndpointEvidence() for e in profile.endpoints
        }
        load = profile.load
        self.mode = load.mode
        self.level = float(load.rate if load.mode == "rate" else load.concurrency)
        self.measuring = measuring  # held seconds count only while a held load is measured
        self._items: list[QualityRecord] = []
        self._judged = Judged()
        self.judge_later = False  # the app judges in a thread: judge_job, then take_judgement
        self._again = again_name(profile.baseline.name)  # the baseline's second pass
        self._noise: dict[str, Any] = {}  # the recorded summary's noise floor
        self._pairs: PairCache = {}  # agreement per pair of the items above (kept alive here)
        self.isolation: Isolation | None = None  # the run's ``load``/``isolation`` event

    @property
    def unit(self) -> str:
        """What the current load level counts."""
        by = self.profile.load.sweep_by if self.mode == "sweep" else self.mode
        return "req/s" if by == "rate" else "users"

    # -- records in ------------------------------------------------------------------------
    def ingest(self, kind: str, rec: Mapping[str, Any]) -> None:
        """Take one journal record; kinds that carry no evidence are ignored."""
        name = rec.get("endpoint")
        if kind == "event":
            self._event(rec)
        elif kind == "quality_summary":
            if "noise_floor" in rec:
                self._noise = {"floor": rec.get("noise_floor"),
                               "text": rec.get("noise_floor_text")}  # fmt: skip
            for row in rec.get("endpoints") or [rec]:
                if row.get("endpoint") in self.eps:
                    q = dict(row)
                    q.setdefault("success", q.get("success_rate"))
                    self.eps[row["endpoint"]].summary = q
        elif kind == "quality_item":
            if name in self.eps or name == self._again:  # the noise floor is the second pass
                self._items.append(QualityRecord.from_dict(dict(rec)))
        elif name not in self.eps:
            return
        elif kind == "sweep_level":
            ep = self.eps[name]
            level = float(rec["level"])
            ep.sweep[level] = dict(rec)
            if (w := _level_power(ep.power, rec)) is not None:
                ep.sweep_power[level] = w
        elif kind == "client_second":
            self._second(self.eps[name], rec)
        elif kind == "server_second":
            self._server(self.eps[name], rec)
        elif kind == "discovery":
            self.eps[name].model = str(rec.get("model") or rec.get("model_id") or "")
        elif kind == "gpu_sample":
            self._gpu(self.eps[name], rec)

    def _event(self, rec: Mapping[str, Any]) -> None:
        value = rec.get("value")
        if rec.get("kind") == "launch" and rec.get("key") == "weights":
            if isinstance(value, Mapping) and value.get("endpoint") in self.eps:
                self.eps[value["endpoint"]].weights = dict(value)
            return
        if rec.get("kind") != "load":
            return
        key, value = rec.get("key"), rec.get("value")
        if key == "isolation" and isinstance(value, Mapping):
            self.isolation = Isolation.from_dict(value)
        elif key == "search_failed" and isinstance(value, Mapping):
            if (ep := self.eps.get(str(value.get("endpoint")))) is not None:
                ep.failed = str(value.get("why") or "no reason recorded")
                ep.failed_what = str(value.get("what") or ENDPOINT_FAILED)
        elif key == "level" and isinstance(value, int | float):
            self.level = float(value)
        elif key == "mode" and value in ("concurrency", "rate", "sweep"):
            self.mode = value
        elif key == "measuring":
            self.measuring = bool(value)

    def _second(self, ep: EndpointEvidence, rec: Mapping[str, Any]) -> None:
        # a sweep moves the level without a level event (and `qtui bench` writes none): its
        # seconds say the level they ran at
        by_seconds = self.mode == "sweep" or not self.measuring
        if by_seconds and (driven := num(rec, "level")) is not None:
            self.level = driven
        # what the second delivered, less what failed later (levels.seconds_rate's rule, here
        # per second for the last minute's energy per token)
        tokens = (num(rec, "out_tps") or 0.0) * (num(rec, "duration_s") or 1.0)
        tokens = max(0.0, tokens - (num(rec, "unpaid_tokens") or 0.0))
        ep.tokens.append((num(rec, "t") or 0.0, tokens))
        errors = {k[4:]: int(v) for k, v in rec.items() if k.startswith("err_") and v}
        ep.counts = ep.counts.plus(
            int(num(rec, "requests") or 0), errors, int(num(rec, "cancelled") or 0),
            int(num(rec, "silent_at_stop") or 0), num(rec, "silent_max_s") or 0.0,
            int(num(rec, "partial_tokens") or 0),
        )  # fmt: skip
        ep.seconds += 1
        ep.client_bound_seconds += bool(rec.get("client_bound"))
        # a step's warm-up and cool-down seconds are not its evidence (its ramp would lower
        # the level's rates); records without a phase (before 2026-12-04) count as measured
        if self.measuring and rec.get("phase") in (None, "measure"):
            ep.held.setdefault((self.level, self.unit), []).append(dict(rec))

    def _server(self, ep: EndpointEvidence, rec: Mapping[str, Any]) -> None:
        """The KV cache the server states, its peak use and its preemptions."""
        t = num(rec, "t")
        rate = num(rec, "preemptions_per_s")
        if rate is not None and t is not None and ep._server_t is not None and t > ep._server_t:
            ep.preemptions += rate * (t - ep._server_t)
            ep.preemptions_seen = True
        if t is not None:
            ep._server_t = t
        use = num(rec, "kv_cache_usage")
        if use is not None and (ep.peak_kv_usage is None or use > ep.peak_kv_usage):
            ep.peak_kv_usage = use
        if rec.get("kv_cache_tokens") is not None or not ep.server.get("kv_cache_tokens"):
            ep.server = dict(rec)

    def _gpu(self, ep: EndpointEvidence, rec: Mapping[str, Any]) -> None:
        ep.gpu = gpu_total(ep.gpus, rec)
        joules, t = num(ep.gpu, "energy_j"), num(rec, "t")
        if joules is not None and t is not None:
            if ep.energy and ep.energy[-1][0] == t:  # another GPU of the same sample
                ep.energy.pop()
            ep.energy.append((t, joules))
        ep.power_seen = True
        watts = [w for g in ep.gpus.values() if (w := num(g, "power_w")) is not None]
        if t is None or not watts:
            return
        per_gpu = sum(watts) / len(watts)
        if ep.power and ep.power[-1][0] == t:  # another GPU of the same sample
            ep.power.pop()
        ep.power.append((t, per_gpu))
        if self.measuring:
            ep.held_power.setdefault((self.level, self.unit), _Mean()).add(t, per_gpu)

    # -- evidence out ----------------------------------------------------------------------
    def points(self, name: str) -> tuple[LevelPoint, ...]:
        """The endpoint's load levels: its sweep steps if it was swept, else its held loads."""
        ep = self.eps[name]
        if ep.sweep:
            unit = "req/s" if self.profile.load.sweep_by == "rate" else "users"
            return tuple(sweep_point(r, unit) for _, r in sorted(ep.sweep.items()))
        held = (held_point(lv, secs, unit) for (lv, unit), secs in sorted(ep.held.items()))
        return tuple(p for p in held if p is not None)

    def sharing(self, name: str) -> str:
        """'' when the endpoint's capacity rests on steps measured with its GPU to itself; else
        ``sharing_label``: a sweep whose steps each shared the GPU with a loaded neighbour, or a
        held load (every endpoint at once) of an endpoint whose GPU another one serves too."""
        ep = self.eps[name]
        if ep.sweep:
            rows = [r for r in ep.sweep.values() if "sharing" in r]
            if not rows or any(not r["sharing"] for r in rows):
                return ""  # an older record says nothing; an isolated step exists
            others = {o.strip() for r in rows for o in str(r["sharing"]).split(",")}
            gpu = str(rows[0].get("shared_gpu") or "")
            return sharing_label(gpu, [n for n in self.eps if n in others])
        group = self.isolation.group_of(name) if self.isolation is not None else None
        if group is None or not group.shared or not ep.held:
            return ""
        return sharing_label(group.gpu, [n for n in group.names if n != name])

    def capacity(self, name: str) -> Capacity:
        """The one capacity rule over the endpoint's points: the steps measured with its GPU to
        itself when there are any, else all of them, labelled with whom they shared the GPU."""
        ep = self.eps[name]
        own = [r for r in ep.sweep.values() if r.get("sharing") == ""]
        if own and len(own) < len(ep.sweep):
            unit = "req/s" if self.profile.load.sweep_by == "rate" else "users"
            pts = tuple(sweep_point(r, unit) for r in sorted(own, key=lambda r: r["level"]))
            return failed_capacity(capacity(pts, self.profile.slo), ep.failed, ep.failed_what)
        # a search stopped before its first verdict kept no step: its seconds are no held load
        # (bench records a sweep's seconds too; they would read "held at" the profile's level)
        points = self.points(name) if ep.sweep or not ep.failed else ()
        cap = failed_capacity(capacity(points, self.profile.slo), ep.failed, ep.failed_what)
        shared = self.sharing(name)
        return replace(cap, shared=shared) if shared else cap

    def power(self, name: str, level: float | None) -> tuple[float | None, str]:
        """W per GPU for the energy cost, and its basis (or why there is none).

        The mean power while the endpoint ran at the capacity ``level``, when it was measured
        there; else the mean over the last ``ENERGY_WINDOW_S`` seconds of samples.
        """
        ep = self.eps[name]
        at_level = ep.sweep_power if ep.sweep else {
            lv: m for (lv, _), acc in ep.held_power.items() if (m := acc.mean) is not None
        }  # fmt: skip
        if level is not None and (w := at_level.get(level)) is not None:
            return w, f"at load level {level:g}"
        if ep.power:
            t_end = ep.power[-1][0]
            recent = [w for t, w in ep.power if t >= t_end - ENERGY_WINDOW_S]
            where = "" if level is None else f"; none measured at load level {level:g}"
            return statistics.fmean(recent), f"mean of the last {ENERGY_WINDOW_S} s{where}"
        if not ep.power_seen:
            return None, "no power reading (no GPU telemetry)"
        detail = str(ep.gpu.get("detail") or "") or "the GPU telemetry reports no power"
        return None, f"no power reading ({detail})"

    def quality(self, name: str) -> dict[str, Any]:
        """The endpoint's quality row with its verdict. Where the golden answers were recorded
        the verdict is judged from them by the rule that writes verdicts
        (``qtui.quality.summary``), so recordings made under an older rule are judged by
        today's; a recorded summary without its items keeps its verdict (an older
        "not-enough-data" reads as NOT DECIDED, not enough items). {} when nothing was
        measured."""
        row = self.eps[name].summary
        if not self._items:
            if row.get("verdict") == "not-enough-data":
                return {**row, "verdict": "not-decided", "undecided": "not enough items"}
            return row
        judged = self._judge().rows.get(name)
        if judged is None:
            return row
        # recordings without the answers' texts keep their recorded agreement (flips, KL)
        texts = any(r.output_text is not None for r in self._items)
        verdict = {k: judged[k] for k in JUDGED if texts or k != "agreement"}
        return {**judged, **row, **verdict}

    def _judge(self) -> Judged:
        """The recorded items judged by today's rule, once per new item; with ``judge_later``
        the latest judgement taken back (``take_judgement``), however many items it covers."""
        if not self.judge_later and (job := self.judge_job()) is not None:
            self._judged = job.run()
        return self._judged

    def judge_job(self) -> JudgeJob | None:
        """The items so far, to judge elsewhere (a thread); None when the judgement is current."""
        if self._judged.items == len(self._items):
            return None
        return JudgeJob(self, tuple(self._items), tuple(self.eps), self.profile.baseline.name,
                        self.profile.slo.quality, self._pairs)  # fmt: skip

    def take_judgement(self, job: JudgeJob, judged: Judged) -> bool:
        """Keep a judgement made from ``job`` when it is this evidence's and covers more items
        than the one kept (the latest data wins); whether it was kept."""
        if job.owner is not self or judged.items <= self._judged.items:
            return False
        self._judged = judged
        return True

    def noise_floor(self) -> tuple[dict[str, Any] | None, str]:
        """The baseline's own disagreement (self-flip rate, its 95 % upper bound, self-KL) and
        the line every view shows (``qtui.quality.noise.floor_line``): from the recorded items
        when there are any, else from a recorded summary; (None, "") without a quality run."""
        base = self.profile.baseline.name
        if self._items:
            doc = self._judge().doc
            return doc.get("noise_floor"), str(doc.get("noise_floor_text") or "")
        if self._noise:
            text = self._noise.get("text") or floor_line(None, base)
            return self._noise.get("floor"), str(text)
        return None, ""

    def quality_delta_pp(self, name: str) -> float | None:
        """Success vs the baseline in points: minus the paired drop over the items both
        answered (the figure the verdict judges) when the run recorded the pairs, else the
        difference of the success rates."""
        base = self.profile.baseline.name
        if name == base:
            return None
        q, b = self.quality(name), self.quality(base)
        paired = q.get("paired")
        if isinstance(paired, Mapping):
            pairs, lost, won = (num(paired, k) for k in ("pairs", "only_baseline", "only_endpoint"))
            if pairs and lost is not None and won is not None:
                return (won - lost) / pairs * 100
            if isinstance(paired.get("delta"), int | float):
                return float(paired["delta"]) * 100
        ok, base_ok = num(q, "success"), num(b, "success")
        return None if ok is None or base_ok is None else (ok - base_ok) * 100


def gpu_total(gpus: dict[Any, dict[str, Any]], rec: Mapping[str, Any]) -> dict[str, Any]:
    """Keep ``rec`` as its GPU's latest sample; the endpoint's memory is the sum over its GPUs.

    A record without a GPU index (no driver, exporter down, GPU gone) replaces them all.
    """
    if rec.get("gpu") is None:
        gpus.clear()
    else:
        gpus.pop(None, None)
    gpus[rec.get("gpu")] = dict(rec)
    out = dict(rec)
    for key in ("memory_total", "memory_used", "memory_reserved", "power_w", "energy_j"):
        vals = [v for g in gpus.values() if (v := num(g, key)) is not None]
        out[key] = sum(vals) if vals else None
    return out


def _level_power(power: deque[tuple[float, float]], rec: Mapping[str, Any]) -> float | None:
    """Mean W per GPU over a sweep level's span (``t_start``, else ``t_end`` − ``duration_s``)."""
    t_end = num(rec, "t_end")
    t_start = num(rec, "t_start")
    if t_start is None and t_end is not None and (d := num(rec, "duration_s")) is not None:
        t_start = t_end - d
    if t_start is None or t_end is None:
        return None
    watts = [w for t, w in power if t_start <= t <= t_end]
    return statistics.fmean(watts) if watts else None
