from pathlib import Path

import pytest

from qtui.config.paths import shipped_profiles_dir
from qtui.config.profile import Workload
from qtui.errors import ConfigError
from qtui.load.workload import make_source
from qtui.quality.golden import load_golden


def test_golden_workload_cycles_the_shipped_set_in_order() -> None:
    base = shipped_profiles_dir()
    items = load_golden(base / "golden" / "smoke.jsonl")
    src = make_source(Workload(kind="golden", golden_set="golden/smoke.jsonl"), base)
    prompts = [src.next() for _ in range(len(items) + 1)]
    assert [p.text for p in prompts[:-1]] == [i.last_user_message for i in items]
    assert prompts[-1].text == items[0].last_user_message
    assert [p.max_tokens for p in prompts[:-1]] == [i.max_tokens for i in items]
    assert not any(p.fixed_output for p in prompts)


def test_an_empty_golden_set_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "g.jsonl").write_text("\n")
    with pytest.raises(ConfigError, match="no items"):
        make_source(Workload(kind="golden", golden_set="g.jsonl"), tmp_path)
