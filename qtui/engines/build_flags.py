"""How llama.cpp is compiled so the build runs on every CPU of its level, and the cache key.

llama.cpp's default (`GGML_NATIVE=ON`) compiles for the build machine's CPU and, on a Xeon with
AMX, turns on the AMX kernels, which die with a general protection fault on the first real prompt
(ggml-org/llama.cpp#20824; worker threads never request the XTILEDATA permission, #26954). qtui
builds at a portable x86-64 level instead: `-DGGML_NATIVE=OFF` with each instruction-set switch
named, AVX-512 and AMX off. A build's cache key names everything the build depends on (engine
version, these flags, the compiler, the CPU), so a build made with other flags or on another
CPU is never reused.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable

# x86-64 microarchitecture levels (psABI): the flags /proc/cpuinfo must show for each.
X86_64_V3 = frozenset({"avx", "avx2", "fma", "f16c", "bmi2"})
X86_64_V2 = frozenset({"sse4_2", "popcnt"})

# Kernels qtui never compiles in, whatever the CPU: AVX-512 (and its extensions) and AMX.
_ALWAYS_OFF = (
    "GGML_AVX512",
    "GGML_AVX512_VBMI",
    "GGML_AVX512_VNNI",
    "GGML_AVX512_BF16",
    "GGML_AVX_VNNI",
    "GGML_AMX_TILE",
    "GGML_AMX_INT8",
    "GGML_AMX_BF16",
)
_V3_ON = ("GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2")


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The instruction-set flags of the first CPU listed in /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def x86_level(flags: Iterable[str]) -> str:
    """The highest portable level these flags allow: `x86-64-v3`, `x86-64-v2` or `x86-64`."""
    have = set(flags)
    if have >= X86_64_V3 | X86_64_V2:
        return "x86-64-v3"
    if have >= X86_64_V2:
        return "x86-64-v2"
    return "x86-64"


def cmake_args(level: str, machine: str | None = None) -> tuple[str, ...]:
    """CMake definitions for a llama.cpp build at `level` (no host detection, no AVX-512/AMX)."""
    machine = (machine or platform.machine()).lower()
    args = ["-DGGML_NATIVE=OFF"]
    if machine not in ("x86_64", "amd64"):
        return tuple(args)  # other architectures: the compiler's baseline for the target
    on = {"x86-64-v3": _V3_ON, "x86-64-v2": ("GGML_SSE42",), "x86-64": ()}[level]
    args += [f"-D{name}=ON" for name in on]
    args += [f"-D{name}=OFF" for name in _V3_ON if name not in on]
    args += [f"-D{name}=OFF" for name in _ALWAYS_OFF]
    return tuple(args)


def build_key(version: str, args: Iterable[str], compiler: str, cpu: str) -> str:
    """12 hex digits naming one build: engine version, CMake flags, compiler, CPU fingerprint."""
    ident = {"version": version, "cmake": list(args), "compiler": compiler, "cpu": cpu}
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:12]
