"""The portable llama.cpp build: its level, its CMake flags and its cache key."""

from __future__ import annotations

from qtui.engines.build_flags import build_key, cmake_args, cpu_flags, x86_level

AMX_XEON = (
    "processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx avx2 fma f16c bmi2 "
    "avx512f avx512bw avx512_vnni amx_bf16 amx_int8 amx_tile\n"
)
HASWELL = "flags\t\t: sse4_2 popcnt avx avx2 fma f16c bmi2\n"
NEHALEM = "flags\t\t: sse4_2 popcnt\n"


def test_level_is_the_highest_portable_one_the_cpu_has() -> None:
    assert x86_level(cpu_flags(AMX_XEON)) == "x86-64-v3"  # AVX-512 and AMX are not used
    assert x86_level(cpu_flags(HASWELL)) == "x86-64-v3"
    assert x86_level(cpu_flags(NEHALEM)) == "x86-64-v2"
    assert x86_level(cpu_flags("flags\t: sse sse2\n")) == "x86-64"
    assert x86_level(cpu_flags("")) == "x86-64"


def test_no_host_detection_and_never_avx512_or_amx() -> None:
    args = cmake_args("x86-64-v3", "x86_64")
    assert args[0] == "-DGGML_NATIVE=OFF"
    assert "-DGGML_AVX2=ON" in args and "-DGGML_FMA=ON" in args
    for kernel in ("AVX512", "AVX512_VNNI", "AVX512_BF16", "AMX_TILE", "AMX_INT8", "AMX_BF16"):
        assert f"-DGGML_{kernel}=OFF" in args
    assert not any(a.endswith("=ON") for a in args if "AVX512" in a or "AMX" in a)


def test_lower_levels_switch_the_higher_instructions_off() -> None:
    v2 = cmake_args("x86-64-v2", "x86_64")
    assert "-DGGML_SSE42=ON" in v2 and "-DGGML_AVX=OFF" in v2 and "-DGGML_AVX2=OFF" in v2
    base = cmake_args("x86-64", "x86_64")
    assert "-DGGML_SSE42=OFF" in base and not any(a.endswith("=ON") for a in base)
    assert cmake_args("x86-64-v3", "aarch64") == ("-DGGML_NATIVE=OFF",)


def test_the_key_changes_with_anything_the_build_depends_on() -> None:
    args = cmake_args("x86-64-v3", "x86_64")
    key = build_key("0.3.36", args, "gcc 12.2.0", "cpu-a")
    assert key == build_key("0.3.36", list(args), "gcc 12.2.0", "cpu-a") and len(key) == 12
    others = {
        build_key("0.3.37", args, "gcc 12.2.0", "cpu-a"),
        build_key("0.3.36", cmake_args("x86-64-v2", "x86_64"), "gcc 12.2.0", "cpu-a"),
        build_key("0.3.36", args, "gcc 13.1.0", "cpu-a"),
        build_key("0.3.36", args, "gcc 12.2.0", "cpu-b"),
    }
    assert key not in others and len(others) == 4
