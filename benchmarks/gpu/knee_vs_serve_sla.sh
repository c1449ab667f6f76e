#!/usr/bin/env bash
# Issue 17 on the GPU machine: qtui's knee search, isolated vs all at once, and vLLM's own
# `vllm bench sweep serve_sla` for the same SLO (TTFT p95 ≤ 300 ms, by concurrency) on the same
# server. Prepared, not yet run. Run from the repo root after run_h100.sh install (see README.md
# in this folder); each subcommand fits one device call.
#
#   profile        write /root/run/knee-{all,bf16,fp8,nf4}.toml from $PROFILE: [load] sweep
#                  search = "knee" (precision 0.05, max_steps 12), [slo] ttft_p95_ms = 300 only
#   all            servers up (hold.py), then one qtui bench of all three at once on GPU 0
#   isolated       servers up, then qtui bench of one endpoint at a time (the others idle)
#   sla NAME       servers down, then vllm bench sweep serve_sla for endpoint NAME's serve command
#   table          the capacities, brackets and wall times of the runs above, side by side
set -u
PROFILE=${PROFILE:-profiles/h100-smollm2.toml}
RUN=/root/run
mkdir -p "$RUN"
cmd=${1:-}
shift || true

profile() {
  python3 - "$PROFILE" "$RUN" <<'EOF'
import sys, tomllib, tomli_w
src, out = sys.argv[1], sys.argv[2]
p = tomllib.load(open(src, "rb"))
p["load"]["sweep"] = {"levels": [1, 8, 32], "step_duration_s": 15, "search": "knee",
                      "precision": 0.05, "max_steps": 12, "min_requests": 100}
p["load"]["processes"] = 8  # issue 17: 2 processes were client-bound at the top level
p["slo"] = {"ttft_p95_ms": 300, "max_error_rate": 0.01, "quality": p["slo"].get("quality", {})}
eps = p["endpoints"]
tomli_w.dump(p, open(f"{out}/knee-all.toml", "wb"))
for e in eps:
    q = dict(p, endpoints=[e])
    q["profile"] = dict(p["profile"], baseline=e["name"])
    tomli_w.dump(q, open(f"{out}/knee-{e['name']}.toml", "wb"))
print("profiles in", out)
EOF
}

bench() {  # NAME PROFILE: qtui bench against hold.py's servers, wall time recorded
  local t0=$(date +%s)
  timeout -s INT "${LIMIT:-540}" python3 -m qtui bench "$2" --out "$RUN/knee-$1" 2>&1 | tail -20
  echo "wall_s $1 $(( $(date +%s) - t0 ))" | tee -a "$RUN/knee-wall.txt"
}

case "$cmd" in
profile) profile ;;
all)
  profile && WAIT=${WAIT:-300} bash benchmarks/gpu/run_h100.sh up --parallel
  bench all "$RUN/knee-all.toml" ;;
isolated)
  profile && WAIT=${WAIT:-300} bash benchmarks/gpu/run_h100.sh up --parallel
  for n in bf16 fp8 nf4; do bench "$n" "$RUN/knee-$n.toml"; done ;;
sla)
  name=${1:-bf16}
  bash benchmarks/gpu/run_h100.sh down
  sub=serve_sla
  vllm bench sweep serve_sla --help >/dev/null 2>&1 || sub=serve_workload  # renamed in later vLLM
  args=$(python3 -c "import tomllib,sys;e=[x for x in tomllib.load(open('$PROFILE','rb'))['endpoints'] if x['name']=='$name'][0]['launch'];print(' '.join([e['model'],'--port',str(e['port']),'--served-model-name',e.get('model','m'),'--gpu-memory-utilization',str(e['gpu_memory_utilization'])]+e['args']))")
  echo '[{"p95_ttft_ms": "<=300"}]' > "$RUN/sla.json"
  t0=$(date +%s)
  vllm bench sweep "$sub" \
    --serve-cmd "vllm serve $args" \
    --bench-cmd "vllm bench serve --model /root/smol --port $(echo "$args" | awk '{print $3}') --dataset-name random --random-input-len 64 --random-output-len 256 --ignore-eos --num-prompts 300 --percentile-metrics ttft,itl,e2el --metric-percentiles 95" \
    --sla-params "$RUN/sla.json" --sla-variable max_concurrency \
    -o "$RUN/sla-$name" 2>&1 | tail -40
  echo "wall_s sla-$name $(( $(date +%s) - t0 ))" | tee -a "$RUN/knee-wall.txt" ;;
table)
  cat "$RUN/knee-wall.txt"
  for d in "$RUN"/knee-*/; do
    echo "== $d"; python3 -c "import json,sys;s=json.load(open('$d/summary.json'));print(json.dumps(s.get('decision',s),indent=1)[:3000])"
  done
  find "$RUN" -path '*sla-*' -name '*.json' | head -20 ;;
*) sed -n 2,13p "$0"; exit 2 ;;
esac
