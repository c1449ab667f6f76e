from pathlib import Path

import pytest

from qtui.metrics.prom import NotPrometheus, parse_prometheus

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "vllm"


def test_real_capture_parses_into_families() -> None:
    fams = parse_prometheus((FIX / "metrics_before_8000.txt").read_text())
    assert "vllm:time_to_first_token_seconds" in fams
    gen = fams["vllm:generation_tokens"]
    assert [s.value for s in gen if s.name == "vllm:generation_tokens_total"] == [110650.0]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("<html><body>Login</body></html>", "HTML"),
        ('{"status": "ok"}', "JSON"),
        ("", "empty"),
        ("hello world\nthis is text", "not Prometheus"),
    ],
)
def test_non_prometheus_is_one_clear_error(text: str, says: str) -> None:
    with pytest.raises(NotPrometheus) as err:
        parse_prometheus(text, "http://x/metrics")
    msg = str(err.value)
    assert says in msg and "http://x/metrics" in msg and "\n" not in msg
