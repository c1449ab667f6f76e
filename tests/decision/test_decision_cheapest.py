"""Cheapest GPU per precision: every GPU type, measured wins, projected priced at the cheapest
table, the ones that do not fit last (hand arithmetic)."""

from __future__ import annotations

import pytest

from qtui.config.pricing import PriceTable
from qtui.cost.whatif import WhatIf
from qtui.data import gpu_specs
from qtui.decision.cheapest import gpu_options, option_text
from qtui.evidence.accumulate import Evidence
from qtui.session.synth import SYNTH_PRICES, synth_profile

L4_TABLE = PriceTable.model_validate(
    {
        "table": {"provider": "L", "source": "test rows", "as_of": "2026-02"},
        "rows": [{"gpu": "L4", "instance": "l", "gpus_per_instance": 1, "region": "east",
                  "on_demand_usd_per_hour": 1.0}],
    }
)  # fmt: skip


def _setup() -> tuple[Evidence, WhatIf]:
    profile = synth_profile(2)
    ev = Evidence(profile)
    ev.ingest("discovery", {"endpoint": "bf16", "model": "meta-llama/Llama-3.1-8B-Instruct"})
    for level, e2e in ((1, 1.0), (4, 9.0)):  # 2 req/s at 1 user passes, 8 at 4 breaks 8 s
        ev.ingest(
            "sweep_level",
            {"endpoint": "bf16", "level": level, "rps": 2.0 * level, "in_tps": 1024.0 * level,
             "out_tps": 256.0 * level, "ttft_p95": 0.1, "itl_p95": 0.01, "e2e_p95": e2e,
             "error_rate": 0.0},
        )  # fmt: skip
    tables = {"synth": PriceTable.model_validate(SYNTH_PRICES), "l": L4_TABLE}
    return ev, WhatIf.from_profile(profile, tables)


def test_every_gpu_cheapest_first_measured_marked_too_small_last() -> None:
    ev, wi = _setup()
    opts = gpu_options(ev, wi, "bf16")
    assert {o.gpu for o in opts} == set(gpu_specs())
    first, second = opts[0], opts[1]
    # H100 measured: ⌈20 req/s × 1.2 ÷ 2 req/s⌉ = 12 replicas × $4.00 × 730 h = $35,040
    assert (first.gpu, first.how, first.finance.replicas.value) == ("H100", "measured", 12)
    assert first.monthly == pytest.approx(35_040)
    # L4 projected: 2 × 0.0914 = 0.183 req/s; ⌈24 ÷ 0.183⌉ = 132 × $1.00 × 730 h = $96,360
    assert (second.gpu, second.finance.replicas.value) == ("L4", 132)
    assert second.monthly == pytest.approx(96_360)
    assert second.how.startswith("projected from H100: decode × 0.09 (bandwidth)")
    assert option_text(second).startswith("L4: 132 replica(s), $96,360/month (projected from H100")
    # no table prices A100s: after the priced ones, with the reason
    a100 = next(o for o in opts if o.gpu == "A100-80GB")
    assert a100.monthly is None and opts.index(a100) > 1
    assert a100.finance.monthly.reason == "no loaded price table prices A100-80GB (on-demand)"
    # bf16 weights 14.96 GiB do not fit T4's 14.90 × 0.9 = 13.41 GiB: last, with the shortfall
    t4 = next(o for o in opts if o.gpu == "T4")
    assert t4.fits is False and opts.index(t4) >= len(opts) - 1 - sum(
        1 for o in opts if o.fits is False
    )
    assert t4.on.fit_text.endswith("1.6 GiB short")


def test_an_endpoint_measured_on_a_cpu_has_no_gpu_options() -> None:
    from pathlib import Path

    from qtui.session.decision import decide
    from qtui.session.reader import load_session
    from qtui.session.report import build_document

    s = Path(__file__).parents[2] / "sessions" / "llamacpp-smollm2.qtsession"
    d = decide(load_session(s))
    assert d.gpu_options and not any(d.gpu_options.values())
    texts = [b.text for b in build_document(d)]
    assert "No precision was measured on a GPU in qtui/data/gpus.toml." in texts
