#!/usr/bin/env bash
# Issues 17 and 18 on the GPU machine (after run_h100.sh install + up; PROFILE's servers up under
# hold.py, started as by hand). One subcommand per device call; results under $OUT.
#
#   knee MODE      qtui bench with a knee search on all of PROFILE's endpoints, TTFT p95 <= 300 ms
#                  (the issue's SLO) and nothing else, `[load] isolate = MODE`: "never" loads all
#                  at once, "always" one at a time (the others idle); default load processes
#                  (chosen from the streams). summary.json + the run's output + wall time.
#   quality N      a generated golden set of N items (`qtui golden generate -n N`) on every
#                  endpoint (the baseline twice: the noise floor), after a short load.
#   table          the knee runs' capacities, brackets and wall times, side by side.
set -u
PROFILE=${PROFILE:-profiles/h200-smollm2.toml}
OUT=${OUT:-/tmp/out}; RUN=/root/run
mkdir -p "$OUT" "$RUN"
export PYTHONPATH=/root/qsite:/root/site:$PWD PYTHONUNBUFFERED=1
cmd=${1:-}; shift || true

write_profile() {  # DEST KIND ARG: a copy of PROFILE for one experiment
  python3 - "$PROFILE" "$@" <<'EOF'
import sys, tomllib, tomli_w
from pathlib import Path
src, dest, kind, arg = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
p = tomllib.loads(src.read_text())
golden = p["workload"].get("golden_set")
if golden:  # relative to the profile: make it absolute for the copy
    p["workload"]["golden_set"] = str((src.parent / golden).resolve())
if kind == "knee":
    p["load"] = {"mode": "sweep", "sweep_by": "concurrency", "warmup_s": 2, "duration_s": 60,
                 "isolate": arg,
                 "sweep": {"levels": [16, 64, 256], "step_duration_s": 8, "search": "knee",
                           "precision": 0.05, "max_steps": 10, "min_requests": 100}}
    p["slo"] = {"ttft_p95_ms": 300, "max_error_rate": 0.01}
elif kind == "prefix":  # 8 shared 1,024-token prefixes + a 64-token suffix, 128 out, 64 users
    p["endpoints"] = [e for e in p["endpoints"] if e["name"] in ("bf16", "fp8-kv8")]
    p["workload"] = {"kind": "synthetic", "api": "completions", "prefix_count": 8,
                     "prefix_tokens": 1024, "input_tokens": {"mean": 64, "dist": "fixed"},
                     "output_tokens": {"mean": 128, "dist": "fixed"}}
    p["load"] = {"mode": "concurrency", "concurrency": 64, "duration_s": 20, "warmup_s": 2,
                 "isolate": "always"}
    p["slo"] = {"ttft_p95_ms": 300}
else:  # quality: the golden set is arg; a short fixed load first
    p["workload"]["golden_set"] = arg
    p["load"] = {"mode": "concurrency", "concurrency": 32, "duration_s": 10, "warmup_s": 2}
    # the drop vs the baseline only: SmolLM2-135M fails most generated items at any precision
    p["slo"] = {"ttft_p95_ms": 500, "quality": {"max_drop_vs_baseline": 0.05, "min_items": 50}}
Path(dest).write_text(tomli_w.dumps(p))
print("wrote", dest)
EOF
}

