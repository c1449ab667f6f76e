"""By hand: what the portable llama.cpp build costs in speed against a host-tuned (native) one.

    python benchmarks/bench_llamacpp_build.py NATIVE_PYTHON [--rounds 3] [--threads 1]

NATIVE_PYTHON is an interpreter that imports a llama-cpp-python built with
``CMAKE_ARGS=-DGGML_NATIVE=ON`` (e.g. ``pip wheel --no-cache-dir llama-cpp-python==0.3.36`` into
a venv of its own); the portable one is qtui's own engine (``qtui.engines.provision``). Both load
the suite's SmolLM2-135M Q4_1 file and, in alternating rounds, evaluate a ~200-token prompt and
generate 64 tokens greedily; prompt and generation tokens/s are printed per build, with the
ratio portable ÷ native measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path

from qtui.engines.provision import ensure_engine, ensure_smollm2, this_build

PROBE = r"""
import json, sys, time
import llama_cpp
model, threads = sys.argv[1], int(sys.argv[2])
llm = llama_cpp.Llama(model_path=model, n_ctx=1024, n_threads=threads, n_threads_batch=threads,
                      verbose=False, seed=1)
info = llama_cpp.llama_print_system_info().decode()
prompt = "Write a short story about a lighthouse keeper and the sea. " * 16
n_prompt = len(llm.tokenize(prompt.encode()))
t0 = time.perf_counter()
llm.eval(llm.tokenize(prompt.encode()))
t1 = time.perf_counter()
out = llm.create_completion("Once upon a time", max_tokens=64, temperature=0.0)
t2 = time.perf_counter()
gen = out["usage"]["completion_tokens"]
print(json.dumps({"prompt_tps": n_prompt / (t1 - t0), "gen_tps": gen / (t2 - t1),
                  "n_prompt": n_prompt, "n_gen": gen, "system_info": info}))
"""


def run(python: str, model: Path, threads: int) -> dict[str, float | str]:
    out = subprocess.run(
        [python, "-c", PROBE, str(model), str(threads)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("native_python")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    portable = str(ensure_engine().python)
    model = ensure_smollm2()
    builds = {"portable": portable, "native": args.native_python}
    seen: dict[str, list[dict[str, float | str]]] = {k: [] for k in builds}
    for _ in range(args.rounds):
        for name, python in builds.items():
            seen[name].append(run(python, model, args.threads))
    print(f"portable build: {this_build().level}, {' '.join(this_build().cmake_args)}")
    for name, runs in seen.items():
        info = str(runs[0]["system_info"]).split("|")
        kernels = [k.strip() for k in info if k.strip().endswith("= 1")]
        print(f"{name}: kernels {' '.join(kernels)}")
    med = {
        name: {k: statistics.median(float(r[k]) for r in runs) for k in ("prompt_tps", "gen_tps")}
        for name, runs in seen.items()
    }
    for key, label in (("prompt_tps", "prompt eval"), ("gen_tps", "generation")):
        p, n = med["portable"][key], med["native"][key]
        print(f"{label:>11}: portable {p:8.1f} tok/s, native {n:8.1f} tok/s, ratio {p / n:.3f} "
              f"(median of {args.rounds}, {args.threads} thread(s))")  # fmt: skip


if __name__ == "__main__":
    main()
