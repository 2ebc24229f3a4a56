"""The truncation trade-off of style-based runs: FID, precision and recall against psi, in one plot and a table.

usage: python scripts/truncation_curve.py RUN [RUN ...] --out docs/truncation-curve.png
       [--psi 0.2 0.4 0.6 0.7 0.8 0.9 1.0] [--n 10000] [--seed 0] [--row docs/truncation-row.png]

Each run (a StyleGAN2 run folder or export on data gankit has a reference for, e.g. MNIST) draws --n samples
at each psi with the same latents, scored by the run's own evaluation settings (extractor and reference). With
several runs (seeds) the plot shows their mean and the table mean +- std. Writes OUT (.png), and beside it
the table (.md) and the numbers with their evaluation cards (.json). Truncation should trade recall (variety)
for precision (typicality): psi 0 draws the average w's image every time. --row writes a picture of the first
run: the same 10 latents (one column each) at every psi (one row each, psi 0 at the top).
"""
import argparse
import json
import statistics
from pathlib import Path

import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gankit.errors import GankitError  # noqa: E402
from gankit.metrics.evaluate import eval_setup, evaluate_images  # noqa: E402
from gankit.report import grid_picture  # noqa: E402
from gankit.sampling import load_generator  # noqa: E402

KEYS = ("fid", "precision", "recall")


def sweep(run: Path, psis: list[float], n: int, seed: int) -> list[dict]:
    pipeline = load_generator(run)
    setup = eval_setup(pipeline.config)
    if setup is None:
        raise GankitError(f"{run}: gankit has no reference images for data '{pipeline.config.data.name}'")
    extractor, ref = setup
    rows = []
    for psi in psis:
        images = pipeline.draw(n, seed, inputs="noise", truncation=psi)[pipeline.recipe.main_output]
        result = evaluate_images(images, ref, extractor, seed, source=f"{run} at truncation {psi}")
        rows.append({"run": str(run), "psi": psi, **{k: result[k] for k in KEYS}, "card": result["card"]})
        print(f"{run}  psi {psi:.2f}  " + "  ".join(f"{k} {result[k]:.4g}" for k in KEYS), flush=True)
    return rows


def truncation_row(run: Path, psis: list[float], seed: int, out: Path, columns: int = 10) -> None:
    """The same `columns` latents drawn at psi 0 and every psi, one row per psi, as one picture."""
    pipeline = load_generator(run)
    rows = [pipeline.draw(columns, seed, inputs="noise", truncation=psi)[pipeline.recipe.main_output]
            for psi in [0.0] + [p for p in psis if p != 0]]
    grid_picture(torch.cat(rows), nrow=columns).save(out)


def summary(rows: list[dict], psis: list[float]) -> dict[float, dict[str, tuple[float, float]]]:
    out = {}
    for psi in psis:
        at = [r for r in rows if r["psi"] == psi]
        out[psi] = {k: (statistics.mean(r[k] for r in at), statistics.stdev(r[k] for r in at) if len(at) > 1 else 0.0)
                    for k in KEYS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--psi", type=float, nargs="+", default=[0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--row", type=Path, help="also write the truncation row picture of the first run here")
    args = parser.parse_args()
    if args.out.suffix != ".png":
        parser.error("--out must be a .png file")
    psis = sorted(set(args.psi))
    if args.row:
        truncation_row(args.runs[0], psis, args.seed, args.row)
    rows = [row for run in args.runs for row in sweep(run, psis, args.n, args.seed)]
    table = summary(rows, psis)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.errorbar(psis, [table[p]["fid"][0] for p in psis], [table[p]["fid"][1] for p in psis], marker="o",
                color="black", label="FID (left)")
    ax.set_xlabel("truncation psi (1 = none)")
    ax.set_ylabel("FID (lower is better)")
    ax.grid(alpha=0.3)
    right = ax.twinx()
    for key, colour in (("precision", "tab:blue"), ("recall", "tab:orange")):
        right.errorbar(psis, [table[p][key][0] for p in psis], [table[p][key][1] for p in psis], marker="s",
                       color=colour, label=f"{key} (right)")
    right.set_ylim(0, 1)
    right.set_ylabel("precision / recall")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper center")
    ax.set_title(f"Truncation: {len(args.runs)} run(s), {args.n} samples per point")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    lines = ["| psi | " + " | ".join(KEYS) + " |", "|---" * (len(KEYS) + 1) + "|"]
    for psi in psis:
        lines.append(f"| {psi:g} | " + " | ".join(f"{table[psi][k][0]:.4g} ± {table[psi][k][1]:.2g}" for k in KEYS) + " |")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps({"runs": [str(r) for r in args.runs], "n": args.n,
                                                         "seed": args.seed, "rows": rows}, indent=1) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out} and its .md, .json")


if __name__ == "__main__":
    main()
