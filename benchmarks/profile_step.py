"""Where a training step spends its time: torch.profiler over gankit's step and the plain loop's step.

usage: python benchmarks/profile_step.py --preset mnist-dcgan [--device cpu|cuda] [--steps 30] [--set key=value ...]

Prints (and writes to benchmarks/results/profile-<preset>-<device>.md) the operators, or on CUDA the
kernels, with the most time, so that speed work starts from a measurement rather than a guess.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from gankit.config import resolve
from gankit.bench.speed import ReferenceLoop, gankit_steps, sync
from gankit.trainer import Trainer


def top_ops(fn, device: torch.device, rows: int) -> str:
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    sync(device)
    with profile(activities=activities) as prof:
        fn()
        sync(device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=rows, max_name_column_width=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="mnist-dcgan")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=30, help="profiled steps per loop (after 10 warm-up steps)")
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    cfg = resolve(args.preset, args.set + [f"train.device={args.device}", "eval.every=0", "eval.n_final=0"])
    trainer = Trainer(cfg, Path("runs/profile") / args.preset, progress=False, overwrite=True)
    reference = ReferenceLoop(cfg, trainer)
    gankit_steps(trainer, 10)
    for _ in range(10):
        reference.step()
    text = (f"# {args.preset} on {trainer.device} ({', '.join(args.set) or 'preset settings'}), {args.steps} steps\n\n"
            f"## gankit\n\n```\n{top_ops(lambda: gankit_steps(trainer, args.steps), trainer.device, args.rows)}\n```\n\n"
            f"## plain loop\n\n```\n{top_ops(lambda: [reference.step() for _ in range(args.steps)], trainer.device, args.rows)}\n```\n")
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"profile-{args.preset}-{trainer.device.type}.md").write_text(text)


if __name__ == "__main__":
    main()
