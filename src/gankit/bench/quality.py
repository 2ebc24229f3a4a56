"""`gankit bench quality`: train every preset of a suite with several seeds, evaluate, and write a Markdown
table and a JSON file (metrics mean +- std and standard error, wall time, evaluation cards), with the
published numbers of the reference papers printed beside ours.
"""
from __future__ import annotations

import json
import math
import platform
import statistics
import time
from pathlib import Path

import torch

from ..checkpoint import latest_checkpoint
from ..config import resolve
from ..data import load_data, to_float
from ..errors import GankitError
from ..metrics.protocols import make_protocol
from ..recipes import build_recipe
from ..sampling import Pipeline
from ..trainer import Trainer

SUITES = {
    "mnist": ["mnist-dcgan", "mnist-wgan", "mnist-wgan-gp", "mnist-lsgan", "mnist-hinge-sn", "mnist-cgan",
              "mnist-acgan", "seed-mlp"],
    "toy": ["toy-ring", "toy-grid", "toy-ring-gan", "toy-grid-gan"],
    "stacked": ["stacked-mnist", "stacked-mnist-bn", "stacked-mnist-pack"],
    "paired": ["mnist-inpaint", "mnist-inpaint-l1", "mnist-sr", "mnist-sr-l1", "sr-photos", "sr-photos-l1",
               "glyphs-kai", "glyphs-kai-l1"],
    "oracle": ["oracle-mle", "oracle-seqgan", "oracle-gumbel"],
    "poems": ["tang-mle", "tang-seqgan", "tang-gumbel"],
    "names": ["names-mle", "names-seqgan", "names-gumbel"],
    "ada": ["mnist-stylegan2-500", "mnist-stylegan2-500-ada", "mnist-stylegan2-2k", "mnist-stylegan2-2k-ada"],
    "unpaired": ["cyclegan-digits-coached", "cyclegan-digits", "cyclegan-digits-plain", "cyclegan-digits-nocycle",
                 "cyclegan-glyphs", "glyphs-kai"],
}
COLUMNS = {
    "mnist": ["fid", "fid_b", "kid", "is", "is_b", "precision", "precision_b", "recall", "recall_b", "density",
              "coverage", "classes_covered", "class_kl", "class_kl_b", "label_accuracy", "label_accuracy_b"],
    "toy": ["modes", "high_quality_pct", "reverse_kl"],
    "stacked": ["modes", "modes_b", "kl_to_uniform", "kl_to_uniform_b"],
    "paired": ["psnr", "ssim", "l1", "font_accuracy", "ocr_accuracy", "hole_psnr", "hole_l1", "label_accuracy",
               "label_accuracy_b", "fid", "fid_b"],
    "oracle": ["nll_oracle", "nll_test"],
    "poems": ["bleu2", "self_bleu2", "well_formed", "nll_test"],
    "names": ["real", "new_real", "novel", "distinct", "nll_test"],
    "ada": ["fid", "kid", "precision", "recall", "density", "coverage"],
    "unpaired": ["accuracy_a2b", "accuracy_b2a", "accuracy_b2a_b", "fid_a2b", "fid_b2a", "psnr", "ssim", "l1", "font_accuracy",
                 "ocr_accuracy"],
}
# text suites: each MLE run is also sampled at these temperatures (quality against diversity, Caccia et al. 2020)
TEMPERATURES = {"oracle": (0.7, 0.85, 1.15), "poems": (0.7, 0.85, 1.15), "names": (0.7, 0.85, 1.15)}
PUBLISHED = {
    "toy": ["VEEGAN Table 1, GAN: ring 1 mode, grid 3.3 modes",
            "VEEGAN Table 1, Unrolled GAN: ring 7.6 modes, grid 23.6 modes",
            "VEEGAN Table 1, VEEGAN: ring 8 modes (52.9% high quality), grid 24.6 modes (40% high quality)",
            "PacGAN Table 1, PacGAN4: ring 7.8 modes (95.9% high quality), grid 24.8 modes (93.6% high quality)"],
    "stacked": ["VEEGAN Table 2, DCGAN: 99 modes, KL 3.4",
                "PacGAN Table 2, PacDCGAN: 1000 modes, KL 0.06-0.07"],
    "oracle": ["SeqGAN Table 1 (its own oracle): NLL_oracle random 10.310, MLE 9.038, scheduled sampling 8.985, "
               "SeqGAN 8.736 (our oracle differs: compare the gains over MLE)"],
    "poems": ["SeqGAN Table 3 (Chinese quatrains, its own split): BLEU-2 MLE 0.6934, SeqGAN 0.7389, real data 0.746"],
    "paired": ["SRGAN Table 2, x4, PSNR/SSIM, Set5: bicubic 28.43/0.821, SRResNet 32.05/0.902, SRGAN 29.40/0.847; "
               "Set14: bicubic 25.99/0.749, SRResNet 28.49/0.818, SRGAN 26.02/0.740 (other photos, and digits: "
               "compare the ordering, not the values)"],
}
PUBLISHED["ada"] = ["ADA paper Table 1 / Fig. 8 (FID, other data): StyleGAN2 -> +ADA, AFHQ Dog 19.4 -> 7.4, "
                    "BreCaHAD 97.7 -> 15.7; the gap widens as the data shrinks"]
