"""Does a conditional GAN help a classifier trained on few labels? (`gankit bench augment`)

For each dataset, k labelled images per class and seed: the k per class are drawn from the training split
(data.per_class, data.subset_seed = the seed); a conditional GAN (preset mnist-cgan-few) trains on those images
only; then the same small CNN (SmallCNN, from scratch, a fixed number of steps)
trains on each training set below and is scored on the whole held-out split:

  real                      the k per class
  real + classic            the same with random shifts (up to 2 px) and rotations (up to 10 degrees)
  real + GAN xR             the k per class and R k generated images per class, drawn uniformly from the union
  real + classic + GAN xR   the same union, every image shifted and rotated
  GAN only xR               the R k generated images per class alone: the Classification Accuracy Score (CAS,
                            Ravuri & Vinyals 2019) of the GAN

Accuracy is reported as mean +- std over seeds. Neither the GAN nor the classifiers see the held-out split.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import DataConfig, resolve
from ..data import load_data, to_float
from ..errors import GankitError
from ..nets.classifiers import bundled_classifier
from ..sampling import load_generator
from ..trainer import Trainer
from .quality import machine, summarize

GAN_PRESET = "mnist-cgan-few"
SIDE = 28  # the classifier reads 28x28 grey images
DEFAULT_KS = {"mnist": (10, 100, 1000), "digits8": (10, 100)}  # digits8 has 119 to 158 training images a class
RATIOS = (1, 4)
CLASSIFIER_STEPS = 1000
MAX_CLASSIFIER_STEPS = 1_000_000
CLASSIFIER_BATCH = 64
CLASSIFIER_LR = 1e-3
MAX_SHIFT_PX = 2
MAX_ROTATION_DEG = 10.0


@dataclass(frozen=True)
class Setting:
    dataset: str
    k: int
    seed: int

    @property
    def data(self) -> DataConfig:
        """The k labelled images per class that everything in this setting may learn from."""
        return DataConfig(name=self.dataset, split="train", per_class=self.k, subset_seed=self.seed)

    @property
    def name(self) -> str:
        return f"{self.dataset}-k{self.k}-seed{self.seed}"


def labelled(cfg: DataConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """float [-1, 1] images [N, 1, 28, 28] and labels of a labelled image dataset."""
    data = load_data(cfg)
    if data.labels is None:
        raise GankitError(f"bench augment needs labelled images; '{cfg.name}' has none")
    images = data.images
    if images.shape[1] != 1 or images.shape[-1] != SIDE:
        raise GankitError(f"bench augment's classifier reads {SIDE}x{SIDE} grey images; '{cfg.name}' has "
                          f"{images.shape[1]}x{images.shape[-1]}x{images.shape[-1]}")
    return to_float(images), data.labels


def classic_augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random rotations (up to MAX_ROTATION_DEG) and shifts (up to MAX_SHIFT_PX) of images in [-1, 1], the
    background (-1) filling what moves in."""
    n = len(x)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(MAX_ROTATION_DEG)
    shift = (torch.randint(-MAX_SHIFT_PX, MAX_SHIFT_PX + 1, (n, 2), generator=generator).float()
             * 2 / x.shape[-1])  # pixels -> the [-1, 1] coordinates of affine_grid
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


