import pytest

from qtui.config.load import load_model
from qtui.config.paths import demo_profile
from qtui.config.profile import Profile
from qtui.live.model import RunView
from qtui.live.state import ViewState
from qtui.live.tables import tables_for


def state() -> ViewState:
    prof = load_model(demo_profile(), Profile)
    return ViewState(prof, tables_for(prof))


def test_energy_per_million_tokens_by_hand() -> None:
    s = state()
    # two GPUs of one endpoint: their counters add up (1,000 + 2,000 J, then +18,000 J each)
    for gpu, joules in ((0, 1000.0), (1, 2000.0)):
        s.ingest("gpu_sample", {"endpoint": "bf16", "gpu": gpu, "t": 100.0, "energy_j": joules})
    for t in range(101, 111):  # 10 s at 1,000 output tok/s = 10,000 tokens
        s.ingest("client_second", {"endpoint": "bf16", "t": float(t), "out_tps": 1000.0,
                                   "duration_s": 1.0})  # fmt: skip
    for gpu, joules in ((0, 19000.0), (1, 20000.0)):
        s.ingest("gpu_sample", {"endpoint": "bf16", "gpu": gpu, "t": 110.0, "energy_j": joules})
    # 36,000 J = 0.01 kWh over 10,000 tokens → 1.0 kWh per 1M tokens; at $0.12/kWh → $0.12
    e = s.energy("bf16")
    assert e.kwh_per_1m == pytest.approx(1.0)
    assert e.usd_per_1m == pytest.approx(0.12)
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "bf16")
    assert view.energy == e


def test_no_energy_counter_says_so() -> None:
    s = state()
    s.ingest("gpu_sample", {"endpoint": "fp8", "gpu": 0, "t": 1.0, "energy_j": None})
    assert s.energy("fp8").kwh_per_1m is None and s.energy("fp8").reason == "no energy counter"


def test_latency_comes_from_the_sliding_window_when_recorded() -> None:
    s = state()
    s.ingest("client_second", {"endpoint": "bf16", "t": 1.0, "duration_s": 1.0,
                               "ttft_p50": None, "ttft_p95": None, "win_s": 10.0,
                               "win_ttft_p50": 0.2, "win_ttft_p95": 0.9})  # fmt: skip
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "bf16")
    assert (view.ttft.p50_s, view.ttft.p95_s, view.ttft.window_s) == (0.2, 0.9, 10.0)
    # an older recording without the window: the last second's figures, labelled 1 s
    s.ingest("client_second", {"endpoint": "fp8", "t": 1.0, "duration_s": 1.0, "ttft_p50": 0.3})
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "fp8")
    assert (view.ttft.p50_s, view.ttft.window_s) == (0.3, 1.0)


def test_server_without_metrics_is_said_not_dashed() -> None:
    from qtui.tui.widgets.endpoints.lines import queue

    s = state()
    s.ingest("server_second", {"endpoint": "bf16", "t": 1.0, "status": "not_exposed",
                               "detail": "http://x/metrics: HTTP 404"})  # fmt: skip
    views = {v.name: v for v in s.snapshot(RunView()).endpoints}
    assert not views["bf16"].server_metrics and "no /metrics" in queue(views["bf16"])
    assert views["fp8"].server_metrics and "no /metrics" not in queue(views["fp8"])


def test_a_sweep_moves_the_shown_level_and_a_held_level_follows_only_the_keys() -> None:
    s = state()
    s.ingest("event", {"kind": "load", "key": "measuring", "value": False})  # a sweep started
    s.ingest("client_second", {"endpoint": "bf16", "t": 1.0, "duration_s": 1.0, "level": 32.0})
    assert s.level == 32.0
    s.ingest("event", {"kind": "load", "key": "measuring", "value": True})  # held level 16
    s.ingest("event", {"kind": "load", "key": "level", "value": 16})
    s.ingest("client_second", {"endpoint": "bf16", "t": 2.0, "duration_s": 1.0, "level": 8.0})
    assert s.level == 16.0  # a second still driven at the old level does not undo the key


def test_once_load_stops_throughput_is_what_the_server_reports() -> None:
    s = state()
    s.ingest("client_second", {"endpoint": "bf16", "t": 10.0, "duration_s": 1.0,
                               "out_tps": 6500.0, "win_rps": 25.6})  # fmt: skip
    s.ingest("server_second", {"endpoint": "bf16", "t": 11.0, "generation_tps": 6400.0})
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "bf16")
    assert (view.out_tps, view.rps) == (6500.0, 25.6)  # load running: the client's second
    s.ingest("server_second", {"endpoint": "bf16", "t": 13.0, "generation_tps": 0.0})
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "bf16")
    assert (view.out_tps, view.rps) == (0.0, None)  # 3 s without a client second: stopped


def test_a_runs_last_partial_second_is_not_charted_as_a_rate() -> None:
    s = state()
    s.ingest("client_second", {"endpoint": "fp8", "t": 1.0,
                               "duration_s": 1.0, "out_tps": 3900.0})  # fmt: skip
    s.ingest("client_second", {"endpoint": "fp8", "t": 1.25, "duration_s": 0.25,
                               "out_tps": 7900.0})  # fmt: skip
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "fp8")
    assert view.history.out_tps[-2:] == (3900.0, 3900.0)


def test_backing_off_and_requests_open_at_the_stop_reach_the_column() -> None:
    s = state()
    s.ingest("client_second", {"endpoint": "bf16", "t": 1.0, "duration_s": 1.0,
                               "err_http": 3, "backing_off": 2})  # fmt: skip
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "bf16")
    assert view.backing_off == "backing off (2 users)"  # closed loop: the demo's mode
    s.ingest("client_second", {"endpoint": "bf16", "t": 2.0, "duration_s": 1.0, "cancelled": 3,
                               "silent_at_stop": 2, "silent_max_s": 4.0,
                               "partial_tokens": 5})  # fmt: skip
    view = next(v for v in s.snapshot(RunView()).endpoints if v.name == "bf16")
    assert view.backing_off == ""  # nobody waits in the last second
    assert view.stopped == "1 cancelled at stop, 2 silent for up to 4 s"
    assert view.partial_tokens == 5
