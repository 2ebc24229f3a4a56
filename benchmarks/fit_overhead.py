"""The fit loop's own cost per step: the time `Trainer.fit` spends between its `train_step` calls (loss sums,
progress bar, stats ticks, stop and health checks), against the time inside them, in the same steps.

Each `train_step` call is timed from inside the fit loop; the loop's own cost is the wall time from the first
step's start to the last step's end minus the time spent in the steps. Both halves come from the same steps in
the same process, so drifts in machine speed, which are larger than the effect here, cancel out. Periodic
evaluation, grids and checkpoints are switched off: they are work a user asks for, not the loop's overhead.

    python benchmarks/fit_overhead.py --preset seed-mlp mnist-cgan --steps 1000 --rounds 5

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


def loop_overhead(preset: str, steps: int, folder: Path, progress: bool) -> tuple[float, float]:
    """(seconds per step inside train_step, the loop's own seconds per step) over one fit of `steps` steps."""
    trainer = Trainer(resolve(preset, QUIET + [f"train.steps={steps}"]), folder, progress=progress, overwrite=True)
    inner = trainer.train_step
    spans: list[tuple[float, float]] = []

    def timed_step():
        start = time.perf_counter()
        logs = inner()
        spans.append((start, time.perf_counter()))
        return logs

    trainer.train_step = timed_step
    trainer.fit()
    spans = spans[10:]  # the first steps warm up allocators and caches
    in_steps = sum(end - start for start, end in spans)
    between = spans[-1][1] - spans[0][0] - in_steps
    return in_steps / len(spans), between / len(spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", nargs="+", default=["seed-mlp", "mnist-cgan"])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fit-overhead.md"))
    args = parser.parse_args()
    lines = [f"The fit loop's own time per step against the time inside `train_step`, {args.rounds} fits of "
             f"{args.steps} steps each in one process; medians (range).", "",
             "| preset | progress bar | ms per step in train_step | ms per step in the loop | loop's own cost |",
             "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for preset in args.preset:
            # bar off and on alternate, round by round, so that a drift in machine speed hits both alike
            by_bar: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
            for _ in range(args.rounds):
                for progress in (False, True):
                    by_bar[progress].append(loop_overhead(preset, args.steps, Path(folder) / "run", progress))
            for progress, rounds in by_bar.items():
                shares = [100 * between / step for step, between in rounds]
                step = statistics.median(s for s, _ in rounds)
                between = statistics.median(b for _, b in rounds)
                lines.append(f"| {preset} | {'on' if progress else 'off'} | {1000 * step:.2f} | {1000 * between:.3f} | "
                             f"{statistics.median(shares):.2f}% ({min(shares):.2f} to {max(shares):.2f}%) |")
                print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