PUBLISHED["unpaired"] = ["CyCADA Table 1 (other digit pairs, not this task): MNIST->USPS 95.6%, USPS->MNIST 96.5%; "
                         "CoGAN MNIST->USPS 91.2%. These are domain-adaptation accuracies (a classifier trained on "
                         "translated source digits, tested on real target digits), a kindred but different measure"]
PUBLISHED_HEADING = {"paired": "Published, on other data (the ordering is what compares):",
                     "ada": "Published, on other data (the direction is what compares):",
                     "unpaired": "Published, on other data (reference points, not the same task):",
                     "stacked": "Published, their classifier against ours (classifiers disagree on ambiguous digits, "
                                "so modes and KL compare only roughly; ours are given under both bundled networks):"}


def machine() -> str:
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"{torch.get_num_threads()} CPU threads"
    return f"{name}, {device}, torch {torch.__version__}"


def summarize(values: list[float]) -> str:
    """mean +- std (+- standard error) over seeds."""
    if len(values) == 1:
        return f"{values[0]:.4g}"
    mean, std = statistics.mean(values), statistics.stdev(values)
    return f"{mean:.4g} ± {std:.2g} (se {std / math.sqrt(len(values)):.2g})"


def row_metrics(metrics: dict | None) -> dict:
    """The figures a table row keeps: scalars and the evaluation card (per-class lists and counts stay in the run)."""
    return {k: v for k, v in (metrics or {}).items() if not isinstance(v, (list, dict)) or k == "card"}


def last_tick(stats: Path) -> dict:
    """The last line of a run's stats.jsonl: its step and training seconds."""
    return json.loads(stats.read_text().splitlines()[-1])


def earlier_run(folder: Path, cfg, minutes: float | None) -> tuple[bool, Path | None]:
    """What `--resume` finds in a bench run's folder: (finished, checkpoint to continue from). A folder holding
    another experiment is refused, never overwritten; a time-capped run cannot be continued (its budget is spent
    in one process), so an unfinished one trains again."""
    saved = folder / "config.yaml"
    if not saved.is_file():
        return False, None
    if saved.read_text() != cfg.to_yaml():
        raise GankitError(f"--resume: {folder} holds a run of other settings than this bench's; move it away, "
                          f"choose another --runs, or leave out --resume to train it again")
    if (folder / "metrics.json").is_file():
        return True, None
    return False, None if minutes else latest_checkpoint(folder)


