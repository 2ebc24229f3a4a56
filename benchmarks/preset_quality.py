"""Quality of the presets: train each preset with several seeds, evaluate, write a Markdown table and JSON.

usage: python benchmarks/preset_quality.py [--presets mnist-dcgan seed-mlp] [--seeds 3] [--out benchmarks/results]
       python benchmarks/preset_quality.py --floor      # the real-data floor only (MNIST train vs test)

Every number is the mean +- std over seeds of the final metrics (10,000 samples vs the MNIST test split,
bundled MNIST extractor); wall time is training time on this machine. The evaluation card of each run is
kept in the JSON file.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from gankit.config import resolve
from gankit.data.mnist import bundled_mnist
from gankit.metrics.evaluate import evaluate_images
from gankit.trainer import Trainer

COLUMNS = ("fid", "kid", "is", "precision", "recall", "density", "coverage", "classes_covered")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.mean(values):.3g} ± {statistics.stdev(values):.2g}"


def floor() -> dict:
    """MNIST train (10,000 random images) scored against the test split: what a perfect generator gets."""
    x_train = torch.from_numpy(bundled_mnist()["x_train"]).unsqueeze(1)
    index = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(1))[:10000]
    return evaluate_images(x_train[index], ref="mnist-test", seed=0, source="MNIST train, 10,000 random images (seed 1)")


def run_preset(preset: str, seed: int, overrides: list[str], folder: Path) -> dict:
    cfg = resolve(preset, overrides + [f"train.seed={seed}", "eval.n_final=10000"])
    start = time.perf_counter()
    result = Trainer(cfg, folder / f"{preset}-seed{seed}", progress=False).fit()
    total = time.perf_counter() - start
    wall = json.loads(result.stats.read_text().splitlines()[-1])["wall_s"]
    return {"preset": preset, "seed": seed, "overrides": overrides, "steps": result.step, "train_s": wall,
            "total_s": round(total, 1), **{k: v for k, v in result.metrics.items() if k != "class_counts"}}


def table(rows: list[dict], title: str) -> str:
    head = "| preset | seeds | steps | train time (s) | " + " | ".join(COLUMNS) + " |"
    lines = [f"### {title}", "", head, "|" + "---|" * (head.count("|") - 1)]
    by_name: dict[str, list[dict]] = {}
    for row in rows:
        by_name.setdefault(row["label"], []).append(row)
    for label, group in by_name.items():
        cells = [label, str(len(group)), str(group[0]["steps"]), mean_std([r["train_s"] for r in group])]
        cells += [mean_std([float(r[c]) for r in group]) for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=["mnist-dcgan", "seed-mlp"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="extra overrides for every run")
    parser.add_argument("--label", default="", help="name of this variant in the table")
    parser.add_argument("--floor", action="store_true", help="only compute the real-data floor")
    parser.add_argument("--runs", default="runs/bench", help="where the training runs go")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = f"{cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    if args.floor:
        result = floor()
        rows = [{"label": "MNIST train vs test (real data)", "steps": 0, "train_s": 0.0, **result}]
        (out / "floor.json").write_text(json.dumps({"machine": machine, **result}, indent=2))
        text = table(rows, "Real-data floor")
    else:
        rows = []
        for preset in args.presets:
            for seed in range(args.seeds):
                row = run_preset(preset, seed, args.overrides, Path(args.runs))
                row["label"] = args.label or preset
                rows.append(row)
                print(json.dumps({k: row[k] for k in ("label", "seed", "steps", "train_s", "fid", "precision", "recall")}),
                      flush=True)
        name = args.label or "-".join(args.presets)
        (out / f"quality-{name}.json").write_text(json.dumps({"machine": machine, "runs": rows}, indent=2))
        text = table(rows, f"Preset quality ({machine})")
    print(text)
    (out / f"{'floor' if args.floor else 'quality-' + (args.label or '-'.join(args.presets))}.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
