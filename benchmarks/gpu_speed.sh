#!/usr/bin/env bash
# GPU speed check (issue: fast on a GPU): DCGAN 64x64 RGB at batch 128 on random data, gankit's trainer against
# the plain PyTorch loop, timed in alternating rounds by `gankit bench speed`, for the classic DCGAN
# (mnist-dcgan-bn: BatchNorm D, non-saturating loss) and the default (mnist-dcgan: hinge + spectral norm),
# in fp32 and in bf16 + channels_last; then a profile of one configuration's step (kernels by time).
# Runs from the repository root with the machine's own torch (no install): PYTHONPATH=src.
set -euo pipefail
export PYTHONPATH=src PYTHONUNBUFFERED=1
out=${OUT:-benchmarks/results}/gpu
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/device.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" | tee -a "$out/device.txt"
shape=(--set data.name=random-images --set data.resolution=64 --set data.channels=3
       --set dcgan.g_width=64 --set dcgan.d_width=64 --set train.batch_size=128)
for preset in mnist-dcgan-bn mnist-dcgan; do
  common=(--device cuda --preset "$preset" --steps 50 --rounds 5 "${shape[@]}")
  python3 -m gankit bench speed "${common[@]}" --set train.precision=fp32 --set train.channels_last=false \
    --out "$out/$preset-fp32"
  python3 -m gankit bench speed "${common[@]}" --set train.precision=bf16 --set train.channels_last=true \
    --out "$out/$preset-bf16-cl"
done
python3 benchmarks/profile_step.py --device cuda --preset mnist-dcgan-bn --steps 20 "${shape[@]}" \
  --set train.precision=bf16 --set train.channels_last=true --out "$out"
