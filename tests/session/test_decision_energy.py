"""The decision record's energy per month uses the app's power basis: the mean W per GPU while the
sweep ran at the capacity level (else the recent mean, said so), checked by hand and against a
replay of the same session."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.live.replay import ReplayFeed
from qtui.session.decision import decide
from qtui.session.reader import Session, load_session
from qtui.session.synth import write_synthetic_session
from tests.session.by_hand import level_power

HOURS, USD_PER_KWH = 730, 0.12


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    path = tmp_path_factory.mktemp("energy") / "synth.qtsession"
    return load_session(write_synthetic_session(path, endpoints=2, minutes=3))


def test_energy_is_priced_at_the_capacity_levels_power(session: Session) -> None:
    d = decide(session)
    for name in ("bf16", "fp8"):
        r = d.row(name)
        level = r.capacity.level
        assert level is not None
        _, watts = level_power(session, name, level)
        replicas = r.finance.replicas.value
        assert replicas is not None
        # $/month = W × replicas × 1 GPU × 730 h ÷ 1000 × $/kWh
        energy = watts * replicas * 1 * HOURS / 1000 * USD_PER_KWH
        assert r.finance.energy_month.value == pytest.approx(energy)
        assert r.finance.energy_month.note == (
            f"{watts:.0f} W/GPU at load level {level:g} × {replicas:g} × 1 GPU × "
            f"{HOURS} h × ${USD_PER_KWH:g}/kWh"
        )
        # the session's average power (the old basis) is not what is priced
        assert r.summary.power_w is not None and abs(r.summary.power_w - watts) > 5


def test_the_record_and_the_app_agree(session: Session) -> None:
    now = [1e6]
    feed = ReplayFeed(session, clock=lambda: now[0])
    now[0] += 1e6  # far past the end: everything fed
    snap = feed.snapshot()
    d = decide(session)
    for e in snap.endpoints:
        fin = d.row(e.name).finance
        assert e.cost.energy_month_usd == pytest.approx(fin.energy_month.value)
        assert e.cost.energy_basis and e.cost.energy_basis in (fin.energy_month.note or "")


def test_no_telemetry_says_why(tmp_path: Path) -> None:
    path = write_synthetic_session(tmp_path / "s.qtsession", endpoints=2, minutes=1)
    s = load_session(path)
    s.tables.pop("gpu_sample")
    d = decide(s)
    assert d.row("bf16").finance.energy_month.reason == "no power reading (no GPU telemetry)"
