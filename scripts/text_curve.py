"""The quality-against-diversity picture of the text suites, from `gankit bench quality --suite poems|oracle`.

usage: python scripts/text_curve.py benchmarks/results/quality-poems.json --out docs/poems-curve.png
       (likewise quality-oracle.json and quality-names.json)

MLE at each temperature is a point of one curve (mean over seeds); each GAN is a point. Poems: BLEU-2 (up is
better) against self-BLEU-2 (left is more diverse); oracle: NLL_oracle against NLL_test (down-left is better);
names: the share of real names against the share of distinct ones (up-right is better).
"""
import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

AXES = {"poems": ("self_bleu2", "bleu2", "self-BLEU-2 (lower = more diverse)", "BLEU-2 (higher = closer to real poems)"),
        "oracle": ("nll_test", "nll_oracle", "NLL_test (lower = covers more)", "NLL_oracle (lower = better samples)"),
        "names": ("distinct", "real", "distinct samples (higher = more diverse)", "real names (higher = better)")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = json.loads(args.results.read_text())
    x_key, y_key, x_label, y_label = AXES[data["suite"]]
    groups = defaultdict(list)
    for row in data["runs"]:
        groups[row["preset"]].append(row)
    means = {name: (statistics.mean(r[x_key] for r in rows), statistics.mean(r[y_key] for r in rows))
             for name, rows in groups.items()}
    fig, ax = plt.subplots(figsize=(6, 4.5))
    mle = sorted((float(name.split("T=")[1]) if " at T=" in name else 1.0, point) for name, point in means.items()
                 if name.endswith("-mle") or "-mle at T=" in name)
    ax.plot([p[0] for _, p in mle], [p[1] for _, p in mle], "o-", color="tab:blue", label="MLE across temperatures")
    for t, (x, y) in mle:
        ax.annotate(f"T={t:g}", (x, y), textcoords="offset points", xytext=(5, 5), fontsize=8)
    for name, (x, y) in means.items():
        if "-mle" not in name:
            ax.plot([x], [y], "s", markersize=8, label=name)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(f"{data['suite']}: quality against diversity (mean of seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(args.out)


if __name__ == "__main__":
    main()
