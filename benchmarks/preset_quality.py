"""Quality of chosen presets (and variants), and the real-data floor; tables to benchmarks/results/.

usage: python benchmarks/preset_quality.py --presets mnist-dcgan seed-mlp --seeds 3
       python benchmarks/preset_quality.py --presets seed-mlp --seeds 1 --label seed-mlp-tutorial-adam \
           --set optim.G.lr=1e-3 --set optim.D.lr=1e-3 --set optim.G.beta1=0.9 --set optim.D.beta1=0.9
       python benchmarks/preset_quality.py --floor      # what a perfect generator scores, under both classifiers:
                                                        # MNIST train vs test, and real Stacked MNIST

Every number is the mean +- std over seeds of the final metrics (10,000 samples vs the MNIST test split,
bundled MNIST extractor); train time is on this machine. Whole suites: `gankit bench quality --suite ...`.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from gankit.bench.quality import COLUMNS, machine, run_one, table
from gankit.data.mnist import bundled_mnist
from gankit.metrics.evaluate import evaluate_images


def floor() -> dict:
    """MNIST train (10,000 random images, seed 1) scored against the test split."""
    x_train = torch.from_numpy(bundled_mnist()["x_train"]).unsqueeze(1)
    index = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(1))[:10000]
    return evaluate_images(x_train[index], ref="mnist-test", seed=0, source="MNIST train, 10,000 random images (seed 1)")


def stacked_floor() -> dict:
    """Real Stacked MNIST (as many images as the protocol samples) read by both classifiers."""
    from gankit.config import DataConfig
    from gankit.data import load_data
    from gankit.metrics.protocols import STACKED_SAMPLES, StackedMNISTProtocol

    data = load_data(DataConfig(name="stacked-mnist", limit=STACKED_SAMPLES))
    return StackedMNISTProtocol().final({"fake": data.images}, 0, f"real Stacked MNIST, {STACKED_SAMPLES:,} images")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="*", default=["mnist-dcgan", "seed-mlp"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="overrides for every run")
    parser.add_argument("--label", default="", help="name of this variant in the table and the file names")
    parser.add_argument("--floor", action="store_true", help="only compute the real-data floor")
    parser.add_argument("--runs", default="runs/bench")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    columns = [c for c in COLUMNS["mnist"] if not c.startswith("label_accuracy")]
    if args.floor:
        result, stacked = floor(), stacked_floor()
        (out / "floor.json").write_text(json.dumps({"machine": machine(), **result, "stacked": stacked}, indent=2))
        text = table([{"preset": "MNIST train vs test (real data)", "steps": 0, "train_s": 0.0, **result}],
                     columns, "Real-data floor (columns _b: the second classifier)")
        text += "\n" + table([{"preset": "real Stacked MNIST", "steps": 0, "train_s": 0.0, **stacked}],
                             COLUMNS["stacked"], "Real Stacked MNIST")
        (out / "floor.md").write_text(text)
    else:
        rows = [run_one(p, seed, None, Path(args.runs), args.overrides) for p in args.presets for seed in range(args.seeds)]
        for row in rows:
            row["preset"] = args.label or row["preset"]
        name = args.label or "-".join(args.presets)
        (out / f"quality-{name}.json").write_text(json.dumps({"machine": machine(), "runs": rows}, indent=2))
        text = table(rows, columns, f"Preset quality ({machine()})")
        (out / f"quality-{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
