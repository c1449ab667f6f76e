"""Provisioning steps: wheel lookup, failing steps as one line, the import probe."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest

from qtui.engines.provision import (
    _probe,
    _run,
    cached_wheel,
    compiler_problem,
    this_build,
    wheel_dir,
)
from qtui.errors import QtuiError


def _plat() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def test_cached_wheel_matches_version_and_platform(tmp_path: Path) -> None:
    wheels = wheel_dir(tmp_path)
    assert wheels == tmp_path / "wheels" / this_build().key  # one folder per build key
    wheels.mkdir(parents=True)
    assert cached_wheel(tmp_path, "0.3.36") is None
    (wheels / "llama_cpp_python-0.3.35-py3-none-linux_x86_64.whl").touch()
    (wheels / "llama_cpp_python-0.3.36-py3-none-other_arch.whl").touch()
    assert cached_wheel(tmp_path, "0.3.36") is None
    good = wheels / f"llama_cpp_python-0.3.36-py3-none-{_plat()}.whl"
    good.touch()
    assert cached_wheel(tmp_path, "0.3.36") == good


def test_a_failing_step_is_one_line_naming_its_log(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "step.log"
    cmd = [sys.executable, "-c", "import sys; print('cmake not found'); sys.exit(3)"]
    with pytest.raises(QtuiError, match=r"^building x failed \(cmake not found\); see .*step\.log"):
        _run("building x", cmd, log, timeout=30)
    assert "cmake not found" in log.read_text()


def test_a_step_that_runs_too_long_is_stopped(tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", "import time; time.sleep(30)"]
    with pytest.raises(QtuiError, match=r"^sleeping took over 0 s"):
        _run("sleeping", cmd, tmp_path / "slow.log", timeout=0.2)


def test_probe_is_false_for_a_missing_or_wrong_interpreter(tmp_path: Path) -> None:
    assert not _probe(tmp_path / "bin" / "python", "0.3.36")
    assert not _probe(Path(sys.executable), "0.0.0-never")  # no llama_cpp, or not this version


def test_no_compiler_is_one_line_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.delenv("CXX", raising=False)
    said = compiler_problem(which=lambda _name: None)
    assert said is not None and "\n" not in said
    assert "C++" in said and "build-essential" in said
    assert compiler_problem(which=lambda name: f"/usr/bin/{name}") is None


def test_cc_and_cxx_name_the_compilers_to_look_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXX", "my-cxx --flag")
    monkeypatch.setenv("CC", "my-cc")
    found = {"my-cc"}
    said = compiler_problem(which=lambda name: name if name in found else None)
    assert said is not None and "my-cxx" in said and "no C++ compiler" in said


def test_a_wheel_built_with_other_flags_is_never_reused(tmp_path: Path) -> None:
    here = this_build()
    other = this_build(cpuinfo="flags\t: sse4_2 popcnt\n")  # another CPU: other level and key
    assert other.level == "x86-64-v2" and other.key != here.key
    old = wheel_dir(tmp_path, other)
    old.mkdir(parents=True)
    (old / f"llama_cpp_python-0.3.36-py3-none-{_plat()}.whl").touch()
    assert cached_wheel(tmp_path, "0.3.36", here) is None
    assert cached_wheel(tmp_path, "0.3.36", other) is not None


def test_this_build_is_portable() -> None:
    build = this_build()
    assert "-DGGML_NATIVE=OFF" in build.cmake_args
    assert build.env_cmake_args == " ".join(build.cmake_args)
