"""The seed's table, "cheapest GPU per precision": for each precision, every GPU type in
qtui/data/gpus.toml, its capacity there (measured, else projected), whether it fits, the
replicas and $/month at the traffic target at the cheapest price the loaded tables give (pure).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qtui.cost.compare import EndpointMeasure, FinanceRow, build_comparison
from qtui.cost.figure import USD_MONTH, Figure, replicas_and_cost_text
from qtui.cost.prices import PriceQuote, quote
from qtui.cost.whatif import WhatIf
from qtui.data import gpu_specs
from qtui.decision.gpus import OnGpu, on_gpu
from qtui.evidence.accumulate import Evidence

MEASURED = "measured"


@dataclass(frozen=True, slots=True)
class GpuOption:
    """One precision on one GPU type, priced at the traffic target."""

    endpoint: str
    precision: str
    gpu: str
    on: OnGpu
    finance: FinanceRow

    @property
    def fits(self) -> bool | None:
        return None if self.on.fit is None else self.on.fit.fits

    @property
    def monthly(self) -> float | None:
        return self.finance.monthly.value

    @property
    def how(self) -> str:
        """'measured' or 'projected from H100: …' (or why there is no capacity)."""
        return MEASURED if self.on.measured else self.on.basis


def cheapest_price(whatif: WhatIf, gpu: str, category: str, discount: float) -> tuple[str, str]:
    """(table, why not) of the loaded table pricing ``gpu`` cheapest in ``category``."""
    best: tuple[float, str] | None = None
    for name in sorted(whatif.tables):
        got = quote(whatif.tables, name, gpu, category, discount)
        if isinstance(got, PriceQuote) and (best is None or got.usd_per_gpu_hour < best[0]):
            best = (got.usd_per_gpu_hour, name)
    if best is None:
        return "", f"no loaded price table prices {gpu} ({category})"
    return best[1], ""


def gpu_options(evidence: Evidence, whatif: WhatIf, name: str) -> list[GpuOption]:
    """Every GPU type for one endpoint's precision: fitting and priced first, cheapest first;
    then the ones without a price; then those that do not fit (each with its shortfall). None
    for an endpoint measured on something not in qtui/data/gpus.toml (a CPU)."""
    e = next(x for x in evidence.profile.endpoints if x.name == name)
    if e.gpu not in gpu_specs():  # measured on a CPU: nothing to project from
        return []
    ep = whatif.endpoints[name]
    out = []
    caps = {x.name: evidence.capacity(x.name) for x in evidence.profile.endpoints}
    for gpu in gpu_specs():
        on = on_gpu(evidence, name, gpu, ep.gpus_per_replica, caps)
        table, why = cheapest_price(whatif, gpu, ep.pricing, ep.committed_discount_pct)
        priced = replace(
            ep, gpu=gpu, price_table=table or ep.price_table, region=None, replicas="auto",
            usd_per_gpu_hour=None,
        )  # fmt: skip
        wi = replace(whatif, endpoints={name: priced}, on_event=None)
        measure = EndpointMeasure(
            name=name,
            precision=e.precision,
            capacity=on.capacity,
            measured_gpu=e.gpu,
            capacity_basis=on.basis,
        )
        row = build_comparison([measure], wi, name).row(name)
        if why and row.monthly.value is None:
            row = replace(row, monthly=Figure.missing(why, USD_MONTH))
        out.append(GpuOption(name, e.precision, gpu, on, row))

    def order(o: GpuOption) -> tuple[int, float]:
        if o.fits is False or not o.on.capacity.usable:
            return (2, 0.0)
        return (0, o.monthly) if o.monthly is not None else (1, 0.0)

    return sorted(out, key=order)


def option_text(o: GpuOption) -> str:
    """'A100-80GB: 3 replica(s), $7,514/month (projected from H100: …)', as bench prints it."""
    return f"{o.gpu}: {replicas_and_cost_text(o.finance.replicas, o.finance.monthly)} ({o.how})"


def option_record(o: GpuOption) -> dict[str, object]:
    """One option as summary.json keeps it."""
    return {
        "gpu": o.gpu,
        "measured": o.on.measured,
        "basis": o.on.basis,
        "capacity_rps": o.on.capacity.rps if o.on.capacity.usable else None,
        "replicas": o.finance.replicas.value,
        "monthly_usd": o.monthly,
        "monthly_reason": o.finance.monthly.reason,
        "fits": o.fits,
        "fit": o.on.fit_text,
    }
