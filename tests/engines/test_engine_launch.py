"""Planning a profile's llama.cpp servers: ports from URLs, files from precisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.config.load import load_model
from qtui.config.paths import shipped_profiles_dir
from qtui.config.profile import Profile
from qtui.engines.launch import endpoint_port, plan, variants_for
from qtui.errors import ConfigError


@pytest.fixture
def profile() -> Profile:
    return load_model(shipped_profiles_dir() / "llamacpp.toml", Profile)


def test_shipped_profile_plans_four_loopback_servers(profile: Profile) -> None:
    files = {p: Path(f"/cache/{p}.gguf") for p in ("q4_1", "q8_0", "q3_k_m", "q2_k")}
    specs = plan(profile, files)
    assert [(s.name, s.port, s.alias, s.model.name) for s in specs] == [
        ("q4_1", 8411, "smollm2-135m-q4_1", "q4_1.gguf"),
        ("q8_0", 8412, "smollm2-135m-q8_0", "q8_0.gguf"),
        ("q3_k_m", 8413, "smollm2-135m-q3_k_m", "q3_k_m.gguf"),
        ("q2_k", 8414, "smollm2-135m-q2_k", "q2_k.gguf"),
    ]
    assert all(e.gpu == "cpu" and e.telemetry == "none" for e in profile.endpoints)


def test_variants_for_keeps_the_shipped_file_as_reference(profile: Profile) -> None:
    vs = variants_for(profile)
    assert [(v.precision, v.reference) for v in vs] == [
        ("q4_1", True), ("q8_0", False), ("q3_k_m", False), ("q2_k", False),
    ]  # fmt: skip


def test_a_precision_llamacpp_cannot_make_is_one_line(profile: Profile) -> None:
    bad = profile.model_copy(deep=True)
    bad.endpoints[1].precision = "fp8"
    with pytest.raises(ConfigError, match=r"endpoint q8_0: unknown llama\.cpp quantization 'fp8'"):
        variants_for(bad)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8000", "http://127.0.0.1", "https://example.com:443"]
)
def test_only_loopback_urls_with_a_port_can_be_served(url: str) -> None:
    with pytest.raises(ConfigError, match=r"must be http://127\.0\.0\.1:PORT"):
        endpoint_port("x", url)


def test_localhost_port() -> None:
    assert endpoint_port("x", "http://localhost:9001") == 9001
