"""Whole-process time: `gankit train seed-mlp --steps N` from start to finish against the same GAN as a plain
PyTorch script and as the tutorial-equivalent Keras 3 loop (benchmarks/reference/torch_mlp.py, keras_mlp.py),
each a fresh process, in alternating rounds so that drifts in machine speed hit all alike.

    python benchmarks/whole_process.py --steps 3000 --rounds 3 --keras-python /path/to/python-with-tensorflow

gankit's run does more than the scripts (periodic and final evaluation, sample grids, curves, checkpoint and
export); its own breakdown (training seconds from stats.jsonl, the rest) is in the table. Writes
benchmarks/results/whole-process.{md,json}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed: {proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keras-python", default="", help="a Python with TensorFlow (leave out to skip Keras)")
    parser.add_argument("--runs", type=Path, default=Path("runs/whole-process"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/whole-process"))
    args = parser.parse_args()
    from gankit.data.mnist import bundled_path

    data = ["--data", str(bundled_path())]
    programs = {
        "gankit train seed-mlp": [sys.executable, "-m", "gankit", "train", "seed-mlp", "--steps", str(args.steps),
                                  "--out", str(args.runs / "gankit"), "--overwrite", "--no-progress"],
        "plain PyTorch script": [sys.executable, str(HERE / "reference" / "torch_mlp.py"), "--steps", str(args.steps),
                                 "--out", str(args.runs / "torch"), *data],
    }
    if args.keras_python:
        programs["Keras 3 loop (tf.function)"] = [args.keras_python, str(HERE / "reference" / "keras_mlp.py"),
                                                  "--steps", str(args.steps), "--out", str(args.runs / "keras"), *data]
    seconds: dict[str, list[float]] = {name: [] for name in programs}
    train_s: list[float] = []
    for _ in range(args.rounds):
        for name, command in programs.items():
            seconds[name].append(timed(command))
            if name.startswith("gankit"):
                last = (args.runs / "gankit" / "stats.jsonl").read_text().splitlines()[-1]
                train_s.append(json.loads(last)["wall_s"])
    ours = seconds["gankit train seed-mlp"]
    gankit = statistics.median(ours)
    lines = [f"{args.steps} steps of the tutorial's MLP GAN, whole processes, {args.rounds} alternating rounds; "
             "median seconds (each round in brackets). Faster by: the ratio of the medians, then round by round "
             "(each program against gankit's run of the same round, which the machine's drifts hit alike).", "",
             "| program | seconds | rounds | gankit is faster by | round by round |", "|---|---|---|---|---|"]
    for name, values in seconds.items():
        median = statistics.median(values)
        paired = "" if name.startswith("gankit") else ", ".join(f"{v / g:.2f}x" for v, g in zip(values, ours))
        lines.append(f"| {name} | {median:.1f} | {', '.join(f'{v:.1f}' for v in values)} | "
                     f"{'' if name.startswith('gankit') else f'{median / gankit:.2f}x'} | {paired} |")
    lines += ["", f"gankit's run: {statistics.median(train_s):.1f} s of training (stats.jsonl), "
                  f"{gankit - statistics.median(train_s):.1f} s of start-up, evaluation, grids, checkpoint and export."]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"steps": args.steps, "seconds": seconds,
                                                         "gankit_train_s": train_s}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
