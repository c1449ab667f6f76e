"""A deterministic feed for tests, snapshots and benchmarks: no sockets, no clock."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from qtui.cost.figure import USD_MONTH, USD_PER_M_TOKENS, USD_PER_REQUEST, format_value
from qtui.evidence.memory import KvCache, Memory, shape_for, weights, workload_context
from qtui.live import intents as it
from qtui.live import ladder
from qtui.live.model import (
    CostInputs,
    CostView,
    EndpointView,
    GpuMem,
    History,
    Latency,
    QualityView,
    RunView,
    Snapshot,
    SweepPoint,
)

GIB = 1024**3
PRICE = {"H100": 6.88, "L4": 0.80, "A100-80GB": 4.10, "L40S": 1.86}
CATEGORY_FACTOR = {"on-demand": 1.0, "spot": 0.35, "committed": 0.6}
# name, precision, speed factor, weights GiB, quality, simulated status
SPECS = (
    ("bf16", "bf16", 1.0, 15.0, 0.93),
    ("fp8", "fp8", 1.45, 8.0, 0.91),
    ("int4-awq", "int4-awq", 1.9, 5.0, 0.82),
    ("int8", "int8", 1.35, 8.5, 0.92),
)


@dataclass
class _Cost:
    gpu: str = "H100"
    category: str = "on-demand"
    table: str = "aws"
    replicas: int | None = None  # None: auto


@dataclass
class FakeFeed:
    """``n`` endpoints of one model; ``advance()`` moves one simulated second forward."""

    n: int = 3
    steps: int = 30
    auto: bool = False
    dead: tuple[str, ...] = ()
    failing: tuple[str, ...] = ()  # endpoints whose users back off (every request fails)
    _seq: int = 0
    _t: int = 0
    _mode: str = "concurrency"
    _level: float = 16.0
    _running: bool = True
    _sent: int = 0
    _workload: str = "synthetic"
    _traffic: float = 20.0
    _hours: float = 730.0
    _costs: dict[str, _Cost] = field(default_factory=dict)
    _quality_done: bool = True
    log: list[it.Intent] = field(default_factory=list)
    started: bool = False
    stopped: bool = False

    def __post_init__(self) -> None:
        self._costs = {s[0]: _Cost() for s in SPECS[: self.n]}
        for _ in range(self.steps):
            self.advance()

    def advance(self) -> None:
        if self._running:
            self._t += 1
            self._sent += int(self._level * 2)
        self._seq += 1

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self._running = False
        self.stopped = True
        self._seq += 1

    def send(self, intent: it.Intent) -> str | None:
        self.log.append(intent)
        reason = self._apply(intent)
        self._seq += 1
        return reason

    def _apply(self, i: it.Intent) -> str | None:
        match i:
            case it.StartLoad():
                self._running = True
            case it.StopLoad():
                self._running = False
            case it.SetMode(mode=m):
                self._mode = m
                self._level = 4.0 if m == "rate" else 16.0
            case it.StepLevel(direction=d):
                self._level = ladder.step(self._mode, self._level, d)  # type: ignore[arg-type]
            case it.SetWorkload(name=w):
                self._workload = w
            case it.RunQuality():
                self._quality_done = True
            case it.SetReplicas(endpoint=e, replicas=r):
                if r != "auto" and r < 1:
                    return "replicas must be at least 1"
                self._costs[e].replicas = None if r == "auto" else r
            case it.StepReplicas(endpoint=e, delta=d):
                c = self._costs[e]
                base = c.replicas if c.replicas is not None else self._needed(e)
                c.replicas = max(1, (base or 1) + d)
            case it.SetGpu(endpoint=e, gpu=g):
                if g not in PRICE:
                    return f"GPU {g} is not in the price table"
                self._costs[e].gpu = g
            case it.SetCategory(endpoint=e, category=c):
                self._costs[e].category = c
            case it.SetPriceTable(endpoint=e, table=t):
                self._costs[e].table = t
            case it.SetTraffic(rps=r):
                if r <= 0:
                    return "traffic target must be above 0 req/s"
                self._traffic = r
            case it.SetHours(hours=h):
                if not 0 < h <= 744:
                    return "hours per month must be in (0, 744]"
                self._hours = h
            case _:
                return "not available in this feed"
        return None

    def _spec(self, name: str) -> tuple[str, str, float, float, float]:
        return next(s for s in SPECS if s[0] == name)

    def _capacity_rps(self, name: str) -> float:
        gpu_factor = 0.25 if self._costs[name].gpu == "L4" else 1.0
        return 6.0 * self._spec(name)[2] * gpu_factor

    def _capacity_p95_s(self, name: str) -> float:
        """The fake's e2e p95 at its capacity: faster precisions answer sooner."""
        return 6.0 / self._spec(name)[2]

    def _needed(self, name: str) -> int:
        return math.ceil(self._traffic * 1.2 / self._capacity_rps(name))

    def _cost(self, name: str, base_monthly: float | None) -> CostView:
        c = self._costs[name]
        price = PRICE[c.gpu] * CATEGORY_FACTOR[c.category]
        needed = self._needed(name)
        replicas = c.replicas if c.replicas is not None else needed
        tps = self._capacity_rps(name) * 128
        monthly = replicas * price * self._hours
        delta = None if base_monthly is None else monthly - base_monthly
        return CostView(
            gpu=c.gpu,
            price_table=c.table,
            category=c.category,
            priced_region="us-east-1",
            regions=("us-east-1",),
            price_label=f"{c.table} fake.{c.gpu.lower()} (us-east-1) {c.category}, as of 2026-11",
            usd_per_gpu_hour=price,
            replicas=replicas,
            replicas_auto=c.replicas is None,
            replicas_needed=needed,
            usd_per_1m=price / (tps * 3600) * 1e6,
            output_tps_per_replica=tps,
            p95_at_capacity_s=self._capacity_p95_s(name),
            monthly_usd=monthly,
            delta_monthly_usd=delta,
            delta_pct=None if delta is None or not base_monthly else delta / base_monthly,
            warning=f"below need ({needed}): SLO breach" if replicas < needed else "",
            **_fake_unit_and_energy(price, self._capacity_rps(name), replicas, self._hours),
        )

    def _endpoint(self, i: int, base_monthly: float | None) -> EndpointView:
        name, prec, speed, _weights, q = SPECS[i]
        if name in self.dead:
            return EndpointView(
                name=name,
                precision=prec,
                model="llama-3.1-8b",
                simulated=True,
                baseline=i == 0,
                status="dead",
                reason="connect: connection refused",
                cost=self._cost(name, base_monthly),
            )
        n = min(self._t, 120)
        ts = tuple(float(t) for t in range(self._t - n + 1, self._t + 1))
        wave = [1 + 0.1 * math.sin(t / 3 + i) for t in ts]
        load = self._level if self._running else 0.0
        out = tuple(load * 40 * speed * w for w in wave)
        ttft95 = tuple(0.05 + 0.004 * load / speed * w for w in wave)
        itl95 = tuple(0.012 / speed * w + 0.0004 * load for w in wave)
        e2e95 = tuple(a + 128 * b for a, b in zip(ttft95, itl95, strict=True))
        sweep = tuple(
            SweepPoint(
                lv, lv * 40 * speed / (1 + lv / 64), 0.5 + lv * 0.06 / speed, lv < 32 * speed
            )
            for lv in (1, 4, 16, 32, 64)
        )
        return EndpointView(
            name=name,
            precision=prec,
            model="llama-3.1-8b",
            simulated=True,
            baseline=i == 0,
            status="ok",
            backing_off="backing off (2 users)" if name in self.failing else "",
            stopped="2 silent for 4 s" if name in self.failing else "",
            gpu_mem=GpuMem(used=72 * GIB, total=80 * GIB, reserved=0.6 * GIB, source="dcgm"),
            kv_usage=min(0.99, load / (64 * speed)),
            peak_kv_usage=min(0.99, load / (64 * speed)),
            preemptions=0.0,
            memory=Memory(
                weights(shape_for("llama-3.1-8b"), prec),
                KvCache(tokens=int(400_000 * speed), max_concurrency=400_000 * speed / 131_072),
                workload_context(512, 128),
            ),
            running=int(load),
            waiting=max(0, int(load - 32 * speed)),
            out_tps=out[-1] if out else None,
            rps=out[-1] / 128 if out else None,
            ttft=Latency(ttft95[-1] * 0.6 if out else None, ttft95[-1] if out else None, 500, 10),
            itl=Latency(itl95[-1] * 0.8 if out else None, itl95[-1] if out else None, 40, 10),
            e2e=Latency(e2e95[-1] * 0.8 if out else None, e2e95[-1] if out else None, 8000, 10),
            error_rate=0.0 if i < 2 else 0.002,
            quality=QualityView(
                score=q,
                verdict="go" if q >= 0.85 else "no-go",
                reason="meets floor" if q >= 0.85 else f"success {q:.0%} < floor 85%",
                items=100,
            )
            if self._quality_done
            else QualityView(),
            cost=self._cost(name, base_monthly),
            history=History(
                t=ts,
                out_tps=out,
                rps=tuple(o / 128 for o in out),
                ttft_p50_s=tuple(x * 0.6 for x in ttft95),
                ttft_p95_s=ttft95,
                itl_p95_s=itl95,
                e2e_p95_s=e2e95,
            ),
            sweep=sweep,
            go=self._quality_done and q >= 0.85,
            decision=("go" if q >= 0.85 else "no-go") if self._quality_done else "not-decided",
            undecided="" if self._quality_done else "not measured",
            go_reasons=("fake: quality floor only",),
            capacity=f"{self._capacity_rps(name):.3g} req/s per replica (load level 16)",
        )

    def snapshot(self) -> Snapshot:
        if self.auto:
            self.advance()
        base = self._cost(SPECS[0][0], None).monthly_usd
        eps = tuple(self._endpoint(i, base) for i in range(self.n))
        go = sorted((e.cost.monthly_usd, e.name) for e in eps
                    if e.go and e.cost.monthly_usd is not None)  # fmt: skip
        rec = go[0][1] if go else None
        saved = None if not go or base is None else base - go[0][0]
        return Snapshot(
            recommended=rec,
            recommendation=f"{rec} is the cheapest go precision (fake)" if rec else "none is go",
            savings_month_usd=saved,
            seq=self._seq,
            run=RunView(
                source="fake",
                profile="demo",
                mode=self._mode,  # type: ignore[arg-type]
                level=self._level,
                running=self._running,
                elapsed_s=float(self._t),
                requests_sent=self._sent,
                workload=self._workload,
                workloads=("synthetic", "golden"),
                client_bound="event-loop lag 120 ms" if self._level >= 512 else "",
            ),
            endpoints=eps,
            cost=CostInputs(
                traffic_rps=self._traffic,
                hours_per_month=self._hours,
                price_tables=("aws", "gcp", "azure"),
                gpu_types=tuple(PRICE),
                table_sources=tuple(
                    f"{t}: fake prices, as of 2026-11"
                    for t in sorted({c.table for c in self._costs.values()})
                ),
            ),
        )


def _fake_unit_and_energy(
    usd_gpu_h: float, rps: float, replicas: int, hours: float
) -> dict[str, Any]:
    """$/1M input, $/request, blended (4 input tokens per output) and energy at 500 W/GPU."""
    tps = rps * 128
    inp, req = usd_gpu_h / (tps * 4 * 3600) * 1e6, usd_gpu_h / (rps * 3600)
    blended = usd_gpu_h / (tps * 3600) * 1e6 / 5
    energy = 500 * replicas * hours / 1000 * 0.12
    power = "500 W/GPU at load level 16"
    return {
        "usd_per_1m_input": inp,
        "usd_per_1m_blended": blended,
        "usd_per_request": req,
        "unit_costs": f"input {format_value(inp, USD_PER_M_TOKENS)} · "
        f"{format_value(req, USD_PER_REQUEST)} · blended {format_value(blended, USD_PER_M_TOKENS)}"
        " at 4.00:1 in:out (measured at load level 16)",
        "energy_month_usd": energy,
        "energy_month": format_value(energy, USD_MONTH),
        "energy_power": power,
        "energy_basis": f"{power} × {replicas} × 1 GPU × {hours:g} h × $0.12/kWh",
    }
