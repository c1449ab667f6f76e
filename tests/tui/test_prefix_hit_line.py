"""The app shows the prefix-cache hit rate next to the errors, for prefix-sharing workloads."""

from __future__ import annotations

from qtui.config.profile import Workload
from qtui.live.model import EndpointView
from qtui.live.state import shares_prefixes
from qtui.tui.widgets.endpoints.lines import errors


def test_the_hit_rate_sits_beside_the_error_rate_within_the_column() -> None:
    e = EndpointView("bf16", "bf16", error_rate=0.0, prefix_hit=0.734)
    assert errors(e, 0.01) == "errors 0.0% · hit 73%"
    assert len(errors(e, 0.01)) <= 24  # the column's width, borders aside
    assert errors(EndpointView("bf16", "bf16", error_rate=0.0), 0.01) == "errors 0.0%"
    bad = EndpointView("bf16", "bf16", error_rate=0.2, prefix_hit=0.5)
    assert errors(bad, 0.01) == "[b $error]errors 20.0%![/] · hit 50%"


def test_which_workloads_share_prefixes() -> None:
    assert not shares_prefixes(Workload())
    assert shares_prefixes(Workload(prefix_count=4, prefix_tokens=64))
    assert shares_prefixes(Workload(api="chat", turns=3))
    assert shares_prefixes(Workload(kind="trace", trace_file="t.jsonl"))
