"""Does a change keep gankit's speed and quality? Two checks against an earlier commit, on this machine.

speed:   `gankit bench speed` of the earlier commit and of the working tree, alternating fresh runs (one process
         each, so drifts in machine speed hit both alike); the ratio to the plain loop per run and its median,
         and gankit's own steps/s (a change that speeds up a network the plain loop shares shows only there).
quality: the `gankit bench quality` JSON of earlier runs against new ones, preset by preset: mean, std and
         range over seeds, and whether the new mean lies within the old range widened by one old std.
eval:    the full evaluation (`evaluate_images`, both classifiers) of 10,000 images of the earlier commit and of
         the working tree, alternating fresh processes: seconds, and how far each figure moved.

usage: python benchmarks/compare_versions.py speed --base d71691a --presets seed-mlp mnist-dcgan --runs 3
       python benchmarks/compare_versions.py eval --base 8b465ca --runs 3
       python benchmarks/compare_versions.py quality --old benchmarks/results/quality-mnist.json ... \
           --new benchmarks/results/core/quality-mnist.json ...
Tables are printed and written to --out (default benchmarks/results/core).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
METRICS = ("fid", "label_accuracy", "modes", "high_quality_pct", "kl_to_uniform")


def bench_speed(src: Path, presets: list[str], out: Path, steps: int, rounds: int) -> list[dict]:
    """One fresh `gankit bench speed` process per preset of the code under `src`; its rows."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "gankit", "bench", "speed", "--preset", *presets, "--steps", str(steps),
           "--rounds", str(rounds), "--repeats", "1", "--sample-n", "10", "--out", str(out)]  # steps only, not eval rates
    subprocess.run(cmd, env=env, cwd=src.parent, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "speed-cpu.json").read_text())["rows"]


@contextlib.contextmanager
def versions(base: str):
    """(a scratch folder, {"base": the earlier commit's src, "new": the working tree's src}); the earlier commit is
    checked out in a temporary git worktree, removed afterwards."""
    known = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"],
                           capture_output=True)
    if known.returncode != 0:
        print(f"compare_versions.py: --base {base} is not a commit of this repository", file=sys.stderr)
        raise SystemExit(2)
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(checkout), base], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield Path(tmp), {"base": checkout / "src", "new": ROOT / "src"}
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(checkout)], check=False)


def speed(args) -> str:
    rows: dict[str, dict[str, list[float]]] = {p: {"base": [], "new": []} for p in args.presets}
    rates: dict[str, dict[str, list[float]]] = {p: {"base": [], "new": []} for p in args.presets}
    with versions(args.base) as (tmp, sources):
        for run in range(args.runs):
            for version, src in sources.items():
                for row in bench_speed(src, args.presets, tmp / f"{version}-{run}", args.steps, args.rounds):
                    rows[row["preset"]][version].append(row["ratio"])
                    rates[row["preset"]][version].append(row["gankit_steps_per_s"])
                print(json.dumps({"run": run, "version": version,
                                  **{p: rows[p][version][-1] for p in args.presets}}), flush=True)
    lines = [f"### Speed ratio to the plain loop: {args.base} against the working tree", "",
             f"`gankit bench speed --steps {args.steps} --rounds {args.rounds} --repeats 1`, {args.runs} runs of each "
             "version, alternating; ratio = gankit steps/s over the plain loop's in the same process", "",
             "| preset | base ratios | base median | new ratios | new median | new / base "
             "| base gankit steps/s | new gankit steps/s | new / base |", "|---|---|---|---|---|---|---|---|---|"]
    for preset, r in rows.items():
        b, n = statistics.median(r["base"]), statistics.median(r["new"])
        rb, rn = statistics.median(rates[preset]["base"]), statistics.median(rates[preset]["new"])
        lines.append(f"| {preset} | {', '.join(f'{v:.2f}' for v in r['base'])} | {b:.2f}x "
                     f"| {', '.join(f'{v:.2f}' for v in r['new'])} | {n:.2f}x | {n / b:.2f} "
                     f"| {rb:.1f} ({', '.join(f'{v:.1f}' for v in rates[preset]['base'])}) "
                     f"| {rn:.1f} ({', '.join(f'{v:.1f}' for v in rates[preset]['new'])}) | {rn / rb:.2f} |")
    write(args.out, "speed-vs-base", "\n".join(lines) + "\n", {"base": args.base, "ratios": rows, "gankit_steps_per_s": rates})
    return "\n".join(lines)


# run in a fresh process under each version: the full evaluation of 10,000 real training digits and of the same
# digits under heavy noise (a poor generator's samples), after a small warm-up evaluation (imports, reference features)
EVAL_CHILD = """
import json, sys, time, torch
from gankit.data.mnist import bundled_mnist
from gankit.metrics.evaluate import evaluate_images
digits = torch.from_numpy(bundled_mnist()["x_train"][:10000]).unsqueeze(1)
noise = 60 * torch.randn(digits.shape, generator=torch.Generator().manual_seed(0))
sets = {"digits": digits, "noisy digits": (digits.float() + noise).clamp(0, 255).to(torch.uint8)}
evaluate_images(digits[:100])  # both classifiers read their reference features once
out = {}
for name, images in sets.items():
    start = time.perf_counter()
    figures = evaluate_images(images, seed=0)
    out[name] = {"seconds": time.perf_counter() - start,
                 "figures": {k: v for k, v in figures.items() if isinstance(v, float)}}
print(json.dumps(out))
"""


