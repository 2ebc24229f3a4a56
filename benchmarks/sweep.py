"""Variants of one preset trained side by side, step-matched, with one table of their final metrics.

usage: python benchmarks/sweep.py mnist-wgan variants.txt --steps 18000 --jobs 10 --device cuda --out sweep/

Each line of the variants file is a name and its overrides, e.g. `clip02 gan.clip=0.02 train.seed=1`
(`base` with none is the reference; `#` starts a comment). Runs are separate processes, `--jobs` at a
time, so that many small runs share one GPU (or a many-core CPU, one thread each). They are matched in
steps, not minutes: a step costs the same on the CPU a preset's budget was set for. The table gives the
final metrics (10,000 samples) and the cheap FID logged along the way, so one run also shows where a
shorter budget would have ended.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def read_variants(path: Path) -> list[tuple[str, list[str]]]:
    variants = []
    for line in path.read_text().splitlines():
        words = line.split("#")[0].split()
        if words:
            variants.append((words[0], words[1:]))
    return variants


def command(preset: str, name: str, overrides: list[str], args: argparse.Namespace) -> list[str]:
    cmd = [sys.executable, "-m", "gankit", "train", preset, "--out", str(args.out / name),
           "--set", f"train.steps={args.steps}", "--set", f"train.device={args.device}", "--set", "train.threads=1", "--set", "train.minutes=0", "--no-progress"]
    for override in args.set + overrides:  # the variant's own overrides come last and win
        cmd += ["--set", override]
    return cmd


def summary(name: str, run: Path) -> dict:
    """Final metrics (when the run finished) and the cheap-FID curve of one run."""
    if not (run / "stats.jsonl").exists():
        return {"name": name, "error": f"no stats.jsonl; see {run}.log"}
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    row = {"name": name, "steps": stats[-1]["step"], "wall_s": stats[-1]["wall_s"],
           "cheap_fid": {s["step"]: round(s["fid"], 1) for s in stats if "fid" in s}}
    if (run / "metrics.json").exists():
        metrics = json.loads((run / "metrics.json").read_text())
        row.update(fid=round(metrics["fid"], 1), kid=round(metrics["kid"], 2), precision=round(metrics["precision"], 3),
                   recall=round(metrics["recall"], 3), classes=metrics.get("classes_covered"))
    return row


def report(preset: str, variants: list[tuple[str, list[str]]], args: argparse.Namespace) -> str:
    """The sweep's Markdown table (also written with the raw rows to OUT/sweep.md and sweep.json)."""
    rows = [summary(name, args.out / name) for name, _ in variants]
    lines = [f"### {preset}: {len(variants)} variants, {args.steps} steps, device {args.device}", "",
             "Final metrics: 10,000 samples (blank where the run was stopped early); cheap FID: "
             "2,000 samples, logged along the way.", "",
             "| variant | overrides | steps | train s | FID | KID | precision | recall | classes | cheap FID by step |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (name, overrides), row in zip(variants, rows):
        if "error" in row:
            lines.append(f"| {name} | {' '.join(overrides)} | {row['error']} |")
            continue
        final = " | ".join(str(row.get(key, "")) for key in ("fid", "kid", "precision", "recall", "classes"))
        curve = ", ".join(f"{step}: {fid}" for step, fid in row["cheap_fid"].items())
        lines.append(f"| {name} | {' '.join(overrides)} | {row['steps']} | {row['wall_s']:.0f} | {final} | {curve} |")
    text = "\n".join(lines) + "\n"
    (args.out / "sweep.md").write_text(text)
    (args.out / "sweep.json").write_text(json.dumps(rows, indent=2))
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("variants", type=Path)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--set", action="append", default=[], help="override for every variant")
    parser.add_argument("--out", type=Path, default=Path("runs/sweep"))
    parser.add_argument("--report", action="store_true", help="only rebuild the table from the runs in --out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    variants = read_variants(args.variants)
    pending = [] if args.report else list(variants)
    running = []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    while pending or running:
        while pending and len(running) < args.jobs:
            name, overrides = pending.pop(0)
            with open(args.out / f"{name}.log", "w") as log:  # the child keeps its own handle
                running.append(subprocess.Popen(command(args.preset, name, overrides, args), stdout=log,
                                                stderr=subprocess.STDOUT, env=env))
        time.sleep(1)
        running = [p for p in running if p.poll() is None]
    print(report(args.preset, variants, args))


if __name__ == "__main__":
    main()
