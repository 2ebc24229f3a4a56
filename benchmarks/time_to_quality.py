"""Time to quality: how many seconds of training each program needs to reach FID 50, 20 and 10, with gankit's
bundled MNIST extractor, against the two programs a user would otherwise pick.

    python benchmarks/time_to_quality.py --seeds 3 --minutes 5
    python benchmarks/time_to_quality.py --programs mnist-cgan torch-dcgan --seeds 1 --minutes 2   # a quick look

Programs: gankit presets (any name `gankit list` shows), `torch-dcgan` (benchmarks/reference/torch_dcgan.py,
the pytorch/examples recipe) and `keras-dcgan` (benchmarks/reference/keras_dcgan.py, the keras.io example;
needs TensorFlow, give its Python with --keras-python). Each run is a fresh process. gankit logs its cheap FID
(2,000 samples) every --eval-every steps; the references write 2,000 samples every --snapshot-every seconds of
training, scored here the same way. Training seconds exclude the time spent on these measurements. The final
generator of every run is then scored on 10,000 samples (the number that confirms the cheap one), and the
whole process is timed from start to finish. Writes benchmarks/results/time-to-quality.{md,json}.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REFERENCES = {"torch-dcgan": HERE / "reference" / "torch_dcgan.py", "keras-dcgan": HERE / "reference" / "keras_dcgan.py"}
THRESHOLDS = (50.0, 20.0, 10.0)


def fid_of(images: np.ndarray, seed: int = 0, full: bool = False) -> dict:
    """FID (and, with full, every metric) of uint8 (N, H, W, 1) images against MNIST test, bundled features."""
    from gankit.metrics.evaluate import evaluate_images

    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    result = evaluate_images(x, "mnist-test", "mnist", seed, fid_only=not full)
    return {k: v for k, v in result.items() if isinstance(v, (int, float))}


def run_gankit(preset: str, seed: int, minutes: float, eval_every: int, out: Path) -> dict:
    command = [sys.executable, "-m", "gankit", "train", preset, "--seed", str(seed), "--out", str(out),
               "--overwrite", "--no-progress", "--set", f"eval.every={eval_every}"]
    if minutes:
        command += ["--minutes", str(minutes)]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    total = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{preset} seed {seed} failed: {proc.stderr[-2000:]}")
    stats = [json.loads(line) for line in (out / "stats.jsonl").read_text().splitlines()]
    curve = [(s["wall_s"], s["fid"]) for s in stats if "fid" in s]
    final = json.loads((out / "metrics.json").read_text())
    return {"curve": curve, "steps": stats[-1]["step"], "train_s": stats[-1]["wall_s"], "process_s": total,
            "final": {k: final[k] for k in ("fid", "precision", "recall") if k in final}}


def run_reference(name: str, seed: int, minutes: float, every: float, out: Path, python: str) -> dict:
    from gankit.data.mnist import bundled_path

    command = [python, str(REFERENCES[name]), "--minutes", str(minutes or 5), "--seed", str(seed),
               "--snapshot-every", str(every), "--out", str(out), "--data", str(bundled_path())]
    for old in out.glob("*.npz"):
        old.unlink()
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    total = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{name} seed {seed} failed: {proc.stderr[-2000:]}")
    curve = []
    for snap in sorted(out.glob("snap-*.npz")):
        with np.load(snap) as f:
            curve.append((float(snap.stem[5:]), fid_of(f["images"])["fid"]))
    with np.load(out / "final.npz") as f:
        final = fid_of(f["images"], full=True)
    return {"curve": curve, "train_s": curve[-1][0] if curve else 0.0, "process_s": total,
            "final": {k: final[k] for k in ("fid", "precision", "recall") if k in final}, "log": proc.stdout.strip()}


def first_time(curve: list[tuple[float, float]], threshold: float) -> float | None:
    return next((t for t, fid in curve if fid <= threshold), None)


def cell(times: list[float | None], limit_s: float) -> str:
    reached = [t for t in times if t is not None]
    if not reached:
        return f"not reached in {limit_s:.0f} s"
    text = f"{statistics.median(reached):.0f} s" if len(reached) == len(times) else \
        f"{len(reached)}/{len(times)} seeds; median {statistics.median(reached):.0f} s"
    return text + f" ({', '.join('—' if t is None else f'{t:.0f}' for t in times)})"


def table(results: dict[str, list[dict]]) -> str:
    head = ["program", *(f"to FID {t:g}" for t in THRESHOLDS), "final FID (10k)", "precision", "recall",
            "train s", "whole process s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, runs in results.items():
        limit = max(r["train_s"] for r in runs)
        row = [name, *(cell([first_time(r["curve"], t) for r in runs], limit) for t in THRESHOLDS)]
        for key in ("fid", "precision", "recall"):
            values = [r["final"].get(key) for r in runs if r["final"].get(key) is not None]
            row.append(f"{statistics.mean(values):.3g}" + (f" ± {statistics.stdev(values):.2g}" if len(values) > 1
                                                          else "") if values else "")
        row += [f"{statistics.mean(r['train_s'] for r in runs):.0f}",
                f"{statistics.mean(r['process_s'] for r in runs):.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", nargs="+", default=["mnist-cgan", "mnist-dcgan", "torch-dcgan", "keras-dcgan"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=5.0,
                        help="cap on training minutes (gankit presets stop earlier at their own step budget)")
    parser.add_argument("--eval-every", type=int, default=300, help="gankit: steps between cheap FIDs")
    parser.add_argument("--snapshot-every", type=float, default=10.0, help="references: seconds between snapshots")
    parser.add_argument("--keras-python", default=sys.executable, help="a Python with TensorFlow, for keras-dcgan")
    parser.add_argument("--runs", type=Path, default=Path("runs/time-to-quality"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/time-to-quality"))
    args = parser.parse_args()
    results: dict[str, list[dict]] = {}
    for name in args.programs:
        for seed in range(args.seeds):
            out = args.runs / f"{name}-seed{seed}"
            if name in REFERENCES:
                python = args.keras_python if name == "keras-dcgan" else sys.executable
                run = run_reference(name, seed, args.minutes, args.snapshot_every, out, python)
            else:
                run = run_gankit(name, seed, args.minutes, args.eval_every, out)
            results.setdefault(name, []).append({"seed": seed, **run})
            print(json.dumps({"program": name, "seed": seed, "final": run["final"], "train_s": run["train_s"],
                              "process_s": round(run["process_s"], 1),
                              **{f"to_{t:g}": first_time(run["curve"], t) for t in THRESHOLDS}}), flush=True)
            text = (f"Seconds of training until the cheap FID (2,000 samples, bundled MNIST features, against MNIST "
                    f"test) first reaches each threshold; median over seeds, each seed in brackets; {args.seeds} "
                    f"seed(s), at most {args.minutes:g} minutes each.\n\n{table(results)}\n")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.with_suffix(".md").write_text(text)
            recorded = {k: str(v) for k, v in vars(args).items() if k not in ("keras_python", "runs", "out")}
            args.out.with_suffix(".json").write_text(json.dumps({"args": recorded,
                                                                 "results": results}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
