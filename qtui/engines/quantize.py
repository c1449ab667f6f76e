"""Make lower-bit GGUF variants of a model with llama.cpp's quantizer, cached by source hash."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from qtui.engines.cache import locked, sha256_file
from qtui.engines.provision import Engine
from qtui.engines.variants import Variant, variant_filename, variant_key
from qtui.errors import QtuiError

# Runs inside the engine's interpreter (qtui itself never imports llama_cpp).
_QUANTIZE = """
import sys, llama_cpp
src, dst, ftype, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = ftype
params.nthread = threads
params.allow_requantize = True
rc = llama_cpp.llama_model_quantize(src.encode(), dst.encode(), params)
sys.exit(0 if rc == 0 else 3)
"""


def quantize(engine: Engine, source: Path, target: Path, ftype: int, threads: int = 2) -> Path:
    """Re-quantize `source` into `target` (written atomically: a crash leaves no half file)."""
    part = target.with_name(target.name + ".part")
    cmd = [str(engine.python), "-c", _QUANTIZE, str(source), str(part), str(ftype), str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0 or not part.exists():
        part.unlink(missing_ok=True)
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise QtuiError(f"quantizing {source.name} to ftype {ftype} failed: {last[:200]}")
    os.replace(part, target)
    return target


def build_variants(
    engine: Engine, source: Path, variants: tuple[Variant, ...], out_dir: Path
) -> dict[str, Path]:
    """Path of each variant's GGUF: the source for the reference, cached quantizations else."""
    digest = sha256_file(source)
    stem = source.name.split(".")[0]
    paths: dict[str, Path] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    with locked(out_dir / ".lock"):
        for v in variants:
            if v.reference:
                paths[v.precision] = source
                continue
            key = variant_key(digest, v.precision, engine.version)
            target = out_dir / variant_filename(stem, v.precision, key)
            if not target.exists():
                quantize(engine, source, target, v.ftype)
            paths[v.precision] = target
    return paths
