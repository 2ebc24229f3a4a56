"""The ADA experiment's curves, from the run folders of `gankit bench quality --suite ada`.

usage: python scripts/ada_curves.py RUNS_DIR --out docs/ada-curves.png --table benchmarks/results/ada-curves.md

Left: the cheap FID (2,000 samples) against the step, one thin line per run and a thick line for each preset's
mean; right: ADA's augmentation probability p against the step for the runs that have it. Runs are grouped by
their folder name without the trailing -seedN. The table gives, per preset, the cheap FID at its best logged step
and at the last one (mean +- std over runs) and p at the end: a D that overfits shows as a last FID far above the
best.
"""
import argparse
import re
import statistics
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from gankit.trainer import read_stats  # noqa: E402


def series(records: list[dict], key: str) -> tuple[list[int], list[float]]:
    points = [(r["step"], r[key]) for r in records if key in r]
    return [s for s, _ in points], [v for _, v in points]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="folder holding PRESET-seedN run folders")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--table", type=Path, help="also write the Markdown table here")
    args = parser.parse_args()
    groups = defaultdict(list)
    for run in sorted(p for p in args.runs.iterdir() if (p / "stats.jsonl").exists()):
        groups[re.sub(r"-seed\d+$", "", run.name)].append(read_stats(run / "stats.jsonl"))
    if not groups:
        parser.error(f"no run folders with stats.jsonl in {args.runs}")
    fig, (ax_fid, ax_p) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, (preset, runs) in enumerate(sorted(groups.items())):
        colour = f"C{i}"
        curves = [series(records, "fid") for records in runs]
        for steps, values in curves:
            ax_fid.plot(steps, values, color=colour, alpha=0.3, linewidth=0.8)
        common = sorted(set.intersection(*(set(steps) for steps, _ in curves)))
        mean = [statistics.mean(dict(zip(*c))[s] for c in curves) for s in common]
        ax_fid.plot(common, mean, color=colour, linewidth=2, label=f"{preset} ({len(runs)} seeds)")
        for j, records in enumerate(runs):
            steps, p = series(records, "ada_p")
            if steps:
                ax_p.plot(steps, p, color=colour, linewidth=1, label=preset if j == 0 else None)
    ax_fid.set(xlabel="step", ylabel="cheap FID (2,000 samples; lower is better)", title="FID during training")
    ax_p.set(xlabel="step", ylabel="augmentation probability p", title="ADA's p (target r_t = 0.6)")
    ax_fid.legend(fontsize=8)
    ax_p.legend(fontsize=8)
    for ax in (ax_fid, ax_p):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    text = table(groups)
    print(text + f"wrote {args.out}")
    if args.table:
        args.table.write_text(text)


def spread(values: list[float], digits: int = 0) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def table(groups: dict[str, list[list[dict]]]) -> str:
    lines = ["| preset | runs | best cheap FID | at step | last cheap FID | p at the end |", "|---|---|---|---|---|---|"]
    for preset, runs in sorted(groups.items()):
        fids = [series(records, "fid") for records in runs]
        best = [min(values) for _, values in fids]
        at = [steps[values.index(min(values))] for steps, values in fids]
        p_end = [series(records, "ada_p")[1][-1] for records in runs if series(records, "ada_p")[0]]
        lines.append(f"| {preset} | {len(runs)} | {spread(best)} | {', '.join(map(str, at))} | "
                     f"{spread([values[-1] for _, values in fids])} | {spread(p_end, 3) if p_end else '-'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
