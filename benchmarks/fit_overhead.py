"""The fit loop's own cost per step: gankit's `Trainer.fit` against the same trainer's `train_step` called in a
bare loop, in one process, alternating rounds, with periodic evaluation, grids and checkpoints switched off so
that only the loop's bookkeeping differs (loss sums, progress bar, stats ticks, stop checks, health checks).

The fit loop's rate is N / (T(fit of 2N steps) - T(fit of N steps)): start-up and the final outputs cost the
same in both and cancel out.

    python benchmarks/fit_overhead.py --preset seed-mlp mnist-cgan --steps 400 --rounds 3

Writes benchmarks/results/fit-overhead.md.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gankit.config import resolve
from gankit.trainer import Trainer

QUIET = ["eval.every=0", "eval.n_final=0", "train.sample_every=1000000", "train.ckpt_every=1000000"]


def fit_seconds(preset: str, steps: int, folder: Path, progress: bool) -> float:
    trainer = Trainer(resolve(preset, QUIET + [f"train.steps={steps}"]), folder, progress=progress, overwrite=True)
    start = time.perf_counter()
    trainer.fit()
    return time.perf_counter() - start


def bare_rate(preset: str, steps: int, folder: Path) -> float:
    trainer = Trainer(resolve(preset, QUIET + [f"train.steps={steps}"]), folder, progress=False, overwrite=True)
    for _ in range(20):  # warm-up, as the fit loop's first steps cancel out in its difference
        trainer.train_step()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step()
    rate = steps / (time.perf_counter() - start)
    trainer.lock.release()
    return rate


def measure(preset: str, steps: int, rounds: int, progress: bool) -> tuple[list[float], list[float]]:
    bare, fitted = [], []
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        for _ in range(rounds):
            bare.append(bare_rate(preset, steps, run))
            fitted.append(steps / (fit_seconds(preset, 2 * steps, run, progress) - fit_seconds(preset, steps, run, progress)))
    return bare, fitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", nargs="+", default=["seed-mlp", "mnist-cgan"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fit-overhead.md"))
    args = parser.parse_args()
    lines = [f"Steps/s of `train_step` in a bare loop and of the fit loop, {args.rounds} alternating rounds of "
             f"{args.steps} steps in one process; medians.", "",
             "| preset | progress bar | bare loop steps/s | fit loop steps/s | fit loop's own cost per step |",
             "|---|---|---|---|---|"]
    for preset in args.preset:
        for progress in (False, True):
            bare, fitted = measure(preset, args.steps, args.rounds, progress)
            b, f = statistics.median(bare), statistics.median(fitted)
            lines.append(f"| {preset} | {'on' if progress else 'off'} | {b:.1f} | {f:.1f} | {100 * (b / f - 1):+.1f}% |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
