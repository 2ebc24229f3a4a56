"""Which EMA half-life, at which step budget: one training run, several averages of its generator.

usage: python benchmarks/ema_halflives.py [--preset mnist-cgan] [--halflives 5 10 20 40] [--at 8000 12000 16000]
                                          [--set key=value ...] [--out benchmarks/results/ema-halflives]

The preset trains once (its own seed and settings, a constant learning rate, so that the run at step s is the
run a budget of s steps would have made). Besides the preset's own average, the script keeps one more average of
G for each half-life (kimg; the preset's ramp-up), all updated after every step from the same weights, and
at each step in --at gives each of them the full final evaluation of `gankit eval` (10,000 samples, the eval
seed, both bundled classifiers). Prints a table and writes it to --out (.md and .json).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from gankit.config import resolve
from gankit.ema import EMA, ema_beta
from gankit.errors import GankitError
from gankit.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
SHOWN = ("fid", "precision", "recall", "class_kl", "fid_b", "precision_b", "recall_b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist-cgan")
    parser.add_argument("--halflives", type=float, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--at", type=int, nargs="+", default=[8000, 10000, 12000, 14000, 16000])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ema-halflives"))
    args = parser.parse_args()
    if min(args.at) < 1 or min(args.halflives) <= 0:
        parser.error("--at takes step counts of at least 1 and --halflives half-lives above 0 (kimg)")
    try:
        cfg = resolve(args.preset, args.set + [f"train.steps={max(args.at)}"])
    except GankitError as err:
        parser.error(str(err))
    if cfg.optim.decay_from < 1:
        parser.error("a decaying learning rate makes step s differ from a budget of s steps; set optim.decay_from=1")
    t = cfg.train
    rows, started = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(cfg, Path(tmp) / "run", progress=False)
        averages = {h: EMA(trainer.recipe.nets["G"]) for h in args.halflives}
        own = trainer.emas.get("G")  # the preset's own average, if it keeps one
        while trainer.step < max(args.at):
            trainer.train_step()
            for halflife, ema in averages.items():
                ema.update(trainer.recipe.nets["G"], ema_beta(t.batch_size, halflife, trainer.step * t.batch_size,
                                                              t.ema_rampup))
            if trainer.step in args.at:
                for halflife, ema in averages.items():
                    trainer.emas["G"] = ema
                    metrics = trainer.final_eval()
                    rows.append({"step": trainer.step, "halflife_kimg": halflife,
                                 **{k: metrics[k] for k in SHOWN if k in metrics}})
                    print(json.dumps(rows[-1]), flush=True)
                trainer.emas.pop("G")
                if own is not None:
                    trainer.emas["G"] = own
    lines = [f"### {args.preset}: EMA half-lives of one run, seed {t.seed}, evaluated at {', '.join(map(str, args.at))} "
             f"steps", "", f"Overrides: {' '.join(args.set) or 'none'}; the preset's own half-life: "
             f"{t.ema_halflife_kimg:g} kimg, ramp-up {t.ema_rampup:g}. Final metrics on 10,000 samples (mnist / "
             "mnist-b). " f"Script: {time.perf_counter() - started:.0f} s.", "",
             "| step | half-life (kimg) | FID | precision | recall | class KL |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['step']} | {r['halflife_kimg']:g} | {r['fid']:.2f} / {r.get('fid_b', float('nan')):.2f} | "
                     f"{r['precision']:.3f} / {r.get('precision_b', float('nan')):.3f} | "
                     f"{r['recall']:.3f} / {r.get('recall_b', float('nan')):.3f} | {r['class_kl']:.2g} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"preset": args.preset, "overrides": args.set, "rows": rows},
                                                   indent=1))


if __name__ == "__main__":
    main()