def evaluation(args) -> str:
    runs: dict[str, list[dict]] = {"base": [], "new": []}
    with versions(args.base) as (tmp, sources):
        for run in range(args.runs):
            for version, src in sources.items():
                env = {**os.environ, "PYTHONPATH": str(src), "GANKIT_CACHE": str(tmp / f"cache-{version}")}
                proc = subprocess.run([sys.executable, "-c", EVAL_CHILD], env=env, capture_output=True, text=True,
                                      check=True)
                runs[version].append(json.loads(proc.stdout.splitlines()[-1]))
                print(json.dumps({"run": run, "version": version,
                                  **{k: round(v["seconds"], 2) for k, v in runs[version][-1].items()}}), flush=True)
    lines = [f"### The full evaluation of 10,000 images: {args.base} against the working tree", "",
             f"`evaluate_images` (main classifier and second opinion, every figure), {args.runs} fresh processes of each "
             "version, alternating, each after a warm-up; seconds per evaluation (median, runs in brackets), and "
             "the largest relative change of any figure between the versions", "",
             "| images | base seconds | new seconds | new / base | largest change of a figure |", "|---|---|---|---|---|"]
    for name in runs["base"][0]:
        base_s = [r[name]["seconds"] for r in runs["base"]]
        new_s = [r[name]["seconds"] for r in runs["new"]]
        old, now = runs["base"][0][name]["figures"], runs["new"][0][name]["figures"]
        moved = max(((abs(now[k] - old[k]) / max(abs(old[k]), 1e-12), k) for k in old), default=(0.0, "-"))
        lines.append(f"| {name} | {statistics.median(base_s):.2f} ({', '.join(f'{v:.2f}' for v in base_s)}) "
                     f"| {statistics.median(new_s):.2f} ({', '.join(f'{v:.2f}' for v in new_s)}) "
                     f"| {statistics.median(new_s) / statistics.median(base_s):.2f} | {moved[0]:.1e} ({moved[1]}) |")
    write(args.out, "eval-vs-base", "\n".join(lines) + "\n", {"base": args.base, "runs": runs})
    return "\n".join(lines)


def runs_by_preset(paths: list[Path]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for path in paths:
        for run in json.loads(Path(path).read_text())["runs"]:
            out.setdefault(run["preset"], []).append(run)
    return out


def describe(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4g} ± {std:.2g} ({', '.join(f'{v:.4g}' for v in values)})"


def quality(args) -> str:
    old, new = runs_by_preset(args.old), runs_by_preset(args.new)
    lines = ["### Quality: earlier runs against new ones", "",
             "within = the new mean lies in [old min - old std, old max + old std]", "",
             "| preset | metric | old (seeds) | new (seeds) | within |", "|---|---|---|---|---|"]
    verdicts = {}
    for preset in new:
        for metric in METRICS:
            a = [float(r[metric]) for r in old.get(preset, []) if metric in r]
            b = [float(r[metric]) for r in new[preset] if metric in r]
            if not a or not b:
                continue
            slack = statistics.stdev(a) if len(a) > 1 else 0.0
            within = min(a) - slack <= statistics.mean(b) <= max(a) + slack
            verdicts[f"{preset}/{metric}"] = within
            lines.append(f"| {preset} | {metric} | {describe(a)} | {describe(b)} | {'yes' if within else 'NO'} |")
    write(args.out, "quality-vs-base", "\n".join(lines) + "\n", {"within": verdicts})
    return "\n".join(lines)


def write(out: Path, stem: str, text: str, data: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps(data, indent=2))


def positive(text: str) -> int:
    value = int(text) if text.lstrip("-").isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--base", required=True, help="the earlier commit")
    p.add_argument("--presets", nargs="+", default=["seed-mlp", "mnist-dcgan"])
    p.add_argument("--runs", type=positive, default=3, help="runs of each version, alternating (default 3)")
    p.add_argument("--steps", type=positive, default=200)
    p.add_argument("--rounds", type=positive, default=5)
    p = sub.add_parser("eval")
    p.add_argument("--base", required=True, help="the earlier commit")
    p.add_argument("--runs", type=positive, default=3, help="runs of each version, alternating (default 3)")
    p = sub.add_parser("quality")
    p.add_argument("--old", nargs="+", type=Path, required=True, help="earlier quality JSON files")
    p.add_argument("--new", nargs="+", type=Path, required=True, help="new quality JSON files")
    for p in sub.choices.values():
        p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "core")
    args = parser.parse_args()
    print({"speed": speed, "eval": evaluation, "quality": quality}[args.kind](args))


if __name__ == "__main__":
    main()