case "$cmd" in
knee)
  mode=${1:-never}
  write_profile "$RUN/knee-$mode.toml" knee "$mode" || exit 1
  rm -rf "$RUN/knee-$mode"; t0=$(date +%s)
  timeout -s INT "${LIMIT:-560}" python3 -m qtui bench "$RUN/knee-$mode.toml" --out "$RUN/knee-$mode" \
    > "$RUN/knee-$mode.log" 2>&1; rc=$?
  echo "wall_s knee-$mode $(( $(date +%s) - t0 )) rc $rc" | tee -a "$RUN/knee-wall.txt"
  grep -v '^\[' "$RUN/knee-$mode.log" | tail -45
  cp "$RUN/knee-$mode.log" "$RUN/knee-$mode/summary.json" "$OUT/" 2>/dev/null
  mv "$OUT/summary.json" "$OUT/summary-knee-$mode.json" 2>/dev/null
  cp "$RUN"/knee-$mode/*.qtsession "$OUT/" 2>/dev/null
  cp "$RUN/knee-wall.txt" "$OUT/" ;;
quality)
  n=${1:-500}
  python3 -m qtui golden generate -n "$n" --seed 0 -o "$RUN/golden-$n.jsonl" || exit 1
  write_profile "$RUN/quality-$n.toml" quality "$RUN/golden-$n.jsonl" || exit 1
  rm -rf "$RUN/quality-$n"; t0=$(date +%s)
  timeout -s INT "${LIMIT:-560}" python3 -m qtui bench "$RUN/quality-$n.toml" --quality \
    --out "$RUN/quality-$n" > "$RUN/quality-$n.log" 2>&1; rc=$?
  echo "wall_s quality-$n $(( $(date +%s) - t0 )) rc $rc" | tee -a "$RUN/knee-wall.txt"
  grep -v '^\[' "$RUN/quality-$n.log" | tail -45
  cp "$RUN/quality-$n.log" "$OUT/"; cp "$RUN/quality-$n/summary.json" "$OUT/summary-quality-$n.json"
  cp "$RUN"/quality-$n/*.qtsession "$OUT/" 2>/dev/null ;;
prefix)  # qtui's shared-prefix load, then vllm bench serve --dataset-name prefix_repetition
  write_profile "$RUN/prefix.toml" prefix - || exit 1
  rm -rf "$RUN/prefix"; t0=$(date +%s)
  timeout -s INT "${LIMIT:-300}" python3 -m qtui bench "$RUN/prefix.toml" --out "$RUN/prefix" \
    > "$RUN/prefix.log" 2>&1; echo "wall_s prefix-qtui $(( $(date +%s) - t0 )) rc $?"
  grep -v '^\[' "$RUN/prefix.log" | grep -v "cheapest GPUs" | tail -12
  cp "$RUN/prefix.log" "$OUT/"; cp "$RUN/prefix/summary.json" "$OUT/summary-prefix.json"
  cp "$RUN"/prefix/*.qtsession "$OUT/" 2>/dev/null
  for ep in bf16:8000:smol-bf16 fp8-kv8:8002:smol-fp8-kv8; do
    IFS=: read -r name port model <<< "$ep"
    hits() { curl -s "127.0.0.1:$port/metrics" | awk '/^vllm:prefix_cache_(hits|queries)_total/ {print $1, $2}'; }
    hits > "$RUN/hits-$name-before.txt"
    timeout 200 python3 -m vllm.entrypoints.cli.main bench serve --backend vllm \
      --base-url "http://127.0.0.1:$port" --model "$model" --tokenizer /root/smol \
      --dataset-name prefix_repetition --prefix-repetition-prefix-len 1024 \
      --prefix-repetition-suffix-len 64 --prefix-repetition-num-prefixes 8 \
      --prefix-repetition-output-len 128 --ignore-eos --max-concurrency 64 --num-prompts 1500 \
      --percentile-metrics ttft,itl,e2el --metric-percentiles 50,95 --save-result \
      --result-dir "$RUN" --result-filename "peer-prefix-$name.json" 2>&1 | grep -E "^(Successful|Request throughput|Output token|Median TTFT|P95 TTFT|Median ITL|P95 ITL|Benchmark duration)"
    hits > "$RUN/hits-$name-after.txt"
    echo "$name prefix-cache counters before/after:"; cat "$RUN/hits-$name-before.txt" "$RUN/hits-$name-after.txt"
    cp "$RUN/peer-prefix-$name.json" "$RUN"/hits-$name-*.txt "$OUT/" 2>/dev/null
  done ;;
*) sed -n 2,12p "$0"; exit 2 ;;
esac