def run_one(preset: str, seed: int, minutes: float | None, runs: Path, overrides: list[str],
            resume: bool = False) -> dict:
    extra = [f"train.seed={seed}"] + ([f"train.minutes={minutes}", "train.steps=10000000"] if minutes else [])
    cfg = resolve(preset, overrides + extra)
    folder = runs / f"{preset}-seed{seed}"
    finished, checkpoint = earlier_run(folder, cfg, minutes) if resume else (False, None)
    if finished:
        try:
            metrics = json.loads((folder / "metrics.json").read_text())
            last = last_tick(folder / "stats.jsonl")
            return {"preset": preset, "seed": seed, "steps": metrics["step"], "train_s": last["wall_s"],
                    "resumed": "finished earlier", **row_metrics(metrics)}
        except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
            raise GankitError(f"--resume: {folder} holds a finished run whose metrics.json or stats.jsonl cannot be "
                              f"read ({err.__class__.__name__}); move it away, or leave out --resume to train it "
                              "again") from None
    start = time.perf_counter()
    # the bench's folder: without --resume an earlier run there is replaced
    result = Trainer(cfg, folder, resume=checkpoint, progress=False, overwrite=checkpoint is None).fit()
    if result.interrupted:  # Ctrl-C or SIGTERM stops the suite, not just this run
        raise GankitError(f"interrupted during {preset} seed {seed}; the table keeps the runs that finished, and "
                          f"--resume continues from the last checkpoint")
    last = last_tick(result.stats)
    metrics = row_metrics(result.metrics)
    row = {"preset": preset, "seed": seed, "steps": result.step, "train_s": last["wall_s"],
           "total_s": round(time.perf_counter() - start, 1), **metrics}
    return row | ({"resumed": checkpoint.name} if checkpoint else {})


def rescore_one(preset: str, seed: int, runs: Path) -> dict:
    """The row of a finished bench run again, its final generator evaluated by today's protocol (after the
    evaluator gained a figure, say) without training it again; the steps and time are the run's own."""
    from ..sampling import load_generator

    folder = runs / f"{preset}-seed{seed}"
    if not (folder / "stats.jsonl").is_file():
        raise GankitError(f"--rescore: no finished run {folder} (train it first, or leave out --rescore)")
    pipeline = load_generator(folder)
    cfg = pipeline.config
    if cfg.preset != preset or cfg.train.seed != seed:
        raise GankitError(f"--rescore: {folder} holds {cfg.preset} seed {cfg.train.seed}, not {preset} seed {seed}")
    data = load_data(cfg.data)
    protocol = make_protocol(cfg, data, pipeline.recipe)
    outputs = pipeline.draw(protocol.n_final(cfg.eval.n_final), seed=cfg.eval.seed, data=data)
    metrics = protocol.final(outputs, cfg.eval.seed, f"run {folder.name} step {pipeline.meta.get('step')}")
    last = last_tick(folder / "stats.jsonl")
    return {"preset": preset, "seed": seed, "steps": last["step"], "train_s": last["wall_s"], "rescored": True,
            **row_metrics(metrics)}


def at_temperatures(row: dict, runs: Path, temperatures: tuple[float, ...]) -> list[dict]:
    """Rows of an MLE text run's final generator sampled at other temperatures, by the run's own protocol."""
    from ..apply import evaluate_own
    from ..sampling import load_generator

    pipeline = load_generator(runs / f"{row['preset']}-seed{row['seed']}")
    eval_cfg = pipeline.config.eval
    out = []
    for t in temperatures:
        name = f"{row['preset']} at T={t}"
        metrics = evaluate_own(pipeline, eval_cfg.n_final, eval_cfg.seed, name, temperature=t)
        out.append({**row, "preset": name, **row_metrics(metrics)})
    return out


class MeanImage(torch.nn.Module):
    """A 'generator' that answers every input with the training set's mean image (the mean-fill baseline)."""

    def __init__(self, mean: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean)  # [1, C, H, W] in [-1, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mean.expand(len(x), -1, -1, -1)


# baselines that need no training: (the preset whose data and protocol they share, row name, generator kind)
BASELINES = {"paired": [("mnist-inpaint", "mean fill, digits (no training)", "mean"),
                        ("mnist-sr", "bicubic, digits (no training)", "identity"),
                        ("sr-photos", "bicubic, photos (no training)", "identity"),
                        ("glyphs-kai", "source font copied (no training)", "identity")],
             "unpaired": [("cyclegan-digits", "identity: each digit kept as it is (no training)", "identity"),
                          ("cyclegan-glyphs", "source font copied (no training)", "identity")]}


