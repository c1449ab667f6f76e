from qtui.live.model import EndpointView
from qtui.load.backoff import backing_text
from qtui.tui.widgets.endpoints.lines import load_notes


def test_backing_off_and_stop_words_in_the_column() -> None:
    assert load_notes(EndpointView("a", "bf16")) == ""
    e = EndpointView(
        "a", "bf16", backing_off=backing_text(2, "users"), stopped="2 silent for 4 s",
        partial_tokens=4,
    )  # fmt: skip
    assert load_notes(e) == (
        "backing off (2 users); 2 silent for 4 s; 4 partial tokens (not throughput)"
    )
    assert backing_text(1, "req/s") == "backing off (arrivals held)"
    assert backing_text(0, "users") == ""
