#!/usr/bin/env bash
# Issue 17 on the GPU machine (one H200): the profile's three vLLM servers on GPU 0, qtui's knee
# search with `[load] isolate = "auto"` (they share GPU 0, so one is loaded at a time, the others
# idle) against `isolate = "never"` (all three loaded at once), and vLLM's own
# `vllm bench sweep serve_sla` for the same SLO (TTFT p95 ≤ 300 ms, by concurrency) on the same
# server. Load processes are left to qtui's chooser (no --processes): the summary says how many
# it took and whether any second was client-bound. Run from the repo root after
# `run_h100.sh install` (README.md in this folder); each subcommand fits one device call.
#
#   profile        write /root/run/knee-{isolated,together}.toml from $PROFILE: [load] sweep
#                  search = "knee" from levels 1, 16, 64, 256 (precision 0.05, max_steps 10,
#                  min_requests 100, 10 s steps), [slo] ttft_p95_ms = 300 only; isolate auto/never
#   isolated       servers up (hold.py, as by hand), then qtui bench knee-isolated.toml
#   together       servers up, then qtui bench knee-together.toml
#   sla NAME       servers down, then vllm bench sweep serve_sla for endpoint NAME's serve command
#   table          the capacities, brackets, load processes, client-bound seconds, what isolation
#                  did, and the wall times of the runs above, side by side; results into $OUT
set -u
PROFILE=${PROFILE:-profiles/h200-smollm2.toml}
RUN=/root/run
OUT=${OUT:-/tmp/out}
mkdir -p "$RUN" "$OUT"
export PYTHONPATH=/root/qsite:/root/site:$PWD PATH=/root/bin:$PATH PYTHONUNBUFFERED=1
cmd=${1:-}
shift || true

profile() {
  python3 - "$PROFILE" "$RUN" <<'EOF'
import sys, tomllib, tomli_w
src, out = sys.argv[1], sys.argv[2]
p = tomllib.load(open(src, "rb"))
p["load"]["sweep"] = {"levels": [1, 16, 64, 256], "step_duration_s": 10, "search": "knee",
                      "precision": 0.05, "max_steps": 10, "min_requests": 100}
p["load"].pop("processes", None)  # qtui's chooser: the point is that its default suffices
p["slo"] = {"ttft_p95_ms": 300, "max_error_rate": 0.01, "quality": p["slo"].get("quality", {})}
for name, isolate in (("isolated", "auto"), ("together", "never")):
    p["load"]["isolate"] = isolate
    tomli_w.dump(p, open(f"{out}/knee-{name}.toml", "wb"))
print("profiles in", out)
EOF
}

bench() {  # NAME PROFILE: qtui bench against hold.py's servers, wall time recorded
  local t0=$(date +%s)
  rm -rf "$RUN/knee-$1"
  timeout -s INT "${LIMIT:-560}" python3 -m qtui bench "$2" --out "$RUN/knee-$1" 2>&1 \
    | grep -v '^\[' | tail -30
  echo "wall_s $1 $(( $(date +%s) - t0 ))" | tee -a "$RUN/knee-wall.txt"
  cp "$RUN/knee-$1"/*.qtsession "$OUT/knee-$1.qtsession" 2>/dev/null
}

case "$cmd" in
profile) profile ;;
isolated|together)
  profile && PROFILE=$PROFILE WAIT=${WAIT:-300} bash benchmarks/gpu/run_h100.sh up --parallel | tail -5
  bench "$cmd" "$RUN/knee-$cmd.toml" ;;
sla)
  name=${1:-bf16}
  PROFILE=$PROFILE bash benchmarks/gpu/run_h100.sh down
  vllm bench sweep serve_sla --help > "$RUN/sla-help.txt" 2>&1
  if ! grep -q -- "--sla-params" "$RUN/sla-help.txt"; then
    echo "this vLLM has no 'vllm bench sweep serve_sla' with --sla-params; its sweep commands:"
    vllm bench sweep --help 2>&1 | tail -20; cp "$RUN/sla-help.txt" "$OUT/"; exit 3
  fi
  read -r serve port served < <(python3 - "$PROFILE" "$name" <<'EOF'
import sys, tomllib
e = next(x for x in tomllib.load(open(sys.argv[1], "rb"))["endpoints"] if x["name"] == sys.argv[2])
ln = e["launch"]
args = [ln["model"], "--port", str(ln["port"]), "--served-model-name", e["model"],
        "--gpu-memory-utilization", str(ln["gpu_memory_utilization"]), *ln["args"]]
print("\x1f".join(args), ln["port"], e["model"])
EOF
)
  serve=${serve//$'\x1f'/ }
  echo '[{"p95_ttft_ms": "<=300"}]' > "$RUN/sla.json"
  t0=$(date +%s)
  timeout -s INT "${LIMIT:-560}" vllm bench sweep serve_sla \
    --serve-cmd "vllm serve $serve" \
    --bench-cmd "vllm bench serve --model /root/smol --served-model-name $served --port $port --dataset-name random --random-input-len 64 --random-output-len 256 --ignore-eos --num-prompts 300 --percentile-metrics ttft,itl,e2el --metric-percentiles 95" \
    --sla-params "$RUN/sla.json" --sla-variable max_concurrency \
    -o "$RUN/sla-$name" 2>&1 | tail -40
  echo "wall_s sla-$name $(( $(date +%s) - t0 ))" | tee -a "$RUN/knee-wall.txt"
  tar czf "$OUT/sla-$name.tar.gz" -C "$RUN" "sla-$name" sla.json sla-help.txt 2>/dev/null ;;
table)
  cat "$RUN/knee-wall.txt"
  python3 - "$RUN" <<'EOF' | tee "$OUT/knee-table.md"
import json, pathlib, sys
run = pathlib.Path(sys.argv[1])
print("| run | endpoint | capacity (qtui's words) | load processes | client-bound s |")
print("|---|---|---|---|---|")
for name in ("isolated", "together"):
    f = run / f"knee-{name}" / "summary.json"
    if not f.exists():
        continue
    s = json.loads(f.read_text())
    procs = s.get("load_processes")
    for ep, d in s.get("decision", {}).get("endpoints", {}).items():
        r = s.get("endpoints", {}).get(ep, {})
        cb = f"{r.get('client_bound_seconds', '?')} (flagged: {r.get('client_bound', '?')})"
        print(f"| {name} | {ep} | {d.get('capacity')} | {procs} | {cb} |")
from qtui.session import load_session
for name in ("isolated", "together"):
    for p in (run / f"knee-{name}").glob("*.qtsession"):
        for e in load_session(p).docs("event"):
            if e.get("key") in ("isolation", "search_failed") or "knee search" in str(e.get("value")):
                print(f"- {name}: {e.get('key')}: {str(e.get('value'))[:300]}")
EOF
  find "$RUN" -path '*sla-*' -name '*.json' | head -20
  for f in $(find "$RUN" -path '*sla-*' -name 'summary*.json' -o -path '*sla-*' -name '*sla*.json' | head -5); do
    echo "== $f"; head -c 2000 "$f"; echo
  done ;;
*) sed -n 2,19p "$0"; exit 2 ;;
esac
