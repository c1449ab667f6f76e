#!/usr/bin/env bash
# The GPU procedure of issue 10, run on the GPU machine from the repo root, one step per call:
#   stash DIR      copy a carried chunk folder (.gpu-vllm/pNN or .qtw/X) into /root/stash
#   install        install vLLM (../shared/tools/gpu-vllm/install.sh) and qtui's wheels, build /root/smol
#   session        qtui bench PROFILE --launch --quality: 3 servers, sweep, golden set, session file
#   peer           benchmarks/gpu/vllm_peer.py: qtui vs `vllm bench serve` + histograms + NVML vs smi
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
  python3 -c "import qtui, textual, polars, bitsandbytes, vllm; print('qtui ok; vllm', vllm.__version__, 'bnb', bitsandbytes.__version__)" ;;
session)
  rm -rf /root/run/session qtui-out
  timeout -s INT "${LIMIT:-500}" python3 -m qtui bench "$PROFILE" --launch --quality --out /root/run/session 2>&1 \
    | tee /root/run-session.log | grep -v '^\[' | tail -60
  cp /root/run/session/*.qtsession "$OUT/" 2>/dev/null
  cp -r qtui-out/logs /root/run/session/ 2>/dev/null
  tar czf "$OUT/session-run.tar.gz" -C /root/run session /root/run-session.log 2>/dev/null
  ls -la "$OUT" ;;
peer)
  rm -rf /root/run/peer
  timeout -s INT "${LIMIT:-500}" python3 benchmarks/gpu/vllm_peer.py "$PROFILE" --out /root/run/peer "$@" 2>&1 \
    | tee /root/run-peer.log | tail -40
  nvidia-smi > /root/run/peer/nvidia-smi.txt 2>&1
  cp /root/run/peer/peer.json "$OUT/" 2>/dev/null
  cp /root/run/peer/session/*.qtsession "$OUT/" 2>/dev/null
  tar czf "$OUT/peer-run.tar.gz" -C /root/run --exclude='*.qtsession' peer /root/run-peer.log 2>/dev/null
  ls -la "$OUT" ;;
*) echo "unknown step $step"; exit 2 ;;
esac
