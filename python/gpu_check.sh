#!/usr/bin/env bash
# Every GPU measurement of the runtime issue in one run, on a machine with an NVIDIA GPU, PyTorch (CUDA) in
# `python3`, g++ and a `nexus` binary built elsewhere with `swift build -c release --static-swift-stdlib`.
#
#   python/gpu_check.sh [NEXUS_BINARY] [OUT_DIR]      (defaults: .build/release/nexus, out/gpu-check)
#
# 1. builds native/ against the installed PyTorch (CUDA),
# 2. exports resnet50, resnet18, vgg16, ssd300_vgg16_backbone (random weights),
# 3. `nexus profile` of each on cuda:0 with fp16 + CUDA graphs (profiles/<gpu>.csv in the repository),
# 4. compares them with data/h100-torchvision-fp16-profiles.csv (measured from Python),
# 5. measures one backend's end-to-end images/s on ResNet-50 at its best batch through the executor
#    (`nexus bench-executor`) against the measured profile's peak and the reference's.
# Everything is logged to OUT_DIR/gpu_check.log; the profiles are copied to OUT_DIR/profiles/.
set -euo pipefail
cd "$(dirname "$0")/.."
NEXUS=${1:-.build/release/nexus}
OUT=${2:-out/gpu-check}
REPO=out/gpu-models
MODELS=(resnet50 resnet18 vgg16 ssd300_vgg16_backbone)
mkdir -p "$OUT/profiles"
exec > >(tee "$OUT/gpu_check.log") 2>&1

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr 'A-Z ' 'a-z-' | tr -cd 'a-z0-9-')
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

native/build.sh
export NEXUS_TORCH_LIBRARY=$PWD/native/build/libnexus_torch.so
python3 python/export_models.py --repo "$REPO" --models "$(IFS=,; echo "${MODELS[*]}")" --reference 0

for model in "${MODELS[@]}"; do
  "$NEXUS" profile --repo "$REPO" --model "$model" --device cuda:0 --name "$GPU" \
    --batches 1 2 4 8 16 32 64 128 --runs 200 --warmup 20 --device-label "$GPU"
  cp "$REPO/$model/profiles/$GPU.csv" "$OUT/profiles/$model-$GPU.csv"
done
python3 python/compare_profiles.py --reference data/h100-torchvision-fp16-profiles.csv "$OUT"/profiles/*.csv

# End to end through the executor at ResNet-50's best batch (highest items/s in its new profile).
BEST=$(python3 - "$REPO/resnet50/profiles/$GPU.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#"))]
print(max(rows, key=lambda r: int(r["batch"]) / float(r["graph_median_ms"]))["batch"])
PY
)
"$NEXUS" bench-executor --repo "$REPO" --model resnet50 --device cuda:0 --batches "$BEST" --seconds 20 --workers 8 --json \
  | tee "$OUT/bench-executor-resnet50.json"
python3 - "$OUT/bench-executor-resnet50.json" "$REPO/resnet50/profiles/$GPU.csv" data/h100-torchvision-fp16-profiles.csv <<'PY'
import csv, json, sys
bench = json.load(open(sys.argv[1]))[0]
def peak(path):
    rows = [r for r in csv.DictReader(l for l in open(path) if not l.startswith("#")) if r["model"] == "resnet50"]
    return max(int(r["batch"]) * 1000 / float(r["graph_median_ms"]) for r in rows)
mine, ref = peak(sys.argv[2]), peak(sys.argv[3])
served = bench["executorItemsPerSecond"]
print(f"resnet50 executor at batch {bench['batch']}: {served:.0f} images/s; direct {bench['directItemsPerSecond']:.0f}/s")
print(f"vs measured profile peak {mine:.0f}/s: {served / mine:.3f}; vs reference profile peak {ref:.0f}/s: {served / ref:.3f} (goal >= 0.9)")
PY