def untrained_baselines(suite: str, overrides: list[str]) -> list[dict]:
    """Rows of the baselines that need no training, measured by the same protocol on the same held-out inputs as
    the presets: inpainting by the mean training image; super-resolution by bicubic upscaling and glyphs by the
    source glyph itself (a U-Net recipe resizes its input bicubically first, so an identity 'generator' returns
    exactly that)."""
    rows = []
    for preset, name, kind in BASELINES.get(suite, []):
        smallest = ["unet.blocks=0", "unet.width=1", "unet.depth=1"]  # the nets are replaced: build them cheaply
        if resolve(preset).recipe == "paired":
            smallest.append("paired.generator=unet")
        cfg = resolve(preset, overrides + smallest)
        dataset = load_data(cfg.data)
        recipe = build_recipe(cfg, dataset)
        for net in recipe.exported:
            recipe.nets[net] = (MeanImage(to_float(dataset.images).mean(0, keepdim=True)) if kind == "mean"
                                else torch.nn.Identity())
        protocol = make_protocol(cfg, dataset, recipe)
        outputs = Pipeline(recipe, recipe.nets, {}).draw(protocol.n_final(cfg.eval.n_final), seed=cfg.eval.seed,
                                                          data=dataset)
        metrics = protocol.final(outputs, cfg.eval.seed, name)
        rows.append({"preset": name, "seed": 0, "steps": 0, "train_s": 0.0,
                     **row_metrics(metrics)})
    return rows


def real_poems_row(n: int = 1000, n_self: int = 500) -> dict:
    """The human reference of the poems suite: the first n held-out poems scored by the poems protocol as if
    they were samples, each against all the other held-out poems (leave one out); self-BLEU of the first n_self."""
    from ..config import DataConfig
    from ..data.text import Vocabulary
    from ..metrics import text

    data = load_data(DataConfig(name="tang-poems", split="test"))
    vocab = Vocabulary.of(data.info)
    poems = [vocab.decode(row) for row in data.arrays["tokens"]]
    chars = [text.characters(p) for p in poems]
    bleu2 = sum(text.bleu([chars[i]], chars[:i] + chars[i + 1:]) for i in range(n)) / n
    card = {"protocol": "held-out poems as samples: BLEU-2 of each of the first n against all other held-out "
                        f"poems; self-BLEU-2 of the first {n_self}", "n_samples": n, "references": len(chars) - 1}
    return {"preset": "real held-out poems (no model)", "seed": 0, "steps": 0, "train_s": 0.0, "bleu2": bleu2,
            "self_bleu2": text.self_bleu(chars[:n_self]), "well_formed": text.well_formed(poems[:n]), "card": card}