class SmallCNN(nn.Module):
    """The fixed classifier of the experiment: two 3x3 convolution + max-pool stages (16, 32 channels), 64 hidden
    units, dropout, 10 logits; a quarter of the bundled classifier's cost, so that the many trainings stay cheap."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # [N, 16, 14, 14]
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # [N, 32, 7, 7]
            nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Dropout(0.25), nn.Linear(64, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)  # [N, classes] logits


def train_classifier(x: torch.Tensor, y: torch.Tensor, seed: int, classic: bool,
                     steps: int = CLASSIFIER_STEPS) -> SmallCNN:
    """The small CNN trained from scratch for a fixed number of steps on batches drawn uniformly from (x, y)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = SmallCNN(int(y.max()) + 1).train()
    opt = torch.optim.Adam(net.parameters(), lr=CLASSIFIER_LR)
    for _ in range(steps):
        index = torch.randint(0, len(x), (CLASSIFIER_BATCH,), generator=generator)
        batch = classic_augment(x[index], generator) if classic else x[index]
        loss = F.cross_entropy(net(batch), y[index])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(predict: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    """The share of x whose logits `predict(x)` put the highest score on the label y."""
    hits = sum(int((predict(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(1000), y.split(1000)))
    return hits / len(y)


def train_gan(setting: Setting, runs: Path, overrides: list[str]) -> Path:
    """The conditional GAN of a setting, trained on its k per class only (a finished run is reused)."""
    folder = runs / setting.name
    if (folder / "generator.json").is_file():
        return folder
    d = setting.data
    cfg = resolve(GAN_PRESET, [f"data.name={d.name}", f"data.per_class={d.per_class}",
                               f"data.subset_seed={d.subset_seed}", f"train.seed={setting.seed}",
                               "eval.every=0", "eval.n_final=0", *overrides])
    if replace(cfg.data, resolution=0) != replace(d, resolution=0):  # what the GAN sees is what the setting allows
        raise GankitError(f"bench augment's overrides change the GAN's data ({cfg.data}); leave data.* alone")
    result = Trainer(cfg, folder, progress=False, overwrite=True).fit()
    if result.interrupted:
        raise GankitError(f"interrupted while training the GAN of {setting.name}")
    return folder


def generated(run: Path, n_per_class: int, num_classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    pipeline = load_generator(run)
    labels = torch.arange(num_classes).repeat_interleave(n_per_class)
    images = pipeline.draw(len(labels), seed, labels, inputs="noise")[pipeline.recipe.main_output]
    return to_float(images), labels


JUDGES = {"mnist": "mnist", "digits8": "digits8"}  # dataset -> the bundled classifier that reads its images


def label_agreement(dataset: str, x: torch.Tensor, y: torch.Tensor) -> float | None:
    """The share of generated images the dataset's bundled classifier reads as the label they were drawn for
    (None when gankit ships no classifier for the dataset)."""
    if dataset not in JUDGES:
        return None
    net, _ = bundled_classifier(JUDGES[dataset])
    return accuracy(lambda batch: net(batch)[1], x, y)


def run_setting(setting: Setting, runs: Path, overrides: list[str], ratios: tuple[int, ...],
                classifier_steps: int) -> list[dict]:
    """Every training set of one setting -> one row each (accuracy on the whole held-out split)."""
    start = time.perf_counter()
    x_real, y_real = labelled(setting.data)
    x_test, y_test = labelled(replace(setting.data, split="test", per_class=0))
    num_classes = int(y_real.max()) + 1
    gan_start = time.perf_counter()
    run = train_gan(setting, runs, overrides)
    gan_s = time.perf_counter() - gan_start
    x_gan, y_gan = generated(run, max(ratios) * setting.k, num_classes, setting.seed + 1000)
    sets = {"real": (x_real, y_real, False), "real + classic": (x_real, y_real, True)}
    for r in ratios:
        keep = (torch.arange(len(y_gan)) % (max(ratios) * setting.k)) < r * setting.k  # the first r k of each class
        union = (torch.cat([x_real, x_gan[keep]]), torch.cat([y_real, y_gan[keep]]))
        sets[f"real + GAN x{r}"] = (*union, False)
        if r == max(ratios):
            sets[f"real + classic + GAN x{r}"] = (*union, True)
            sets[f"GAN only x{r} (CAS)"] = (x_gan[keep], y_gan[keep], False)
    agreement = label_agreement(setting.dataset, x_gan, y_gan)
    rows = []
    for name, (x, y, classic) in sets.items():
        net = train_classifier(x, y, setting.seed, classic, classifier_steps)
        rows.append({"dataset": setting.dataset, "k": setting.k, "seed": setting.seed, "train_set": name,
                     "train_images": len(y), "accuracy": accuracy(net, x_test, y_test),
                     "test_images": len(y_test)})
    for row in rows:
        row.update(gan_s=round(gan_s, 1), setting_s=round(time.perf_counter() - start, 1), gan_label_agreement=agreement)
    return rows


def write_results(rows: list[dict], out: Path, meta: dict) -> str:
    """augment.md (the table), augment.json (rows and settings) and augment.png (accuracy against k)."""
    out.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(r["train_set"] for r in rows))
    settings = list(dict.fromkeys((r["dataset"], r["k"]) for r in rows))
    head = "| training set | " + " | ".join(f"{d} k={k}" for d, k in settings) + " |"
    lines = [f"### Few labels: test accuracy (%) of a small CNN, mean ± std over seeds ({meta['machine']})", "",
             head, "|" + "---|" * (len(settings) + 1)]
    for name in names:
        cells = []
        for d, k in settings:
            accs = [100 * r["accuracy"] for r in rows if (r["dataset"], r["k"], r["train_set"]) == (d, k, name)]
            cells.append(summarize(accs).split(" (se")[0] if accs else "")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = []
    for d, k in settings:
        shares = list({r["seed"]: 100 * r["gan_label_agreement"] for r in rows
                       if (r["dataset"], r["k"]) == (d, k) and r.get("gan_label_agreement") is not None}.values())
        cells.append(summarize(shares).split(" (se")[0] if shares else "")
    lines.append("| *GAN samples read as their label (bundled classifier)* | " + " | ".join(cells) + " |")
    total = sum({(r["dataset"], r["k"], r["seed"]): r["setting_s"] for r in rows}.values())
    lines += ["", f"Seeds: {meta['seeds']}. GAN: preset {GAN_PRESET} trained on the k per class only "
              f"({meta['gan_overrides'] or 'no overrides'}). Classifier: {meta['classifier_steps']} steps, batch "
              f"{CLASSIFIER_BATCH}, Adam {CLASSIFIER_LR}. Test: the whole held-out split. Time: {total / 60:.0f} min."]
    text = "\n".join(lines) + "\n"
    (out / "augment.md").write_text(text)
    (out / "augment.json").write_text(json.dumps({**meta, "rows": rows}, indent=2))
    plot(rows, names, out / "augment.png")
    return text


def plot(rows: list[dict], names: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        ks = sorted({r["k"] for r in rows if r["dataset"] == dataset})
        for name in names:
            means, stds = [], []
            for k in ks:
                accs = [100 * r["accuracy"] for r in rows if (r["dataset"], r["k"], r["train_set"]) == (dataset, k, name)]
                means.append(sum(accs) / len(accs) if accs else float("nan"))
                stds.append(torch.tensor(accs).std().item() if len(accs) > 1 else 0.0)
            ax.errorbar(ks, means, yerr=stds, marker="o", capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("labelled images per class (k)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(dataset)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bench_augment(datasets: list[str], ks: list[int] | None, seeds: int, out: Path, runs: Path,
                  overrides: list[str] = (), ratios: tuple[int, ...] = RATIOS,
                  classifier_steps: int = CLASSIFIER_STEPS) -> str:
    if seeds < 1:
        raise GankitError(f"--seeds must be at least 1, got {seeds}")
    if not ratios or min(ratios) < 1:
        raise GankitError(f"--ratios must be whole numbers of at least 1, got {list(ratios)}")
    if not 1 <= classifier_steps <= MAX_CLASSIFIER_STEPS:
        raise GankitError(f"--classifier-steps must be between 1 and {MAX_CLASSIFIER_STEPS:,}, got {classifier_steps}")
    for dataset in datasets:
        if dataset not in DEFAULT_KS:  # each has a held-out split nothing trains on, and a bundled classifier
            raise GankitError(f"bench augment runs on {' and '.join(DEFAULT_KS)}, not '{dataset}'")
    if ks and min(ks) < 1:
        raise GankitError(f"--k must be at least 1 labelled image per class, got {list(ks)}")
    settings = [Setting(d, k, s) for d in datasets for k in (ks or DEFAULT_KS[d]) for s in range(seeds)]
    for setting in {Setting(s.dataset, s.k, 0) for s in settings}:  # a k too large for a dataset fails now, not later
        load_data(setting.data)
    meta = {"machine": machine(), "seeds": seeds, "gan_preset": GAN_PRESET, "gan_overrides": list(overrides),
            "classifier_steps": classifier_steps, "ratios": list(ratios)}
    rows, text = [], ""
    for setting in settings:
        new = run_setting(setting, runs, list(overrides), tuple(ratios), classifier_steps)
        rows += new
        for row in new:
            print(json.dumps({k: row[k] for k in ("dataset", "k", "seed", "train_set", "accuracy")}), flush=True)
        text = write_results(rows, out, meta)  # rewritten after every setting: an interrupted bench keeps its rows
    return text
