#!/usr/bin/env bash
# Issues 21 and 22 on the GPU machine, one set of servers for both (after run_h100.sh install).
# One subcommand per device call; results under $OUT.
#
#   profiles       write $RUN/r4-all.toml: profiles/h200-prefix.toml's two servers (bf16 and kv8:
#                  BF16 vs FP8 KV cache in the same 600 MB) plus "big", h200-smollm2.toml's bf16
#                  server (8 GB of KV) on port 8002; $RUN/r4-prefix.toml (bf16, kv8, the prefix
#                  workload), $RUN/r4-big.toml (big alone, 64 in / 256 out) and
#                  $RUN/r4-big-spread.toml (the same, lengths uniform ±50 %: no lockstep waves)
#                  name the same servers. Then `PROFILE=$RUN/r4-all.toml run_h100.sh up --parallel`.
#   knee           qtui bench r4-prefix.toml: the knee search on the shared-prefix workload, TTFT
#                  p95 <= 300 ms, bf16 and kv8 swept in turn (isolate auto: one GPU), the golden
#                  set after; summary.json + the session + wall time.
# The peer rows run through run_h100.sh with PROFILE=$RUN/r4-prefix.toml or $RUN/r4-big.toml.
set -u
OUT=${OUT:-/tmp/out}; RUN=/root/run
mkdir -p "$OUT" "$RUN"
export PYTHONPATH=/root/qsite:/root/site:$PWD PYTHONUNBUFFERED=1
cmd=${1:-}; shift || true

case "$cmd" in
profiles)
  python3 - "$RUN" <<'EOF'
import sys, tomllib, tomli_w
from pathlib import Path
run = Path(sys.argv[1])
prefix = tomllib.loads(Path("profiles/h200-prefix.toml").read_text())
smol = tomllib.loads(Path("profiles/h200-smollm2.toml").read_text())
golden = str(Path("profiles/golden/llamacpp.jsonl").resolve())
prefix["workload"]["golden_set"] = golden
big = dict(next(e for e in smol["endpoints"] if e["name"] == "bf16"))
big.update(name="big", url="http://127.0.0.1:8002", model="smol-big")
big["launch"] = {**big["launch"], "port": 8002}
every = {**prefix, "profile": {**prefix["profile"], "name": "h200-r4"},
         "endpoints": [*prefix["endpoints"], big]}
alone = {**smol, "profile": {**smol["profile"], "name": "h200-r4-big", "baseline": "big"},
         "endpoints": [big]}
alone["workload"] = {k: v for k, v in smol["workload"].items() if k != "golden_set"}
spread = {**alone, "profile": {**alone["profile"], "name": "h200-r4-big-spread"}}
spread["workload"] = {**alone["workload"],
                      "input_tokens": {"mean": 64, "dist": "uniform", "spread": 0.5},
                      "output_tokens": {"mean": 256, "dist": "uniform", "spread": 0.5}}
for name, doc in (("r4-all", every), ("r4-prefix", prefix), ("r4-big", alone),
                  ("r4-big-spread", spread)):
    (run / f"{name}.toml").write_text(tomli_w.dumps(doc))
    print("wrote", run / f"{name}.toml", [e["name"] for e in doc["endpoints"]])
EOF
  ;;
knee)
  rm -rf "$RUN/knee"; t0=$(date +%s)
  timeout -s INT "${LIMIT:-560}" python3 -m qtui bench "$RUN/r4-prefix.toml" --quality \
    --out "$RUN/knee" > "$RUN/knee.log" 2>&1; rc=$?
  echo "wall_s knee $(( $(date +%s) - t0 )) rc $rc"
  grep -v '^\[' "$RUN/knee.log" | grep -v "cheapest GPUs" | tail -50
  for port in 8000 8001; do
    curl -s "127.0.0.1:$port/metrics" | grep -E "^vllm:(prefix_cache_(hits|queries)_total|num_preemptions_total)" | sed "s/^/$port /"
  done
  cp "$RUN/knee.log" "$OUT/"; cp "$RUN/knee/summary.json" "$OUT/summary-knee.json" 2>/dev/null
  cp "$RUN"/knee/*.qtsession "$OUT/" 2>/dev/null ;;
*) sed -n 2,13p "$0"; exit 2 ;;
esac
