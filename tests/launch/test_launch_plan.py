from __future__ import annotations

from typing import Any

import pytest

from qtui.config.profile import Profile
from qtui.errors import ConfigError
from qtui.launch.plan import GIB, fit_problem, plan


def profile(*eps: dict[str, Any]) -> Profile:
    return Profile.model_validate({"profile": {"name": "t"}, "endpoints": list(eps)})


def ep(name: str, port: int, frac: float = 0.3, gpu: int = 0, **kw: Any) -> dict[str, Any]:
    launch = {"model": "/m/smol", "port": port, "gpu_memory_utilization": frac, "gpu_index": gpu}
    launch.update(kw.pop("launch", {}))
    return {"name": name, "precision": "bf16", "launch": launch, **kw}


def test_command_line_from_the_profile() -> None:
    (s,) = plan(profile(ep("fp8", 8001, 0.25, 1, model="smol-fp8", launch={"args": ["-q", "x"]})))
    assert s.argv == (
        "vllm", "serve", "/m/smol", "--host", "127.0.0.1", "--port", "8001",
        "--gpu-memory-utilization", "0.25", "--served-model-name", "smol-fp8", "-q", "x",
    )  # fmt: skip
    assert s.env == {"CUDA_VISIBLE_DEVICES": "1"}
    assert s.url == "http://127.0.0.1:8001"


def test_served_name_defaults_to_the_endpoint_name_and_executable_is_configurable() -> None:
    (s,) = plan(profile(ep("bf16", 8000, launch={"executable": "/opt/v/bin/vllm"})))
    assert s.argv[0] == "/opt/v/bin/vllm"
    assert s.served_model == "bf16"


def test_endpoints_without_launch_tables_are_left_alone() -> None:
    other = {"name": "remote", "precision": "fp8", "url": "http://10.0.0.2:8000"}
    assert [s.name for s in plan(profile(ep("a", 8000), other))] == ["a"]


@pytest.mark.parametrize("arg", ["--port", "--gpu-memory-utilization=0.9", "--host"])
def test_args_must_not_contradict_the_profile(arg: str) -> None:
    with pytest.raises(ConfigError, match=f"endpoint a: .*must not set {arg.split('=')[0]}"):
        plan(profile(ep("a", 8000, launch={"args": [arg, "1"]})))


def test_url_must_be_the_launched_server() -> None:
    assert plan(profile(ep("a", 8000, url="http://127.0.0.1:8000")))
    with pytest.raises(ConfigError, match=r"endpoint a: url .* does not match"):
        plan(profile(ep("a", 8000, url="http://127.0.0.1:9000")))


def test_two_endpoints_on_one_port_and_no_launch_table_are_errors() -> None:
    with pytest.raises(ConfigError, match="a and b both launch on port 8000"):
        plan(profile(ep("a", 8000), ep("b", 8000)))
    with pytest.raises(ConfigError, match="needs at least one"):
        plan(profile({"name": "r", "precision": "bf16", "url": "http://h:1"}))


def test_fractions_over_one_per_gpu_are_refused() -> None:
    servers = plan(profile(ep("a", 8000, 0.5), ep("b", 8001, 0.6), ep("c", 8002, 0.9, gpu=1)))
    problem = fit_problem(servers)
    assert problem is not None
    assert problem.startswith("GPU 0: gpu_memory_utilization adds up to 1.10 (a 0.5 + b 0.6)")
    assert fit_problem(servers[:1] + servers[2:]) is None


def test_fractions_must_fit_the_free_memory_nvml_reports() -> None:
    servers = plan(profile(ep("a", 8000, 0.3), ep("b", 8001, 0.3), ep("c", 8002, 0.3)))
    total = {0: 80 * GIB}
    assert fit_problem(servers, total, {0: 79 * GIB}) is None
    problem = fit_problem(servers, total, {0: 60 * GIB})
    assert problem is not None and "need 72.0 GiB" in problem and "only 60.0 GiB is free" in problem
    missing = fit_problem(plan(profile(ep("a", 8000, gpu=3))), total, {0: 80 * GIB})
    assert missing == "GPU 3: no such GPU on this host (NVML sees 0); fix gpu_index"
