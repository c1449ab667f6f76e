"""The issue's table, run as a new user would: one `qtui bench` (2 users per endpoint) against a
good endpoint and misbehaving servers on 127.0.0.1 (real sockets). Each test reads what the user
sees (the bench's lines, its exit code) and checks that nothing recorded was lost (the session
holds every request sent, and the good endpoint was measured throughout)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from badhttp import Bad, Servers, refused_url, servers
from click.testing import CliRunner

from qtui.cli import cli
from qtui.session import load_session

ROWS: dict[str, Bad] = {
    "good": Bad(),
    "html": Bad(stream="html"),
    "garbage": Bad(stream="garbage"),
    "stall": Bad(stream="stall"),
    "onechunk": Bad(stream="one_chunk_close"),
    "err500": Bad(stream="http500"),
    "promgarbage": Bad(metrics="garbage"),
    "slowmodels": Bad(models_hang=True),
    "limited": Bad(status_first=3, status=429, retry_after="1"),
    "nousage": Bad(stream="no_usage"),
    "badusage": Bad(stream="wrong_usage"),
}
DURATION_S = 4


def _profile(urls: dict[str, str]) -> str:
    eps = "".join(
        f'[[endpoints]]\nname = "{n}"\nurl = "{u}"\nprecision = "bf16"\n' for n, u in urls.items()
    )
    return (
        '[profile]\nname = "bad servers"\nbaseline = "good"\n'
        + eps
        + "[workload]\ninput_tokens = { mean = 8 }\noutput_tokens = { mean = 4 }\n"
        + f"[load]\nconcurrency = 2\nduration_s = {DURATION_S}\nstall_timeout_s = 1.0\n"
    )


@pytest.fixture(scope="module")
def srv() -> Iterator[Servers]:
    with servers() as s:
        yield s


@pytest.fixture(scope="module")
def bench(srv: Servers, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    urls = {"refused": refused_url(), **{n: srv.start(b) for n, b in ROWS.items()}}
    tmp = tmp_path_factory.mktemp("bad")
    prof = tmp / "bad.toml"
    prof.write_text(_profile(urls))
    out = tmp / "out"
    res = CliRunner().invoke(cli, ["bench", str(prof), "--out", str(out)])
    session = next(out.glob("*.qtsession"))
    s = load_session(session)
    summary = json.loads((out / "summary.json").read_text())
    lines = {ln.split(":", 1)[0]: ln for ln in res.stdout.splitlines() if ":" in ln}
    return {
        "res": res,
        "out": out,
        "session": s,
        "requests": s.frame("request"),
        "summary": summary,
        "lines": lines,
        "stderr": res.stderr,
    }


def _requests(bench: dict[str, Any], name: str) -> pl.DataFrame:
    req: pl.DataFrame = bench["requests"]
    return req.filter(pl.col("endpoint") == name)


def _nothing_lost(bench: dict[str, Any], name: str) -> None:
    """Every request the endpoint was sent is in the session, and the good one was measured."""
    sent = bench["summary"]["endpoints"][name]["sent"]
    assert _requests(bench, name).height == sent
    good = _requests(bench, "good")
    assert good.filter(pl.col("error_class") == "none").height >= 4
    assert bench["session"].warnings == []


def _errors(bench: dict[str, Any], name: str) -> dict[str, int]:
    req = _requests(bench, name).filter(~pl.col("error_class").is_in(["none", "cancelled"]))
    return dict(req.group_by("error_class").len().iter_rows())


def test_exit_code_names_every_endpoint_that_completed_nothing(bench: dict[str, Any]) -> None:
    res = bench["res"]
    assert res.exit_code == 4, res.output
    last = res.stderr.strip().splitlines()[-1]
    for name in ("refused", "html", "garbage", "stall", "onechunk", "err500"):
        assert name in last
    for name in ("good", "limited", "nousage", "promgarbage"):
        assert f" {name}," not in last and f" {name};" not in last


def test_refused_connections(bench: dict[str, Any]) -> None:
    warn = [
        ln
        for ln in bench["stderr"].splitlines()
        if ln.startswith("qtui: warning: endpoint refused")
    ]
    assert warn and "/v1/models unreachable (ConnectError)" in warn[0]
    assert set(_errors(bench, "refused")) == {"connect"}
    assert "error rate 100.0%" in bench["lines"]["refused"]
    _nothing_lost(bench, "refused")


@pytest.mark.parametrize("name", ["html", "err500"])
def test_an_endpoint_answering_errors_is_not_hammered(bench: dict[str, Any], name: str) -> None:
    """Two users backing off (0.25 s doubling, capped at 5 s) send a handful, not ~400 req/s."""
    got = ROWS[name].received
    assert 2 <= got <= 2 * 8, got
    assert set(_errors(bench, name)) == {"malformed" if name == "html" else "http"}
    assert "error rate 100.0%" in bench["lines"][name]
    _nothing_lost(bench, name)


def test_html_error_says_what_came_back(bench: dict[str, Any]) -> None:
    detail = _requests(bench, "html")["error_detail"][0]
    assert "text/html" in detail


def test_non_json_data_lines_are_malformed(bench: dict[str, Any]) -> None:
    assert set(_errors(bench, "garbage")) == {"malformed"}
    assert "not JSON" in _requests(bench, "garbage")["error_detail"][0]
    assert ROWS["garbage"].received <= 2 * 8
    _nothing_lost(bench, "garbage")


def test_a_stalled_stream_is_an_error_with_its_reason(bench: dict[str, Any]) -> None:
    errs = _errors(bench, "stall")
    assert set(errs) == {"stall"}
    stalls = _requests(bench, "stall").filter(pl.col("error_class") == "stall")
    assert (
        "no byte for" in stalls["error_detail"][0] and "2 token chunks" in stalls["error_detail"][0]
    )
    line = bench["lines"]["stall"]
    # the requests that ended (all of them failed), as the record's "Measured under load" counts
    ended = _requests(bench, "stall").filter(pl.col("error_class") != "cancelled").height
    assert ended and line.startswith(f"stall: {ended} requests, 0.0 out tok/s, error rate 100.0%")
    stopped = _requests(bench, "stall").filter(pl.col("error_detail").str.contains("silent for"))
    if stopped.height:  # open at the stop, silent ≥ the stall limit (1 s): counted apart
        assert f"{stopped.height} silent for" in line
    assert "partial tokens (not throughput)" in line  # the stalled ones' two chunks each
    _nothing_lost(bench, "stall")


def test_tokens_of_failed_requests_are_not_throughput(bench: dict[str, Any]) -> None:
    line = bench["lines"]["onechunk"]
    assert "0.0 out tok/s" in line and "error rate 100.0%" in line
    assert ROWS["onechunk"].received <= 2 * 8  # backed off, not 1,764 in a run
    assert set(_errors(bench, "onechunk")) == {"disconnect"}
    chunks = _requests(bench, "onechunk").filter(pl.col("error_class") == "disconnect").height
    assert f"{chunks} partial tokens (not throughput)" in line  # one chunk each, shown apart
    _nothing_lost(bench, "onechunk")


def test_metrics_that_are_not_prometheus_are_said_and_load_goes_on(bench: dict[str, Any]) -> None:
    srv = bench["session"].frame("server_second").filter(pl.col("endpoint") == "promgarbage")
    assert set(srv["status"]) == {"garbage"}
    assert srv["detail"][0]  # says what was wrong
    assert _requests(bench, "promgarbage").filter(pl.col("error_class") == "none").height >= 4
    assert "error rate 0.0%" in bench["lines"]["promgarbage"]
    _nothing_lost(bench, "promgarbage")


def test_models_that_time_out_are_one_warning_and_load_goes_on(bench: dict[str, Any]) -> None:
    warn = [ln for ln in bench["stderr"].splitlines() if "slowmodels" in ln and "warning" in ln]
    assert warn and "/v1/models did not answer within 5 s" in warn[0], bench["stderr"]
    ok = _requests(bench, "slowmodels").filter(pl.col("error_class") == "none")
    assert ok.height >= 4
    _nothing_lost(bench, "slowmodels")


def test_429_is_an_http_error_with_retry_after_then_recovers(bench: dict[str, Any]) -> None:
    """The wait after each 429 honours Retry-After (test_load_sender_backoff.py checks the
    waits); here: what the record says, and full load once the server lets requests in."""
    req = _requests(bench, "limited").sort("t_send")
    limited = req.filter(pl.col("http_status") == 429)
    assert limited.height == 3
    assert limited["error_detail"][0].startswith("HTTP 429 (Retry-After 1 s): ")
    assert req.filter(pl.col("error_class") == "none").height >= 4
    assert "error rate" in bench["lines"]["limited"]
    _nothing_lost(bench, "limited")


def test_a_missing_usage_chunk_is_counted_from_the_stream(bench: dict[str, Any]) -> None:
    ok = _requests(bench, "nousage").filter(pl.col("error_class") == "none")
    assert ok.height >= 4
    assert set(ok["usage_source"]) == {"counted"} and set(ok["completion_tokens"]) == {4}
    assert "nousage" in bench["res"].stdout and "counted" in bench["res"].stdout
    _nothing_lost(bench, "nousage")


def test_a_wrong_usage_chunk_is_not_believed(bench: dict[str, Any]) -> None:
    ok = _requests(bench, "badusage").filter(pl.col("error_class") == "none")
    assert ok.height >= 4
    assert set(ok["usage_source"]) == {"counted"} and set(ok["completion_tokens"]) == {4}
    assert "badusage" in bench["lines"] and "error rate 0.0%" in bench["lines"]["badusage"]
    _nothing_lost(bench, "badusage")


def test_a_session_cut_in_the_middle_of_a_record_keeps_every_record_before_it(
    bench: dict[str, Any], tmp_path: Path
) -> None:
    """A journal (what a killed qtui leaves) cut inside its last line: `qtui check` says so in
    one line, every whole record before the cut is read, and `qtui report` reports it."""
    from qtui.session.writer import SessionWriter

    s = bench["session"]
    rows = bench["requests"].head(50).to_dicts()
    path = tmp_path / "journal.qtsession"
    w = SessionWriter(path, profile=s.profile)
    for row in rows:
        w.append("request", row)
    w.flush()
    data = path.read_bytes()
    cut = tmp_path / "cut.qtsession"
    cut.write_bytes(data[: len(data) - len(data.splitlines()[-1]) // 2])  # mid-record
    w.close()
    res = CliRunner().invoke(cli, ["check", str(cut)])
    assert res.exit_code == 0, res.output
    assert res.output.count("\n") == 1 and "cut off; read the records before it" in res.output
    got = load_session(cut).frame("request")
    assert got["request_id"].to_list() == [r["request_id"] for r in rows[:-1]]
    rep = CliRunner().invoke(cli, ["report", str(cut), "--out", str(tmp_path / "r")])
    assert rep.exit_code == 0, rep.output
    assert "Traceback" not in rep.output
