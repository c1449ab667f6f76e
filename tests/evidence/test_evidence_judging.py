"""Evidence judged elsewhere (the app's thread): the same figures, the latest kept (issue 18)."""

from __future__ import annotations

from quality_session import quality_records

from qtui.evidence.accumulate import Evidence
from qtui.session.synth import synth_profile


def fed(n: int, *, later: bool) -> Evidence:
    ev = Evidence(synth_profile(3))
    ev.judge_later = later
    for rec in quality_records(n):
        ev.ingest("quality_item", rec)
    return ev


def test_a_judgement_taken_back_gives_the_figures_judged_in_place() -> None:
    here, later = fed(400, later=False), fed(400, later=True)
    assert later.quality("int8") == {}  # nothing judged yet: nothing made up
    job = later.judge_job()
    assert job is not None and len(job.items) == 1600
    assert later.take_judgement(job, job.run())
    assert later.judge_job() is None
    for name in ("bf16", "fp8", "int8"):
        assert later.quality(name) == here.quality(name)
    assert later.noise_floor() == here.noise_floor()


def test_an_older_or_foreign_judgement_is_not_kept() -> None:
    ev = fed(400, later=True)
    old = ev.judge_job()
    assert old is not None
    for rec in quality_records(410)[400:410]:  # ten more bf16 items
        ev.ingest("quality_item", rec)
    new = ev.judge_job()
    assert new is not None and len(new.items) == 1610
    assert ev.take_judgement(new, new.run())
    assert not ev.take_judgement(old, old.run())  # finished later, but fewer items: dropped
    assert ev.quality("bf16")["items"] == 410
    other = fed(400, later=True)  # a replay's seek back builds a new evidence
    assert not other.take_judgement(new, new.run())
