from __future__ import annotations

import pytest
from pydantic import ValidationError

from qtui.config.profile import LaunchSpec


def test_defaults_run_vllm_from_path_and_wait_long_enough_for_a_first_compile() -> None:
    spec = LaunchSpec(model="/root/smol")
    assert (spec.executable, spec.gpu_index, spec.gpu_memory_utilization) == ("vllm", 0, 0.3)
    assert spec.ready_timeout_s >= 600


@pytest.mark.parametrize(
    "bad",
    [{"executable": ""}, {"ready_timeout_s": 0}, {"gpu_memory_utilization": 1.5}, {"env": {}}],
)
def test_bad_launch_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        LaunchSpec.model_validate({"model": "m", **bad})
