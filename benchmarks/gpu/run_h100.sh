#!/usr/bin/env bash
# The GPU procedure of issue 10, run on the GPU machine from the repo root, one step per call:
#   stash DIR      copy a carried chunk folder (.gpu-vllm/pNN or .qtw/X) into /root/stash
#   install        install vLLM (../shared/tools/gpu-vllm/install.sh) and qtui's wheels, build /root/smol
#   up [--parallel] start the profile's servers under benchmarks/gpu/hold.py (setsid: they outlive
#                  this call) and wait up to WAIT s (default 480) until all are healthy; the first
#                  start fills vLLM's torch.compile cache (~/.cache/vllm) for every later start
#   down           stop hold.py's servers (SIGTERM to the holder, which stops each process group)
#   peer ARGS      benchmarks/gpu/vllm_peer.py --attach (hold.py's servers; starts them if none):
#                  qtui vs `vllm bench serve` + histograms + NVML vs smi
#   session        down, then qtui bench PROFILE --launch --quality: 3 servers, sweep, golden set;
#                  ATTACH=1: against hold.py's servers (started outside qtui, as by hand)
#   tui            down, then `qtui run PROFILE --launch` on an 80x24 pty (tui_pty.py): start-up
#                  progress, load, golden set, each view, quit; then no server may be left.
#                  ATTACH=1: `qtui run PROFILE` against hold.py's servers, as if started by hand
#   quality        issue 18: write the profile's generated golden set (1,000 items, seed 18), then
#                  qtui bench PROFILE --quality against hold.py's servers (the baseline twice: the
#                  noise floor) and qtui report on its session; wall time printed
# Results go to $OUT (at most 8 files), bulky ones as one tarball. See benchmarks/gpu/README.md.
set -uo pipefail
step=$1; shift
PROFILE=${PROFILE:-profiles/h100-smollm2.toml}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export PYTHONPATH=/root/qsite:/root/site:$PWD PATH=/root/bin:$PATH PYTHONUNBUFFERED=1
export VLLM_USE_FLASHINFER_SAMPLER=0 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
case $step in
stash)
  mkdir -p /root/stash /root/qstash
  for d in "$@"; do
    if [ -f "$d/part" ]; then cp "$d/part" "/root/stash/part.${d##*/p}"; else cp "$d"/*.whl /root/qstash/; fi
  done
  ls -la /root/stash /root/qstash; df -h /root | tail -1 ;;
install)
  bash .gpu-vllm/bin/install.sh || exit 1
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /root/qsite /root/qstash/*.whl || exit 1
  mkdir -p /root/bin
  printf '#!/bin/sh\nexec python3 -m vllm.entrypoints.cli.main "$@"\n' > /root/bin/vllm
  chmod +x /root/bin/vllm
  python3 -c "import qtui, textual, polars, vllm; print('qtui ok; vllm', vllm.__version__)"
  python3 -c "import bitsandbytes; print('bnb', bitsandbytes.__version__)" 2>/dev/null || echo "no bitsandbytes (only the NF4 endpoint needs it)" ;;
up)  # a machine given back while idle comes back bare: say so now, not after the whole WAIT
  [ -d /root/site ] || { echo "no vLLM on this machine (a fresh one?): stash the chunks and run install first"; exit 1; }
  mkdir -p /root/run
  if ! grep -qs '"holder_pid"' /root/run/servers.json || grep -qs '"stopped": true' /root/run/servers.json; then
    rm -f /root/run/servers.json
    setsid nohup python3 benchmarks/gpu/hold.py "$PROFILE" --state /root/run/servers.json \
      --logs /root/run/logs "$@" > /root/run/hold.log 2>&1 < /dev/null &
  fi
  end=$((SECONDS + ${WAIT:-480})); shown=$SECONDS
  until grep -qs '"ready": true\|"stopped": true' /root/run/servers.json || [ $SECONDS -ge $end ]; do
    sleep 3
    if [ $((SECONDS - shown)) -ge 30 ]; then
      shown=$SECONDS
      for f in /root/run/logs/*.log; do echo "[$SECONDS s] ${f##*/}: $(grep -v '^\s*$' "$f" | tail -1 | cut -c1-150)"; done
    fi
  done
  echo "after $SECONDS s:"; cat /root/run/hold.log; cat /root/run/servers.json
  grep -hE "torch.compile take|Compiling a graph|Directly load|Graph capturing finished|init engine|cache factors|Error|error" \
    /root/run/logs/*.log | cut -c1-220 | tail -40
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv
  tar czf "$OUT/up-logs.tar.gz" -C /root/run logs hold.log servers.json 2>/dev/null ;;
down)
  hp=$(python3 -c 'import json; print(json.load(open("/root/run/servers.json"))["holder_pid"])' 2>/dev/null)
  if [ -n "$hp" ] && kill -TERM "$hp" 2>/dev/null; then
    for i in $(seq 1 60); do kill -0 "$hp" 2>/dev/null || break; sleep 1; done
  fi
  tail -3 /root/run/hold.log 2>/dev/null
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv ;;
session)  # ATTACH=1: qtui bench against hold.py's servers (started as by hand), no --launch
  if [ -z "${ATTACH:-}" ]; then bash "$0" down; launch=--launch; else launch=; fi
  rm -rf /root/run/session qtui-out
  timeout -s INT "${LIMIT:-500}" python3 -m qtui bench "$PROFILE" $launch --quality --out /root/run/session 2>&1 \
    | tee /root/run-session.log | grep -v '^\[' | tail -60
  nvidia-smi > /root/run/session/nvidia-smi-after.txt 2>&1; tail -4 /root/run/session/nvidia-smi-after.txt
  cp /root/run/session/*.qtsession "$OUT/" 2>/dev/null
  cp -r qtui-out/logs /root/run/session/ 2>/dev/null
  tar czf "$OUT/session-run.tar.gz" --exclude='*.qtsession' --exclude='requests.*' -C /root/run session /root/run-session.log 2>/dev/null
  ls -la "$OUT" ;;
peer)
  [ -f /root/run/servers.json ] || bash "$0" up --parallel || exit 1
  rm -rf /root/run/peer
  timeout -s INT "${LIMIT:-500}" python3 benchmarks/gpu/vllm_peer.py "$PROFILE" --out /root/run/peer \
    --attach /root/run/servers.json "$@" 2>&1 | tee /root/run-peer.log | tail -40
  nvidia-smi > /root/run/peer/nvidia-smi.txt 2>&1
  cp /root/run/peer/peer.json "$OUT/" 2>/dev/null
  cp /root/run/servers.json /root/run/hold.log "$OUT/" 2>/dev/null
  tar czf "$OUT/peer-run.tar.gz" -C /root/run --exclude='*.qtsession' --exclude='requests.parquet' \
    peer logs /root/run-peer.log 2>/dev/null
  ls -la "$OUT" ;;
tui)  # ATTACH=1: attach to hold.py's servers (started outside qtui, as by hand) instead
  if [ -z "${ATTACH:-}" ]; then bash "$0" down; launch=--launch; else launch=; fi
  rm -rf /root/run/tui; mkdir -p /root/run/tui
  timeout -s INT "${LIMIT:-500}" python3 benchmarks/gpu/tui_pty.py --out /root/run/tui \
    ${KEYS:+--keys "$KEYS"} -- python3 -m qtui run "$PROFILE" $launch --record /root/run/tui/tui.qtsession
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv | tee /root/run/tui/smi-after.csv
  pgrep -af "vllm|qtui" | grep -v pgrep | tee /root/run/tui/procs-after.txt
  cp /root/run/tui/tui.qtsession "$OUT/" 2>/dev/null; cp -r qtui-out/logs /root/run/tui/ 2>/dev/null
  tar czf "$OUT/tui-run.tar.gz" --exclude='*.qtsession' -C /root/run tui 2>/dev/null
  ls -la "$OUT" ;;
quality)  # PROFILE=profiles/h200-smollm2-quality.toml, after `up --parallel` with the same PROFILE
  [ -f /root/run/servers.json ] || bash "$0" up --parallel
  python3 -m qtui golden generate -n "${N:-1000}" --seed 18 -o "profiles/golden/generated-${N:-1000}.jsonl" || exit 1
  rm -rf /root/run/quality; start=$SECONDS
  timeout -s INT "${LIMIT:-500}" python3 -m qtui bench "$PROFILE" --quality --out /root/run/quality 2>&1 \
    | tee /root/run-quality.log | grep -v '^\[' | tail -60
  echo "qtui bench --quality wall time: $((SECONDS - start)) s"
  python3 -m qtui report /root/run/quality/*.qtsession --out /root/run/quality/report 2>&1 | tail -3
  cp /root/run/quality/*.qtsession /root/run/quality/summary.json /root/run/quality/report/*.md "$OUT/" 2>/dev/null
  tar czf "$OUT/quality-run.tar.gz" --exclude='*.qtsession' --exclude='requests.*' -C /root/run quality /root/run-quality.log 2>/dev/null
  ls -la "$OUT" ;;
*) echo "unknown step $step"; exit 2 ;;
esac
