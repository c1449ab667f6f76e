"""Profiles and price tables: the shipped ones load; bad input is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from qtui.config import PriceTable, Profile, load_model
from qtui.config.catalog import list_price_tables, load_price_table
from qtui.config.paths import demo_profile, shipped_pricing_dir, shipped_profiles_dir
from qtui.errors import ConfigError

MINIMAL = """
[profile]
name = "t"
[[endpoints]]
name = "a"
url = "http://127.0.0.1:8000"
precision = "bf16"
"""


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "path", sorted(shipped_profiles_dir().glob("*.toml")), ids=lambda p: p.name
)
def test_shipped_profiles_load(path: Path) -> None:
    profile = load_model(path, Profile)
    assert profile.baseline.name == profile.endpoints[0].name


@pytest.mark.parametrize("path", sorted(shipped_pricing_dir().glob("*.toml")), ids=lambda p: p.name)
def test_shipped_price_tables_load_with_provenance(path: Path) -> None:
    table = load_model(path, PriceTable)
    assert table.table.source and table.table.as_of.startswith("20")


def test_minimal_profile_gets_defaults(tmp_path: Path) -> None:
    profile = load_model(write(tmp_path, MINIMAL), Profile)
    assert profile.cost.hours_per_month == 730
    assert profile.cost.headroom == 1.2
    assert profile.endpoints[0].effective_metrics_url == "http://127.0.0.1:8000/metrics"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x = ", "malformed TOML"),
        (
            MINIMAL.replace('precision = "bf16"', 'precision = "bf16"\ncolour = "red"'),
            "unknown key",
        ),
        (MINIMAL.replace("http://127.0.0.1:8000", "127.0.0.1:8000"), "http:// or https://"),
        (MINIMAL + 'gpu = "B9000"\n', "unknown GPU type 'B9000'"),
        (
            MINIMAL.replace('[profile]\nname = "t"', "[profile]"),
            "profile.name: required key is missing",
        ),
        (MINIMAL + "[cost]\nhours_per_month = 800\n", "cost.hours_per_month"),
        (MINIMAL + "[profile2]\nx = 1\n", "unknown key"),
        (MINIMAL + "[workload]\nturns = 3\n", 'need api = "chat"'),
        (MINIMAL + '[workload]\nkind = "sharegpt"\napi = "chat"\n', "needs conversations_file"),
        (
            MINIMAL + '[workload]\nkind = "jsonl"\napi = "chat"\nturns = 2\n',
            'turns > 1 is for kind = "synthetic" or "sharegpt"',
        ),
    ],
)
def test_bad_profiles_give_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_model(path, Profile)
    message = str(err.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_error_names_the_line_of_the_bad_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('precision = "bf16"', 'precision = "bf16"\ncolour = 1'))
    with pytest.raises(ConfigError, match=r"p\.toml:8: endpoints\[0\]\.colour"):
        load_model(path, Profile)


def test_negative_price_rejected(tmp_path: Path) -> None:
    text = """
[table]
provider = "me"
source = "negotiated"
as_of = "2026-11-01"
[[rows]]
gpu = "H100"
instance = "x"
gpus_per_instance = 1
region = "r"
on_demand_usd_per_hour = -3
"""
    with pytest.raises(
        ConfigError, match=r"rows\[0\]\.on_demand_usd_per_hour: Input should be greater than 0"
    ):
        load_model(write(tmp_path, text), PriceTable)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_model(tmp_path / "nope.toml", Profile)


def test_duplicate_endpoint_names_and_unknown_baseline(tmp_path: Path) -> None:
    dup = MINIMAL + '[[endpoints]]\nname = "a"\nurl = "http://h:1"\nprecision = "fp8"\n'
    with pytest.raises(ConfigError, match="duplicate endpoint names: a"):
        load_model(write(tmp_path, dup), Profile)
    bad_base = MINIMAL.replace('name = "t"', 'name = "t"\nbaseline = "zz"')
    with pytest.raises(ConfigError, match="baseline 'zz' is not an endpoint"):
        load_model(write(tmp_path, bad_base), Profile)


def test_price_table_lookup_and_user_tables_shadow_shipped(tmp_path: Path) -> None:
    assert {"aws", "gcp", "azure", "lambda", "runpod"} <= set(list_price_tables())
    mine = write(tmp_path, (shipped_pricing_dir() / "aws.toml").read_text(), "aws.toml")
    assert list_price_tables([tmp_path])["aws"] == mine
    with pytest.raises(ConfigError, match="price table 'nope' not found"):
        load_price_table("nope")


def test_per_gpu_hour_prices() -> None:
    aws = load_price_table("aws")
    p5 = next(r for r in aws.rows if r.instance == "p5.48xlarge")
    assert p5.usd_per_gpu_hour("on-demand") == pytest.approx(55.04 / 8)  # 6.88 $/GPU-h
    assert p5.usd_per_gpu_hour("committed", 25) == pytest.approx(55.04 * 0.75 / 8)
    single = next(r for r in aws.rows if r.instance == "p5.4xlarge")
    assert single.usd_per_gpu_hour("spot") is None


def test_demo_profile_is_shipped() -> None:
    assert demo_profile().is_file()


def test_workload_trace_and_prefix_settings() -> None:
    from qtui.config.profile import Workload

    w = Workload(kind="trace", trace_file="day.jsonl", speed=2.0)
    assert (w.speed, w.trace_block_size, w.prefix_count, w.prefix_tokens) == (2.0, 512, 0, 0)
    with pytest.raises(ValueError, match="needs trace_file"):
        Workload(kind="trace")
    with pytest.raises(ValueError, match="prefix_tokens"):
        Workload(prefix_count=4)
    with pytest.raises(ValueError, match="speed"):
        Workload(kind="trace", trace_file="x", speed=0)


def test_a_requests_mean_prompt_counts_the_prefix_and_the_history() -> None:
    from qtui.config.profile import LengthDist, Workload

    assert Workload(input_tokens=LengthDist(mean=512)).mean_input_tokens == 512
    w = Workload(
        api="chat", turns=4, prefix_count=2, prefix_tokens=100,
        input_tokens=LengthDist(mean=256), output_tokens=LengthDist(mean=64),
    )  # fmt: skip
    # 100 shared + 256 + the mean history over turns 1..4: (0 + 1 + 2 + 3) / 4 × 320 = 480
    assert w.mean_input_tokens == 100 + 256 + 480
