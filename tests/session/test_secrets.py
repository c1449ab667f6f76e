"""API keys and auth headers never reach a session file, journal or finalised."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qtui.session import SessionWriter, load_session
from qtui.session.scrub import REDACTED, is_secret_key, scrub
from qtui.session.synth import synth_profile

SECRET = "sk-live-7f3a9c2e1b"


def _all_bytes(path: Path) -> bytes:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return b"".join(z.read(n) for n in z.namelist())
    return path.read_bytes()


@pytest.mark.parametrize("finalise", [False, True])
def test_secret_values_and_keys_are_scrubbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finalise: bool
) -> None:
    monkeypatch.setenv("QTUI_SYNTH_KEY", SECRET)  # synth_profile's endpoints name this env var
    path = tmp_path / "s.qtsession"
    w = SessionWriter(path, profile=synth_profile(2))
    w.append(
        "discovery",
        {
            "endpoint": "bf16",
            "headers": {"Authorization": f"Bearer {SECRET}"},
            "api_key": SECRET,
            "note": f"used key {SECRET} ok",
        },
    )
    w.append(
        "request",
        {
            "endpoint": "bf16",
            "error_detail": f"401 for key {SECRET}",
            "prompt_tokens": 12,
            "completion_tokens": 3,
            "extra": {"x-api-token": "abc12345", "deep": [{"password": "hunter22"}]},
        },
    )
    w.event("note", "key", f"{SECRET}", None)
    w.close(finalise=finalise)
    raw = _all_bytes(path)
    assert SECRET.encode() not in raw
    assert b"hunter22" not in raw and b"abc12345" not in raw
    s = load_session(path)
    d = s.docs("discovery")[0]
    assert d["headers"] == REDACTED and d["api_key"] == REDACTED
    assert d["note"] == f"used key {REDACTED} ok"
    req = s.frame("request").row(0, named=True)
    assert req["prompt_tokens"] == 12 and req["completion_tokens"] == 3
    assert REDACTED in req["error_detail"]
    assert s.profile is not None and s.profile.endpoints[0].api_key_env == "QTUI_SYNTH_KEY"


def test_bearer_tokens_are_scrubbed_without_knowing_the_key() -> None:
    out = scrub({"detail": "sent Authorization: Bearer abcdefghijkl123"})
    assert "abcdefghijkl123" not in out["detail"]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("api_key", True), ("Authorization", True), ("x-api-token", True), ("token", True),
        ("client_secret", True), ("headers", True), ("prompt_tokens", False),
        ("completion_tokens", False), ("api_key_env", False), ("tokens", False),
        ("out_tps", False), ("top_logprobs", False),
    ],
)  # fmt: skip
def test_secret_key_names(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_logprobs_keyed_by_secret_looking_tokens_are_kept() -> None:
    """Top logprobs are keyed by token text: " token" or "password" hold numbers, not secrets
    (issue 18: the agreement's KL needs them); a string under such a key is still redacted."""
    from qtui.session.scrub import REDACTED, scrub

    top = [{" token": -1.25, "password": -3.0, "x": -0.1}]
    assert scrub({"top_logprobs": top}) == {"top_logprobs": top}
    assert scrub({"token": "abc12345"}) == {"token": REDACTED}
