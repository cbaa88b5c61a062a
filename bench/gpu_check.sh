#!/usr/bin/env bash
# Issue 12's GPU check as one prepared script (about 8 minutes on one GPU):
#   1. a CUDA smoke run of every sampler (`benchmarks --budget smoke`); stops at a failure;
#   2. then, side by side on the one GPU: `seeds-large --budget quick` as one process per seed
#      (merged afterwards by `python bench/merge_results.py`), and bench/fb15k_demix.py on
#      FB15k-237 and WN18RR (RotatE at dim 500: uniform + self-adversarial for BUDGET seconds,
#      then DeMix at the recommended mu and alpha for as many steps).
# Jobs still running DEADLINE seconds after the start are stopped (their logs say how far they
# got). Everything but checkpoints lands in $OUT/gpu_check.tar.gz. Shared GPU: the step times of
# jobs that ran side by side are not clean timings; steps and quality are what it measures.
#
#   OUT=/tmp/g bash bench/gpu_check.sh                      # on the GPU machine
#   OUT=/tmp/g DEVICE=cpu SEEDS_BUDGET=smoke BUDGET=5 PY=.venv/bin/python bash bench/gpu_check.sh
set -u
set -m # each background job in its own process group, so a stop reaches its children
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
W=$OUT/gpu_check
mkdir -p "$W"
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
BUDGET=${BUDGET:-90}
DEADLINE=${DEADLINE:-450}
SEEDS_BUDGET=${SEEDS_BUDGET:-quick}
# compiling the kernels would cost each process a minute of the lease; same maths uncompiled
export PYTHONUNBUFFERED=1 DEMIX_NO_COMPILE=${DEMIX_NO_COMPILE:-1}
start=$(date +%s)
log() { echo "[$(($(date +%s) - start))s] $*" | tee -a "$W/steps.log"; }
finish() {
    tar -czf "$OUT/gpu_check.tar.gz" --exclude='*.pt' -C "$OUT" gpu_check
    log "packed $(du -h "$OUT/gpu_check.tar.gz" | cut -f1)"
}

{ nvidia-smi || true; } >"$W/nvidia-smi.txt" 2>&1
{ lscpu || true; } >"$W/lscpu.txt" 2>&1
$PY -c "import torch, plotly; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '', 'plotly', plotly.__version__)" \
    2>&1 | tee -a "$W/steps.log"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi dmon -s um -d 5 >"$W/dmon.txt" 2>&1 &
    dmon=$!
fi

log "smoke: every sampler for 20 steps on $DEVICE"
if ! $PY -m demix_core experiment benchmarks --budget smoke --device "$DEVICE" \
    --out "$W/smoke" >"$W/smoke.log" 2>&1; then
    log "smoke failed"
    tail -40 "$W/smoke.log"
    finish
    exit 1
fi
log "smoke passed"

pids=()
for s in 0 1 2; do
    $PY -m demix_core experiment seeds-large --budget "$SEEDS_BUDGET" --device "$DEVICE" \
        --seeds "$s" --out "$W/seeds-large-s$s" >"$W/seeds-large-s$s.log" 2>&1 &
    pids+=($!)
done
$PY bench/fb15k_demix.py --dataset fb15k-237 --budget "$BUDGET" --device "$DEVICE" \
    --out "$W/fb" >"$W/demix-fb15k-237.log" 2>&1 &
pids+=($!)
# WN18RR as the RotatE paper trained it: batch 512, 1,024 negatives
$PY bench/fb15k_demix.py --dataset wn18rr --budget "$BUDGET" --device "$DEVICE" \
    --batch-size 512 --negatives 1024 --out "$W/wn" >"$W/demix-wn18rr.log" 2>&1 &
pids+=($!)
log "started ${#pids[@]} jobs: ${pids[*]}"

while :; do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    if [ $(($(date +%s) - start)) -ge "$DEADLINE" ]; then
        log "deadline: stopping the jobs still running"
        for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null; done
        sleep 2
        break
    fi
    sleep 3
done
for p in "${pids[@]}"; do
    wait "$p"
    log "job $p exit $?"
done
[ -n "${dmon:-}" ] && kill "$dmon" 2>/dev/null
for f in "$W"/*.log; do
    echo "== $f"
    tail -4 "$f"
done
finish