def table(rows: list[dict], columns: list[str], title: str, published: list[str] = (),
          published_heading: str = "Published, same protocol:") -> str:
    head = "| preset | seeds | steps | train time (s) | " + " | ".join(columns) + " |"
    lines = [f"### {title}", "", head, "|" + "---|" * (head.count("|") - 1)]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["preset"], []).append(row)
    for preset, group in groups.items():
        cells = [preset, str(len(group)), str(group[0]["steps"]), summarize([r["train_s"] for r in group])]
        cells += [summarize([float(r[c]) for r in group]) if all(c in r for r in group) else "" for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    if published:
        lines += ["", published_heading, ""] + [f"- {p}" for p in published]
    return "\n".join(lines) + "\n"


def write_tables(suite: str, rows: list[dict], out: Path, seeds: int, minutes: float | None) -> str:
    """The suite's Markdown table and JSON file from its rows (baselines first, then presets in suite order)."""
    order = {name: i for i, name in enumerate(SUITES[suite])}
    rows = sorted(rows, key=lambda r: (r["steps"] > 0, order.get(r["preset"].split(" at T=")[0], len(order)),
                                       r["preset"], r["seed"]))
    for row in rows:
        row.setdefault("machine", machine())  # rows merged from other files keep the machine they were measured on
    text = table(rows, COLUMNS[suite], f"Quality suite '{suite}' ({machines(rows)})", PUBLISHED.get(suite, ()),
                 PUBLISHED_HEADING.get(suite, "Published, same protocol:"))
    out.mkdir(parents=True, exist_ok=True)
    (out / f"quality-{suite}.md").write_text(text)
    (out / f"quality-{suite}.json").write_text(json.dumps(
        {"machine": machines(rows), "suite": suite, "seeds": seeds, "minutes": minutes, "runs": rows}, indent=2))
    return text


def machines(rows: list[dict]) -> str:
    """The machine the rows were measured on, or each machine with its presets when they were measured on several."""
    presets: dict[str, list[str]] = {}
    for row in rows:
        names = presets.setdefault(row["machine"], [])
        if row["preset"] not in names:
            names.append(row["preset"])
    if len(presets) == 1:
        return next(iter(presets))
    return "measured on several: " + "; ".join(f"{m}: {', '.join(names)}" for m, names in presets.items())


def check_suite_presets(suite: str, presets: list[str], overrides: list[str]) -> None:
    """Refuse, before any training, a preset that trains on data the suite's evaluation is not made for."""
    datasets = {resolve(name).data.name for name in SUITES[suite]}
    for preset in presets:
        name = resolve(preset, overrides).data.name
        if name not in datasets:
            raise GankitError(f"--presets: {preset} trains on '{name}' data; the {suite} suite evaluates "
                              f"{', '.join(sorted(datasets))} (its presets: {', '.join(SUITES[suite])})")


def quality(suite: str, seeds: int, minutes: float | None, out: Path, runs: Path, presets: list[str] | None = None,
            overrides: list[str] = (), baselines: bool | None = None, first_seed: int = 0, rescore: bool = False,
            resume: bool = False) -> str:
    """Train and evaluate seeds first_seed.. first_seed + seeds - 1 (or, with `rescore`, evaluate the finished runs
    in `runs` again; with `resume`, keep what an interrupted bench left there); the untrained baselines are measured with the whole suite (or when `baselines`)."""
    check_suite_presets(suite, presets or [], list(overrides))
    rows = []
    if presets is None if baselines is None else baselines:
        rows = untrained_baselines(suite, list(overrides)) + ([real_poems_row()] if suite == "poems" else [])
    text = ""
    for preset in presets or SUITES[suite]:
        for seed in range(first_seed, first_seed + seeds):
            row = (rescore_one(preset, seed, runs) if rescore
                   else run_one(preset, seed, minutes, runs, list(overrides), resume))
            rows.append(row)
            if suite in TEMPERATURES and resolve(preset).textgan.mode == "mle":
                rows += at_temperatures(row, runs, TEMPERATURES[suite])
            print(json.dumps({k: row.get(k) for k in ["preset", "seed", "steps", "train_s", *COLUMNS[suite]]}), flush=True)
            # rewritten after every run, so that an interrupted suite keeps what it measured
            text = write_tables(suite, rows, out, seeds, minutes)
    return text or write_tables(suite, rows, out, seeds, minutes)  # baselines alone (--seeds 0)


def merge(suite: str, files: list[Path], out: Path) -> str:
    """One table from the JSON files of several `bench quality` runs of a suite (e.g. presets run side by side)."""
    loaded = []
    for f in files:
        try:
            loaded.append(json.loads(Path(f).read_text()))
        except (OSError, ValueError) as err:
            raise GankitError(f"--merge: cannot read {f}: {err.__class__.__name__}") from None
    if any(not isinstance(d, dict) or d.get("suite") != suite or not isinstance(d.get("runs"), list) for d in loaded):
        raise GankitError(f"--merge: every file must hold suite '{suite}' results")
    rows = [{"machine": d.get("machine", "unknown machine"), **row} for d in loaded for row in d["runs"]]
    seen = [(r.get("preset"), r.get("seed")) for r in rows if r.get("steps", 0) > 0]
    twice = sorted({key for key in seen if seen.count(key) > 1}, key=str)
    if twice:
        raise GankitError(f"--merge: {twice[0][0]} seed {twice[0][1]} is in more than one file; a seed would count twice")
    return write_tables(suite, rows, out, max(d["seeds"] for d in loaded),
                        loaded[0].get("minutes"))
