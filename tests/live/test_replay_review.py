"""Review sessions: what a reviewer changes in a replay is written, on stop, next to the original;
its report and its replay reach the reviewer's final what-if. Driven by intents on a fake clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import polars as pl
import pytest

from qtui.live import intents as it
from qtui.live.replay import ReplayFeed
from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.report import write_report
from qtui.session.synth import write_synthetic_session

SYNTH_ON_DEMAND = 4.0  # $/GPU-hour of H100 on demand in the recorded "synth" table


@pytest.fixture
def original(tmp_path: Path) -> Path:
    return write_synthetic_session(tmp_path / "orig" / "synth.qtsession", endpoints=2, minutes=1)


def _feed(path: Path, review_dir: Path | None = None) -> tuple[ReplayFeed, list[float]]:
    now = [0.0]
    feed = ReplayFeed(
        load_session(path),
        speed=10,
        clock=lambda: now[0],
        review_of=path,
        review_dir=review_dir or path.parent / "fallback",
    )
    return feed, now


def _review(feed: ReplayFeed, now: list[float]) -> None:
    """At 30 s: 3 replicas of bf16. At the end (after the recorded 20 → 40 req/s): 25 req/s and
    365 h. Then back to 10 s: 5 replicas. Final: bf16 × 5, 25 req/s, 365 h."""
    now[0] = 3.0
    feed.snapshot()
    assert feed.send(it.SetReplicas("bf16", 3)) is None
    feed.send(it.Seek(100))
    feed.snapshot()
    assert feed.send(it.SetTraffic(25)) is None
    assert feed.send(it.SetHours(365)) is None
    assert feed.send(it.SetHours(9000)) is not None  # rejected: not an event
    feed.send(it.Seek(-50))
    assert feed.send(it.SetReplicas("bf16", 5)) is None


def _reviews(folder: Path) -> list[Path]:
    return sorted(folder.glob("synth-review-*.qtsession"))


def test_review_is_written_next_to_the_original_and_reaches_the_same_answer(
    original: Path,
) -> None:
    before = original.read_bytes()
    feed, now = _feed(original)
    _review(feed, now)
    final = feed.state.whatif.snapshot()
    asyncio.run(feed.stop())
    assert original.read_bytes() == before  # never modified
    [path] = _reviews(original.parent)
    assert feed.saved_path == path and feed.review_error is None

    review = load_session(path)
    assert review.header["review_of"] == "synth.qtsession"
    assert review.frame("client_second").equals(load_session(original).frame("client_second"))
    mine = [e for e in review.docs("event") if e.get("review")]
    assert [(e["key"], e["value"], e["position_s"]) for e in mine] == [
        ("endpoints.bf16.replicas", 3, 30.0),
        ("traffic.peak_rps", 25.0, feed.duration),
        ("hours_per_month", 365.0, feed.duration),
        ("endpoints.bf16.replicas", 5, 10.0),
    ]
    assert all(isinstance(e["wall_t"], float) for e in mine)
    # placed on the session clock in the order applied: the last one, made at 10 s after the
    # end was reached, comes after the others (else a replay would end on 3 replicas)
    assert [e["t"] for e in mine] == sorted(e["t"] for e in mine)
    assert mine[-1]["t"] == feed.t0 + feed.duration

    # the decision record prices the reviewer's final what-if: 5 × 1 GPU × $4 × 365 h
    d = decide(review)
    row = d.comparison.row("bf16")
    assert row.monthly.value == pytest.approx(5 * 1 * SYNTH_ON_DEMAND * 365)
    assert row.replicas.value == 5
    assert d.comparison.peak_rps.value == 25
    assert "what-if applied: endpoints.bf16.replicas = 5 (was 3)" in d.notes
    md_path, _, csv_path, _ = write_report([path], path.parent / "report")
    md = md_path.read_text()
    assert "This is a review of `synth.qtsession`" in md and "4 what-if change(s)" in md
    assert "| 7,300 |" in md  # 5 × $4 × 365 h, as above
    # 5 replicas are too few for 25 req/s: bf16 is no-go, and fp8's 3 × $4 × 365 h is chosen
    assert "**bf16: NO-GO**" in md and "replicas: 5 (set; need 7) SLO breach" in md
    assert "**Deploy fp8 (fp8) with 3 replica(s)**: $4,380/month" in md
    csv = pl.read_csv(csv_path).filter(pl.col("endpoint") == "bf16")
    assert csv["monthly_cost_usd"][0] == pytest.approx(7300) and csv["replicas"][0] == 5

    # replaying the review session to its end gives the same what-if
    again, later = _feed(path)
    later[0] = 1000.0
    again.snapshot()
    assert again.state.whatif.snapshot() == final
    asyncio.run(again.stop())  # nothing changed in this replay: no review of the review
    assert again.saved_path is None and not list(path.parent.glob("synth-review-*-review-*"))


def test_nothing_changed_writes_nothing(original: Path) -> None:
    feed, now = _feed(original)
    now[0] = 3.0
    feed.snapshot()
    feed.send(it.Seek(-10))
    assert feed.send(it.SetHours(9000)) is not None  # rejected
    asyncio.run(feed.stop())
    assert feed.saved_path is None and _reviews(original.parent) == []


def test_a_journal_original_and_a_read_only_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = write_synthetic_session(tmp_path / "j.qtsession", minutes=1, finalise=False)
    before = journal.read_bytes()
    monkeypatch.setattr("qtui.session.review.os.access", lambda p, mode: Path(p) != tmp_path)
    feed, now = _feed(journal, review_dir=tmp_path / "sessions")
    now[0] = 100.0
    feed.snapshot()
    assert feed.send(it.SetReplicas("fp8", 2)) is None
    asyncio.run(feed.stop())
    assert journal.read_bytes() == before
    assert feed.saved_path is not None and feed.saved_path.parent == tmp_path / "sessions"
    review = load_session(feed.saved_path)
    assert review.finalised and review.warnings == []
    assert decide(review).comparison.row("fp8").replicas.value == 2


def test_a_table_saved_in_the_review_travels_with_it(
    original: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtui.live.pricing import save_whatif_table

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "reviewer"))
    monkeypatch.delenv("QTUI_PRICING_DIR", raising=False)
    feed, now = _feed(original)
    now[0] = 100.0
    feed.snapshot()
    assert feed.send(it.SetGpuHourPrice("bf16", 5.5)) is None
    saved = asyncio.run(save_whatif_table(feed, "bf16", "mine", directory=tmp_path / "tables"))
    assert feed.send(it.SetPriceTable("fp8", "mine")) is None
    asyncio.run(feed.stop())
    assert feed.saved_path is not None

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "finance"))  # "mine" not installed here
    review = load_session(feed.saved_path)
    assert "mine" in review.price_tables
    notes = [e for e in review.docs("event") if e.get("key") == "price_table_saved"]
    assert [n["value"]["path"] for n in notes] == [str(saved)] and notes[0]["review"]
    d = decide(review)
    assert d.comparison.row("fp8").usd_per_gpu_hour.value == pytest.approx(5.5)
    assert d.comparison.row("bf16").usd_per_gpu_hour.value == pytest.approx(5.5)
    assert any("'mine' is not installed here" in n for n in d.notes)


def test_a_killed_review_is_finished_by_the_next_replay(original: Path) -> None:
    """No stop (the terminal was killed): the changes were written through to a draft, and the
    next `qtui replay` of the session turns the draft into the same review session."""
    from qtui.session.review_draft import SUFFIX, read_draft, recover_drafts

    before = original.read_bytes()
    feed, now = _feed(original)
    _review(feed, now)
    final = feed.state.whatif.snapshot()
    assert feed._draft is not None
    feed._draft.close(keep=True)  # the writer thread has written every line; nothing else ran
    [draft] = sorted(original.parent.glob(f"synth-review-*{SUFFIX}"))
    with draft.open("a") as f:
        f.write('{"event": {"key": "cut by the k')  # a line the kill cut short
    got = read_draft(draft)
    assert (len(got.events), got.skipped) == (4, 1)
    assert not _reviews(original.parent)

    [line] = recover_drafts(original, fallback=original.parent / "fallback")
    [path] = _reviews(original.parent)
    assert "4 changes" in line and str(path) in line
    assert not draft.exists() and original.read_bytes() == before
    again, now2 = _feed(path)
    now2[0] = 1000.0  # played to the end of the review: the reviewer's final what-if
    again.snapshot()
    assert again.state.whatif.snapshot() == final


def test_a_saved_review_leaves_no_draft(original: Path) -> None:
    from qtui.session.review_draft import SUFFIX

    feed, now = _feed(original)
    _review(feed, now)
    asyncio.run(feed.stop())
    assert feed.saved_path is not None
    assert not list(original.parent.glob(f"*{SUFFIX}"))


def test_a_review_that_cannot_be_written_is_kept_as_a_draft(
    original: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qtui.errors import QtuiError
    from qtui.session.review_draft import SUFFIX, recover_drafts

    def refuse(*_: object, **__: object) -> Path:
        raise QtuiError("synth-review.qtsession: cannot write the review session (disk full)")

    feed, now = _feed(original)
    _review(feed, now)
    monkeypatch.setattr("qtui.live.replay.write_review", refuse)
    asyncio.run(feed.stop())
    [draft] = sorted(original.parent.glob(f"synth-review-*{SUFFIX}"))
    assert feed.saved_path is None and feed.review_error is not None
    assert "disk full" in feed.review_error and str(draft) in feed.review_error
    monkeypatch.undo()
    [line] = recover_drafts(original, fallback=original.parent / "fallback")
    assert "4 changes" in line and not draft.exists() and len(_reviews(original.parent)) == 1
