"""What spectral norm on the looked-up rows of a projection table saves (gankit.nets.layers.embedding_rows).

usage: python benchmarks/embedding_rows.py [--presets mnist-cgan mnist-dcgan] [--steps 100] [--rounds 5]

1. The table alone: a spectrally normalised nn.Embedding(400, 3136) (the default's 40 clusters a digit), 128
   labels, forward and backward, looked up as torch's parametrization does it (the whole table divided by sigma)
   and as gankit does it (the rows divided by sigma).
2. Each preset's training step with either lookup, alternating rounds in one trainer, so that drifts in machine
   speed hit both alike; median ms per step.
Prints a table and writes it to --out (default benchmarks/results/embedding-rows/step.{md,json}).
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gankit.bench.speed import gankit_steps, timed
from gankit.config import resolve
from gankit.nets import layers
from gankit.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
LOOKUPS = {"whole table (torch)": lambda embed, c: embed(c), "rows (gankit)": layers.embedding_rows}


def table_alone(repeats: int = 200) -> dict[str, float]:
    """ms for one forward and backward of the table with each lookup."""
    torch.manual_seed(0)
    embed = layers.with_spectral_norm(torch.nn.ModuleDict({"e": torch.nn.Embedding(400, 3136)}))["e"]
    c, h = torch.randint(0, 400, (128,)), torch.randn(128, 3136)
    out = {}
    for name, lookup in LOOKUPS.items():
        def once():
            (lookup(embed, c) * h).sum().backward()
            embed.zero_grad(set_to_none=True)
        for _ in range(20):
            once()
        start = time.perf_counter()
        for _ in range(repeats):
            once()
        out[name] = 1000 * (time.perf_counter() - start) / repeats
    return out


def step_ms(preset: str, steps: int, rounds: int) -> dict[str, list[float]]:
    """ms per training step of `preset` with each lookup, alternating rounds in one trainer."""
    times: dict[str, list[float]] = {name: [] for name in LOOKUPS}
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(resolve(preset), Path(tmp) / "run", progress=False)
        gankit_steps(trainer, 20)
        try:
            for _ in range(rounds):
                for name, lookup in LOOKUPS.items():
                    layers.embedding_rows = lookup  # ClassHead looks it up by name at every call
                    times[name].append(1000 * timed(lambda: gankit_steps(trainer, steps), trainer.device) / steps)
        finally:
            layers.embedding_rows = LOOKUPS["rows (gankit)"]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["mnist-cgan", "mnist-dcgan"])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "embedding-rows")
    args = parser.parse_args()
    alone = table_alone()
    steps = {preset: step_ms(preset, args.steps, args.rounds) for preset in args.presets}
    old, new = LOOKUPS
    lines = ["### Spectral norm on a projection table: the whole table against the looked-up rows", "",
             f"torch {torch.__version__}, {torch.get_num_threads()} threads; the table alone: nn.Embedding(400, 3136), "
             f"128 labels, forward and backward: {alone[old]:.2f} ms -> {alone[new]:.2f} ms", "",
             f"Training steps, {args.rounds} alternating rounds of {args.steps} steps in one trainer, ms per step "
             "(median, rounds in brackets):", "",
             f"| preset | {old} | {new} | new / old |", "|---|---|---|---|"]
    for preset, t in steps.items():
        a, b = statistics.median(t[old]), statistics.median(t[new])
        lines.append(f"| {preset} | {a:.2f} ({', '.join(f'{v:.1f}' for v in t[old])}) "
                     f"| {b:.2f} ({', '.join(f'{v:.1f}' for v in t[new])}) | {b / a:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "step.md").write_text(text)
    (args.out / "step.json").write_text(json.dumps({"table_alone_ms": alone, "step_ms": steps}, indent=2))


if __name__ == "__main__":
    main()
