"""The one-truth check shared by the tests that record sessions (import ``assert_agree``)."""

from __future__ import annotations

from pathlib import Path

from qtui.live.replay import ReplayFeed
from qtui.session.decision import decide
from qtui.session.reader import load_session


def assert_agree(path: Path) -> None:
    """The replay's final view and the decision record state the same decision."""
    session = load_session(path)
    record = decide(session)
    now = [0.0]
    feed = ReplayFeed(session, speed=60, clock=lambda: now[0])
    now[0] = 1e9  # past the end: every record fed
    snap = feed.snapshot()
    assert snap.run.replay is not None and snap.run.replay.position_s == feed.duration
    assert snap.recommended == record.recommended, path.name
    assert snap.recommendation == record.why
    assert snap.savings_month_usd == record.savings.value
    for row in record.rows:
        name = row.summary.endpoint
        view, fin = snap.endpoint(name), row.finance
        assert view.cost.replicas == fin.sizing.replicas, name
        assert view.cost.usd_per_1m == fin.usd_per_m_output.value, name
        assert view.cost.p95_at_capacity_s == fin.p95.value, name
        assert view.cost.output_tps_per_replica == fin.output_tps.value, name
        assert view.cost.monthly_usd == fin.monthly.value, name
        assert view.cost.delta_monthly_usd == fin.delta_month.value, name
        assert view.go == row.go and view.go_reasons == tuple(row.reasons), name
        assert view.verdict == row.judgement.verdict, name  # GO, NO-GO or NOT DECIDED (why)
        assert row.judgement.status != "no-go" or not row.judgement.undecided, name
        q = row.judgement.quality or ""
        shown = q if q in ("go", "no-go", "not-decided") else "n/a"
        assert view.quality.verdict == shown, name
        assert view.capacity in row.reasons[0] or not row.capacity.usable
