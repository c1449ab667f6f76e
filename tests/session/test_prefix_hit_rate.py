"""Each endpoint's prefix-cache hit rate in the record, token-weighted, by hand (issue 21)."""

from __future__ import annotations

from pathlib import Path

from qtui.config.profile import Profile
from qtui.session.decision import decide
from qtui.session.reader import load_session
from qtui.session.report import measured_table
from qtui.session.summary import summarize
from qtui.session.writer import SessionWriter

T0 = 1_800_000_000.0


def test_hit_rate_is_weighted_by_each_seconds_prompt_tokens(tmp_path: Path) -> None:
    prof = Profile.model_validate(
        {
            "profile": {"name": "p"},
            "endpoints": [
                {"name": "a", "url": "http://127.0.0.1:1", "precision": "bf16"},
                {"name": "b", "url": "http://127.0.0.1:2", "precision": "fp8"},
            ],
        }
    )
    path = tmp_path / "p.qtsession"
    w = SessionWriter(path, profile=prof)
    # endpoint a: 0.5 at 100 tok/s, 0.9 at 300 tok/s; a second with no rate and one with no
    # prompt tokens are left out: (0.5 x 100 + 0.9 x 300) / 400 = 320 / 400 = 0.8
    for i, (rate, tps) in enumerate([(0.5, 100.0), (0.9, 300.0), (None, 50.0), (0.2, 0.0)]):
        w.append("server_second", {"endpoint": "a", "t": T0 + i, "status": "ok",
                                   "prefix_cache_hit_rate": rate, "prompt_tps": tps})  # fmt: skip
    w.append("server_second", {"endpoint": "b", "t": T0, "status": "not_exposed"})
    w.close()
    rows = {r.endpoint: r for r in summarize(load_session(path))}
    assert rows["a"].prefix_hit_rate is not None and abs(rows["a"].prefix_hit_rate - 0.8) < 1e-12
    assert rows["b"].prefix_hit_rate is None  # llama.cpp, a proxy: no prefix-cache counters
    table = measured_table(decide(load_session(path)))
    col = table.header.index("prefix-cache hits (%)")
    assert [r[col] for r in table.rows] == ["80.0", "—"]
