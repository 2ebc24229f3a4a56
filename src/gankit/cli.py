"""Command line: `gankit train | sample | list | doctor`. Bad input is a one-line error and exit code 2."""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import time
import warnings
from pathlib import Path

from .config import SEED_MAX, short
from .errors import GankitError

EPILOG_TRAIN = """\
examples:
  gankit train                          the default preset (mnist-cgan, a conditional DCGAN): 10,000 steps,
                                        about 5 minutes on a 2-core CPU
  gankit train mnist-dcgan              the unconditional DCGAN (self-conditioned on k-means clusters, no labels)
  gankit train --set gan.clusters=0     the default without its clusters
  gankit train seed-mlp                 the tutorial's MLP GAN
  gankit train --minutes 2 --seed 1     stop after two minutes of training
  gankit train seed-mlp --set optim.G.lr=1e-3 --set optim.D.lr=1e-3 --set optim.G.beta1=0.9 --set optim.D.beta1=0.9
                                        the tutorial's original Adam settings (they collapse)
  gankit train --set gan.loss=wasserstein --set gan.gp_weight=10 --set dcgan.d_norm=none
                                        a variant: WGAN-GP on the default networks
  gankit train --set gan.net=mlp --set mlp.g_hidden=[128,256]
                                        another network family, with its own section of options
  gankit train --dry-run                print the resolved config and stop
  gankit train --resume runs/mnist-dcgan-20260101-120000 --steps 6000
                                        continue a run (exactly where it stopped)
"""


EXIT_DIVERGED = 3  # 0 done, 1 a bug in gankit, 2 bad input, 3 training diverged (NaN/Inf), 130 interrupted


def default_run_dir(cfg) -> Path:
    return Path("runs") / f"{cfg.preset or 'run'}-{time.strftime('%Y%m%d-%H%M%S')}"


def seed_value(text: str) -> int:
    """A --seed: a whole number from 0 to SEED_MAX."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number, got {short(text)}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"a seed is between 0 and {SEED_MAX}, got {short(text)}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gankit", description="Train, sample and inspect generative adversarial networks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Start with `gankit train` (the default preset) or `gankit list` (what there is).")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("train", help="train a GAN from a preset", epilog=EPILOG_TRAIN,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Train a preset. Results go to a run folder: samples, curves, stats, checkpoints.")
    p.add_argument("preset", nargs="?", help="preset name (`gankit list`) or a YAML file; default mnist-cgan")
    p.add_argument("--out", help="run folder (default runs/PRESET-TIME)")
    limit = p.add_mutually_exclusive_group()
    limit.add_argument("--steps", type=int, help="train for this many steps (train.steps)")
    limit.add_argument("--minutes", type=float, help="train for this many minutes (train.minutes)")
    p.add_argument("--seed", type=seed_value, help="random seed (train.seed)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.batch_size=128 (repeatable; sections: data, "
                        "gan, the network's (dcgan, mlp, ...), optim, train, eval; see --dry-run)")
    p.add_argument("--resume", metavar="auto|PATH",
                   help="continue from a run folder or checkpoint; `auto` picks the newest run of the preset")
    p.add_argument("--allow-data-change", action="store_true",
                   help="resume even though the data differs from the checkpoint's (images added or removed)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (what it wrote is deleted; other files are kept)")
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (training, reading images, downloads)")

    p = sub.add_parser("sample", help="draw images (or text) from a trained generator",
                       description="Draw images from a run folder or a generator export; text models write text.",
                       epilog="examples:\n  gankit sample runs/RUN --n 64 --out grid.png\n"
                              "  gankit sample runs/RUN --n 10000 --out samples.npz   (key images, uint8 N,H,W,C)\n"
                              "  gankit sample runs/POEMS --n 20 --out poems.txt --temperature 0.8 --prefix 床前\n"
                              "  gankit sample runs/STYLEGAN --n 64 --out grid.png --truncation 0.7",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder, generator.safetensors or generator.json")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--out", required=True, help=".png for a grid, .npz for arrays, .txt for a text model's samples")
    p.add_argument("--seed", type=seed_value, default=0, help="noise seed (default 0)")
    p.add_argument("--label", type=int, help="conditional models: draw only this class (default: every class, "
                                             "one class per grid row)")
    p.add_argument("--temperature", type=float, help="text models: sampling temperature, lower = safer and less "
                                                     "varied (default: the run's textgan.temperature)")
    p.add_argument("--prefix", default="", help="text models: every sample starts with this text")
    p.add_argument("--truncation", type=float, metavar="PSI",
                   help="style-based models (StyleGAN2): pull each w towards the average w, w_avg + psi (w - "
                        "w_avg); lower = more typical, less varied samples (1 = none, 0.7 is common)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")

    p = sub.add_parser("augment", help="labelled synthetic images from a conditional GAN, to train other models on",
                       description="Write N generated images of every class of a conditional generator (mnist-cgan, "
                                   "...):\na folder of class subfolders of PNGs (the layout of gankit's `folder` "
                                   "dataset and of torchvision's\nImageFolder), or an .npz with `images` uint8 "
                                   "(N, H, W, C) and `labels`. Does it help a classifier?\n`gankit bench augment` "
                                   "measures that (docs/augmentation.md).",
                       epilog="examples:\n  gankit augment runs/RUN --n-per-class 100 --out synthetic/\n"
                              "  gankit augment runs/RUN --n-per-class 1000 --out synthetic.npz --seed 1",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export of a conditional GAN")
    p.add_argument("--n-per-class", type=int, required=True, metavar="N", help="images of each class")
    p.add_argument("--out", required=True, help="a folder (class subfolders of PNGs) or a file ending in .npz")
    p.add_argument("--seed", type=seed_value, default=0, help="noise seed (default 0)")
    p.add_argument("--truncation", type=float, metavar="PSI", help="style-based models: truncation psi (1 = none)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the class folders (or the .npz) already in --out; other files are kept")

    p = sub.add_parser("interpolate", help="a latent walk of a trained image GAN, as an animated GIF",
                       description="Walk through a generator's latent space: --walks walks side by side, each "
                                   "visiting --keys random latents (and back to the first, so the GIF loops), "
                                   "--steps frames between two. A style-based G (StyleGAN2) walks in W, others in z.",
                       epilog="examples:\n  gankit interpolate runs/RUN --out walk.gif\n"
                              "  gankit interpolate runs/RUN --out walk.gif --walks 4 --keys 6 --steps 24 --truncation 0.7",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export of an image GAN")
    p.add_argument("--out", required=True, help="the animated .gif to write")
    p.add_argument("--walks", type=int, default=8, help="walks side by side (default 8)")
    p.add_argument("--keys", type=int, default=4, help="latents each walk visits (default 4)")
    p.add_argument("--steps", type=int, default=16, help="frames from one latent to the next (default 16)")
    p.add_argument("--fps", type=float, default=12.0, help="frames per second (default 12)")
    p.add_argument("--seed", type=seed_value, default=0, help="latent seed (default 0)")
    p.add_argument("--truncation", type=float, metavar="PSI", help="style-based models: truncation psi (1 = none)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")

    p = sub.add_parser("mix", help="the style-mixing grid of a StyleGAN2 run",
                       description="Mix the styles of two sets of samples: the top row holds sources A, the left "
                                   "column sources B; each cell is A drawn with B's styles at one range of layers "
                                   "(coarse: shape, middle, fine: strokes and texture), one block of rows per range.",
                       epilog="example:\n  gankit mix runs/RUN --out mix.png --cols 6 --rows 2",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export of a style-based GAN")
    p.add_argument("--out", required=True, help="the .png to write")
    p.add_argument("--cols", type=int, default=5, help="sources A, one per column (default 5)")
    p.add_argument("--rows", type=int, default=2, help="sources B per range of layers (default 2)")
    p.add_argument("--seed", type=seed_value, default=0, help="latent seed (default 0)")
    p.add_argument("--truncation", type=float, metavar="PSI", help="truncation psi (1 = none)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")

    p = sub.add_parser("studio", help="a local web page to play with trained runs (pip install 'gankit[studio]')",
                       description="Serve a page on this computer that draws samples (pick a digit, slide the "
                                   "truncation, walk between two samples, mix styles), translates, upscales or "
                                   "inpaints your own pictures (upload or draw them), writes glyph text in the "
                                   "target font and samples text models; each run's report (curves, metrics, "
                                   "config) is a click away. It listens on 127.0.0.1 only, unless --host says "
                                   "otherwise.",
                       epilog="examples:\n  gankit studio runs/mnist-cgan\n"
                              "  gankit studio runs/mnist-cgan runs/mnist-sr runs/poems-seqgan --port 8800",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+", metavar="RUN_OR_EXPORT", help="run folders or generator exports")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 = any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 opens it to the "
                        "network, where anyone who reaches it can use it)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for the models (default: torch's choice)")

    p = sub.add_parser("upscale", help="upscale your own picture with a super-resolution run (mnist-sr, ...)",
                       description="Upscale an image of any size with a trained super-resolution model: the "
                                   "generator runs on overlapping tiles of its training size, blended without seams.",
                       epilog="example:\n  gankit upscale runs/RUN small.png --out big.png",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export of a super-resolution model")
    p.add_argument("image", metavar="IN", help="the image to upscale (grey or RGB; converted to the model's)")
    p.add_argument("--out", required=True, help="the upscaled image (.png, .jpg, ...)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")

    p = sub.add_parser("inpaint", help="fill holes in your own picture with an inpainting run (mnist-inpaint, ...)",
                       description="Fill the holes of an image with a trained inpainting model. The mask is an image "
                                   "of the same size, white (brighter than 127) where pixels are to be filled; only "
                                   "those pixels change.",
                       epilog="example:\n  gankit inpaint runs/RUN digit.png --mask hole.png --out filled.png",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export of an inpainting model")
    p.add_argument("image", metavar="IMAGE", help="the image with holes")
    p.add_argument("--mask", required=True, help="same-size image, white where the holes are")
    p.add_argument("--out", required=True, help="the completed image (.png, .jpg, ...)")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")

    p = sub.add_parser("translate", help="translate images with an image-to-image run (glyphs-kai, cyclegan-*), or "
                                         "write text with a font-transfer run",
                       description="Images are translated one by one into a folder, from domain a to b (or, with a "
                                   "CycleGAN run, --direction b2a). Font transfer: --text renders the characters in "
                                   "the run's source font and writes them in the learned target font (OUT.png, and "
                                   "OUT-compare.png with the source line above the output).",
                       epilog="examples:\n  gankit translate runs/RUN --text 永和九年岁在癸丑 --out line.png\n"
                              "  gankit translate runs/RUN a.png b.png --out translated/\n"
                              "  gankit translate runs/CYCLEGAN-RUN digit.png --direction b2a --out translated/",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export of a translation model")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="images of the source domain (instead of --text)")
    p.add_argument("--direction", choices=("a2b", "b2a"), default="a2b",
                   help="a2b (default) or, for CycleGAN runs, b2a: which way to translate")
    p.add_argument("--text", help="characters to write in the target font")
    p.add_argument("--out", required=True, help="--text: the line's .png file; images: the folder for the results")
    p.add_argument("--overwrite", action="store_true", help="replace results that exist already")

    p = sub.add_parser("export", help="export a trained generator: ONNX or the lean safetensors pair",
                       description="Export a run's generator. onnx: one file with input z (and c for conditional "
                                   "models) and output samples in [-1, 1]; safetensors: weights + JSON config.",
                       epilog="examples:\n  gankit export runs/RUN --format onnx\n"
                              "  gankit export runs/RUN --format safetensors --out my-generator/",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="RUN_OR_EXPORT", help="run folder or generator export")
    p.add_argument("--format", required=True, choices=["onnx", "safetensors"])
    p.add_argument("--out", help="output file (onnx) or folder (safetensors); default beside the source")

    p = sub.add_parser("eval", help="quality metrics: FID, KID, IS, precision/recall, density/coverage",
                       description="Evaluate a run, a generator export, a .npz of images or an image folder "
                                   "against real data. Every result carries its evaluation card. A run whose data has its "
                                   "own protocol is measured by it, as at the end of training: translators and text "
                                   "against held-out data, Stacked MNIST by its modes (26,000 samples), 2-D mixtures "
                                   "by theirs (2,500); --ref and --extractor then do not apply.",
                       epilog="examples:\n  gankit eval runs/RUN\n  gankit eval samples.npz --ref mnist-train --json",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("target", metavar="TARGET", help="run folder, generator export, .npz (key images) or image folder")
    p.add_argument("--ref", default="mnist-test", help="reference data: mnist-test (default) or mnist-train")
    p.add_argument("--n", type=int, default=10000, help="number of generated samples (default 10000)")
    p.add_argument("--seed", type=seed_value, default=0, help="sampling seed (default 0)")
    p.add_argument("--extractor", default="mnist", help="feature extractor: mnist (default) or inception")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")

    p = sub.add_parser("bench", help="benchmarks: quality suites and training speed (write tables)",
                       description="quality: train every preset of a suite with several seeds, evaluate each run and "
                                   "write a Markdown table and a JSON file beside the published numbers.\n"
                                   "speed: steps/s of gankit's trainer against a plain PyTorch loop, same nets, "
                                   "batch, losses and optimizer, in alternating rounds; FLOPs and the machine bound.\n"
                                   "augment: with k labelled images per class, does adding a conditional GAN's "
                                   "samples help a small classifier, against classic augmentation?",
                       epilog="examples:\n  gankit bench quality --suite toy --seeds 3\n"
                              "  gankit bench quality --suite mnist --seeds 3 --minutes 5\n"
                              "  gankit bench speed --preset seed-mlp mnist-dcgan\n"
                              "  gankit bench augment --seeds 3   (does a cGAN help a classifier with few labels?)\n"
                              "  gankit bench speed --preset mnist-dcgan --device cuda "
                              "--set data.name=random-images --set data.resolution=64",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["quality", "speed", "augment"], help="what to benchmark")
    p.add_argument("--preset", nargs="*", default=["seed-mlp", "mnist-dcgan"], help="speed: presets to time")
    p.add_argument("--steps", type=int, default=100, help="speed: steps per timed round (default 100)")
    p.add_argument("--rounds", type=int, default=5, help="speed: alternating timed rounds (default 5)")
    p.add_argument("--device", default="cpu", help="speed: cpu or cuda (default cpu)")
    p.add_argument("--parity-steps", type=int, default=0,
                   help="speed: also train the plain loop and gankit this many steps and compare their FIDs")
    p.add_argument("--parity-seeds", type=int, default=3, help="speed: seeds for the quality parity (default 3)")
    p.add_argument("--sample-n", type=int, default=10000,
                   help="speed: images drawn (and evaluated) to measure sampling and evaluation rates (default 10000)")
    p.add_argument("--repeats", type=int, default=3,
                   help="speed: fresh processes per preset, each timing both loops; the ratio is their median (default 3)")
    p.add_argument("--suite", default="mnist", choices=["mnist", "toy", "stacked", "paired", "oracle", "poems", "names",
                                                        "unpaired", "ada"],
                   help="preset suite (default mnist)")
    p.add_argument("--presets", nargs="*", help="only these presets of the suite")
    p.add_argument("--seeds", type=int, default=3, help="seeds per preset (default 3; 0 with --baselines: only the "
                                                        "untrained baselines, to merge with preset runs)")
    p.add_argument("--first-seed", type=int, default=0,
                   help="quality: the seeds are FIRST..FIRST+SEEDS-1 (default 0), to split one suite across "
                        "processes and --merge the halves")
    p.add_argument("--rescore", action="store_true",
                   help="quality: evaluate the finished runs in --runs again instead of training them (after the "
                        "evaluator gained a figure); steps and times stay the runs' own")
    p.add_argument("--resume", action="store_true",
                   help="quality: keep what an interrupted bench left in --runs: finished runs are read back, "
                        "unfinished ones continue from their last checkpoint (with --minutes they train again); "
                        "a folder holding other settings is refused")
    p.add_argument("--minutes", type=float, help="training minutes per run (default: each preset's own budget)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key in every run")
    p.add_argument("--out", default="benchmarks/results", help="folder for the tables (default benchmarks/results)")
    p.add_argument("--runs", default="runs/bench", help="folder for the training runs (default runs/bench)")
    p.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=None,
                   help="quality: measure the untrained baselines too (default: only with the whole suite)")
    p.add_argument("--datasets", nargs="+", default=["mnist", "digits8"],
                   help="augment: labelled image datasets (default mnist digits8)")
    p.add_argument("--k", type=int, nargs="+", help="augment: labelled images per class (default: mnist 10 100 1000, "
                                                    "digits8 10 100)")
    p.add_argument("--ratios", type=int, nargs="+", default=[1, 4],
                   help="augment: generated images per real one (default 1 4)")
    p.add_argument("--classifier-steps", type=int, default=1000, help="augment: classifier training steps (default 1000)")
    p.add_argument("--merge", nargs="+", metavar="JSON", help="quality: write one table from the quality-SUITE.json "
                                                                 "files of earlier runs (e.g. presets run side by side)")

    sub.add_parser("list", help="list presets, recipes, networks, losses, datasets and evaluation protocols")
    p = sub.add_parser("doctor", help="check this machine: versions, device, a few seconds of real training")
    p.add_argument("--out", help="folder for the doctor's sample grid (default: a temporary folder)")
    return parser


def find_resume(arg: str, preset: str | None, out: str | None) -> Path | None:
    """--resume value -> a checkpoint path (or None for `auto` with nothing to resume)."""
    from .checkpoint import latest_checkpoint, list_checkpoints
    from .config import DEFAULT_PRESET

    if arg != "auto":
        path = Path(arg)
        if path.is_dir():
            skipped: list[str] = []
            found = latest_checkpoint(path, skipped)
            if found is None:
                if skipped:
                    raise GankitError(f"no checkpoint in {arg} loads: {'; '.join(skipped)}")
                raise GankitError(f"nothing to resume at {arg} (no checkpoints/step-*.pt)")
            for note in skipped:
                print(f"note: passed over damaged checkpoint {note}")
            return found
        if not path.exists():
            raise GankitError(f"nothing to resume at {arg}: no such file or folder")
        return path
    if out:
        return latest_checkpoint(Path(out))
    runs = sorted((p for p in Path("runs").glob(f"{Path(preset or DEFAULT_PRESET).stem}-*") if list_checkpoints(p)),
                  key=lambda p: list_checkpoints(p)[0].stat().st_mtime)
    return latest_checkpoint(runs[-1]) if runs else None


def cmd_train(args) -> int:
    from .checkpoint import load_state
    from .config import apply_overrides, config_from_dict, resolve
    from .trainer import Trainer

    overrides = list(args.overrides)
    if args.no_progress:
        from . import progress

        progress.SHOWN = False
    if args.minutes is not None and not args.minutes > 0:  # 0 would mean "no limit" in the config
        raise GankitError(f"--minutes must be a positive number of minutes, got {args.minutes}")
    for flag, key in (("steps", "train.steps"), ("minutes", "train.minutes"), ("seed", "train.seed")):
        if getattr(args, flag) is not None:
            overrides.append(f"{key}={getattr(args, flag)}")
    if args.steps is not None:
        overrides.append("train.minutes=0")
    resume = find_resume(args.resume, args.preset, args.out) if args.resume else None
    if resume is not None and args.preset is None:  # continue the saved experiment
        saved = json.loads(load_state(resume)["config"])
        cfg = config_from_dict(apply_overrides(saved, overrides))
    else:
        cfg = resolve(args.preset, overrides)
    if args.dry_run:
        print(cfg.to_yaml(), end="")
        return 0
    run_dir = Path(args.out) if args.out else (resume.parent.parent if resume is not None else default_run_dir(cfg))
    if resume is None and args.resume == "auto":
        print(f"nothing to resume; starting a new run in {run_dir}")
    check_writable(run_dir)
    # --resume auto with nothing to resume replaces an unfinished run that left nothing to continue from
    from .checkpoint import EXPORT_META, list_checkpoints

    nothing_kept = not list_checkpoints(run_dir) and not (run_dir / EXPORT_META).exists()
    overwrite = args.overwrite or (args.resume == "auto" and resume is None and nothing_kept)
    with without_sweeps():  # building it imports torch._dynamo (through torch.optim): 100,000 objects more
        trainer = Trainer(cfg, run_dir, resume=resume, progress=not args.no_progress, overwrite=overwrite,
                          allow_data_change=args.allow_data_change)
    if resume is not None:
        print(f"resuming {resume} at step {trainer.step}")
    result = trainer.fit()
    if result.failed is not None:  # the health monitor stopped a run that diverged: exit 3, one line
        kept = f"; the last good checkpoint is {result.checkpoint}" if result.checkpoint is not None else ""
        print(f"gankit: training stopped at step {result.step}: {result.failed}{kept}", file=sys.stderr)
        return EXIT_DIVERGED
    if result.metrics is not None:
        from .report import format_table

        print(format_table(result.metrics))
    if result.interrupted:
        print(f"stopped at step {result.step}; checkpoint saved. Resume with: gankit train --resume {result.run_dir}")
    best_key = trainer.protocol.key if trainer.protocol is not None else ""
    rows = [("run folder", result.run_dir), ("samples", result.samples), ("curves", result.curves),
            ("stats", result.stats), ("generator", result.generator), (f"best ({best_key})", result.best_generator),
            ("metrics", result.run_dir / "metrics.json" if result.metrics else None),
            ("checkpoint", result.checkpoint)]
    for title, path in rows:
        if path is not None:
            print(f"{title:12s} {path}")
    text = result.samples.suffix == ".txt"
    print(f"next: gankit sample {result.run_dir} " + ("--n 20 --out samples.txt" if text else "--n 64 --out grid.png"))
    return 0


@contextlib.contextmanager
def without_sweeps():
    """The garbage collector off while the block runs, and what it made frozen after: for a block that makes
    objects that last as long as the program (see `entry`), run once per process."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".gankit-write-test-{os.getpid()}"  # one per process: torchrun ranks probe at once
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise GankitError(f"cannot write to output folder {folder}: {err.strerror or err}") from None


def cmd_sample(args) -> int:
    from .sampling import load_generator, save_samples, save_text_samples

    if Path(args.out).is_file() and not args.overwrite:  # checked before any work
        raise GankitError(f"{args.out} already exists: choose another --out, or replace it with --overwrite")
    pipeline = load_generator(args.source)
    from .nets.stylegan2 import check_truncation

    check_truncation(pipeline.nets.get("G"), args.truncation)  # before any work
    if pipeline.kind == "tokens" and args.label is None:
        out = save_text_samples(pipeline, args.n, Path(args.out), args.seed, args.temperature, args.prefix)
    elif args.temperature is not None or args.prefix:
        raise GankitError(f"--temperature and --prefix are for text models; this one makes {pipeline.makes}")
    else:
        options = {} if args.truncation is None else {"truncation": args.truncation}
        out = save_samples(pipeline, args.n, Path(args.out), seed=args.seed, label=args.label, **options)
    print(f"wrote {args.n} samples to {out}")
    return 0


def judged_by_its_protocol(target: str | Path):
    """The Pipeline of a run folder or export measured by its own protocol (a translator, a text model), else
    None."""
    from .checkpoint import EXPORT_META
    from .sampling import load_generator

    path = Path(target)
    is_export = path.suffix in (".safetensors", ".json") or (path.is_dir() and (path / EXPORT_META).is_file())
    if not path.exists() or not is_export:
        return None
    pipeline = load_generator(path)
    return pipeline if pipeline.judged_by_its_protocol else None


def load_target(target: str | Path, n: int, seed: int):
    """A run folder, generator export, .npz of images or image folder -> (uint8 [N, C, H, W], description)."""
    import numpy as np
    import torch

    from .checkpoint import EXPORT_META
    from .config import DataConfig
    from .data import load_data
    from .limits import read_npz_rows
    from .sampling import load_generator

    path = Path(target)
    if not path.exists():
        raise GankitError(f"evaluation target {path} does not exist")
    if path.is_dir() and not (path / EXPORT_META).is_file() and any(
            (path / name).exists() for name in ("config.yaml", "stats.jsonl", "checkpoints")):
        raise GankitError(f"{path} is a run folder without a generator export (did its training finish?); "
                          "evaluate an export, or resume the run to finish it")
    if path.suffix in (".safetensors", ".json") or (path.is_dir() and (path / EXPORT_META).is_file()):
        generator = load_generator(path)
        return generator.sample(n, seed=seed), f"generator {path} (step {generator.meta.get('step')})"
    if path.suffix == ".npz":
        images = read_npz_rows(path, "images", n)  # only the n images asked for are read
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] not in (1, 3):
            raise GankitError(f"{path}: 'images' must be uint8 (N, H, W, C) with C 1 or 3, "
                              f"got {images.dtype} {images.shape}")
        return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), f"images file {path}"
    if path.is_dir():
        data = load_data(DataConfig(name="folder", path=str(path), resolution=28, channels=1, limit=n))
        return data.images, f"image folder {path}"
    raise GankitError(f"cannot evaluate {path}: give a run folder, a generator export, a .npz or an image folder")


def cmd_eval(args) -> int:
    from .metrics.evaluate import evaluate_images
    from .report import format_table

    if args.n < 1:
        raise GankitError(f"--n must be a positive number of samples, got {args.n}")
    pipeline = judged_by_its_protocol(args.target)
    if pipeline is not None:  # held-out pairs or text, by the run's own protocol (PSNR, holes, BLEU, NLL, ...)
        from .apply import evaluate_own

        result = evaluate_own(pipeline, args.n, args.seed, f"generator {args.target}")
        print(json.dumps(result, allow_nan=False) if args.json else format_table(result))
        return 0
    images, source = load_target(args.target, args.n, args.seed)
    result = evaluate_images(images, ref=args.ref, extractor=args.extractor, seed=args.seed, source=source)
    print(json.dumps(result, allow_nan=False) if args.json else format_table(result))
    return 0


def cmd_studio(args) -> int:
    import importlib.util

    if not all(importlib.util.find_spec(name) for name in ("starlette", "uvicorn")):
        raise GankitError("gankit studio needs its web server: pip install 'gankit[studio]'")
    import torch

    from .studio import open_runs
    from .studio.server import bind, make_server, url_of

    if not 0 <= args.port <= 65535:
        raise GankitError(f"--port must be between 0 and 65535, got {args.port}")
    if not 0 <= args.threads <= 1024:
        raise GankitError(f"--threads must be between 0 and 1024, got {args.threads}")
    runs = open_runs(args.sources)  # every run checked before the port is taken
    if args.threads:
        torch.set_num_threads(args.threads)
    sock = bind(args.host, args.port)
    print(f"gankit studio: {len(runs)} run{'s' if len(runs) > 1 else ''} at {url_of(sock)}  (Ctrl-C stops)", flush=True)
    try:
        make_server(runs, sock).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shuts down cleanly on Ctrl-C, then passes the signal on: stopping is normal
        pass
    print("gankit studio: stopped")
    return 0


def cmd_upscale(args) -> int:
    from .apply import check_output, open_picture, save_picture_file, upscale
    from .sampling import load_generator

    out = check_output(Path(args.out), [Path(args.image)], args.overwrite)
    pipeline = load_generator(args.source)
    channels = pipeline.fields["hr"].shape[0] if "hr" in pipeline.fields else 1
    image = open_picture(Path(args.image), channels)
    start = time.perf_counter()
    result = upscale(pipeline, image)
    seconds = time.perf_counter() - start
    save_picture_file(result, out)
    print(f"upscaled {image.shape[2]}x{image.shape[1]} to {result.shape[2]}x{result.shape[1]} in {seconds:.2f} s: {out}")
    return 0


def cmd_augment(args) -> int:
    from .nets.stylegan2 import check_truncation
    from .sampling import load_generator
    from .synthetic import check_request, write_labelled

    pipeline = load_generator(args.source)
    check_request(pipeline, args.n_per_class)  # before any work
    check_truncation(pipeline.nets.get("G"), args.truncation)
    options = {} if args.truncation is None else {"truncation": args.truncation}
    out = write_labelled(pipeline, args.n_per_class, Path(args.out), args.seed, args.overwrite, **options)
    print(f"wrote {args.n_per_class} images of each of {pipeline.recipe.num_classes} classes to {out}")
    return 0


def cmd_interpolate(args) -> int:
    from .apply import check_output
    from .latent import latent_walk, save_gif
    from .sampling import load_generator

    out = check_output(Path(args.out), [], args.overwrite, suffixes=(".gif",))
    pipeline = load_generator(args.source)
    frames = latent_walk(pipeline, args.walks, args.keys, args.steps, args.seed, args.truncation)
    save_gif(frames, out, args.fps)
    print(f"wrote {len(frames)} frames of {args.walks} walks ({len(frames) / args.fps:.1f} s) to {out}")
    return 0


def cmd_mix(args) -> int:
    from .apply import check_output
    from .latent import describe_ranges, save_mix, style_generator, style_mix
    from .sampling import load_generator

    out = check_output(Path(args.out), [], args.overwrite)
    pipeline = load_generator(args.source)
    cells, ranges = style_mix(pipeline, args.cols, args.rows, args.seed, args.truncation)
    save_mix(cells, args.cols + 1, out)
    print(f"wrote {out}: top row sources A, left column sources B; blocks of {args.rows} rows take B's styles at "
          f"{describe_ranges(style_generator(pipeline), ranges)}")
    return 0


def cmd_inpaint(args) -> int:
    from .apply import MASK_THRESHOLD, check_output, inpaint, open_picture, save_picture_file
    from .sampling import load_generator

    out = check_output(Path(args.out), [Path(args.image), Path(args.mask)], args.overwrite)
    pipeline = load_generator(args.source)
    channels = pipeline.fields["image"].shape[0] if "image" in pipeline.fields else 1
    image = open_picture(Path(args.image), channels)
    mask = open_picture(Path(args.mask), 1, what="mask")[0] > MASK_THRESHOLD
    start = time.perf_counter()
    result = inpaint(pipeline, image, mask)
    seconds = time.perf_counter() - start
    save_picture_file(result, out)
    print(f"filled {int(mask.sum())} pixels of a {image.shape[2]}x{image.shape[1]} image in {seconds:.2f} s: {out}")
    return 0


def cmd_translate(args) -> int:
    import torch

    from .apply import (check_output, direction_fields, line_of, open_picture, save_picture_file, text_glyphs,
                        translate)
    from .sampling import load_generator

    if bool(args.text) == bool(args.images):
        raise GankitError("give either --text or images to translate, not both" if args.text else
                          "give --text TEXT or one or more images to translate")
    out = Path(args.out)
    if args.text is not None:  # every output is checked before any work
        line, compare = (check_output(path, [], args.overwrite)
                         for path in (out, out.with_name(out.stem + "-compare" + out.suffix)))
    else:
        if out.exists() and not out.is_dir():
            raise GankitError(f"--out {out} is a file: give a folder for the translated images")
        sources = [Path(p) for p in args.images]
        targets = [out / (path.stem + ".png") for path in sources]
        twice = sorted({t.name for t in targets if targets.count(t) > 1})
        if twice:
            raise GankitError(f"several inputs would be written to the same file ({', '.join(twice[:5])}): "
                              "give images with different names")
        targets = [check_output(t, sources, args.overwrite) for t in targets]
    pipeline = load_generator(args.source)
    key = direction_fields(pipeline, args.direction)[0]
    start = time.perf_counter()
    if args.text is not None:
        if args.direction != "a2b":
            raise GankitError("--text writes in the target font (a2b); leave out --direction b2a")
        source, spaces = text_glyphs(pipeline, args.text)
        result = translate(pipeline, source)
        result[spaces] = 255  # a space stays blank paper
        seconds = time.perf_counter() - start
        save_picture_file(line_of(result), line)
        gap = torch.full((1, 8, source.shape[0] * source.shape[-1]), 255, dtype=torch.uint8)
        save_picture_file(torch.cat([line_of(source), gap, line_of(result)], 1), compare)
        print(f"wrote {len(source)} characters in {seconds:.2f} s: {line} (and {compare.name}: source above, output below)")
        return 0
    images = [open_picture(p, pipeline.fields[key].shape[0]) for p in sources]  # all read before any is written
    for target, image in zip(targets, images):
        save_picture_file(translate(pipeline, image[None], args.direction)[0], target)
    print(f"translated {len(targets)} images in {time.perf_counter() - start:.2f} s into {out}")
    return 0


def cmd_export(args) -> int:
    from .export import export

    print(f"wrote {export(Path(args.source), args.format, Path(args.out) if args.out else None)}")
    return 0


def cmd_bench(args) -> int:
    if args.kind == "speed":
        if args.sample_n < 10:  # the evaluation rate is measured on every metric, which needs 10 images
            raise GankitError(f"--sample-n must be at least 10, got {args.sample_n}")
        from .bench.speed import speed

        print(speed(args.preset, args.steps, args.rounds, args.device, args.overrides, Path(args.out),
                    sample_n=args.sample_n, parity_steps=args.parity_steps, parity_seeds=args.parity_seeds,
                    repeats=args.repeats))
        return 0
    if args.kind == "augment":
        from .bench.augment import bench_augment

        print(bench_augment(args.datasets, args.k, args.seeds, Path(args.out), Path(args.runs) / "augment",
                            args.overrides, tuple(args.ratios), args.classifier_steps))
        return 0
    from .bench.quality import merge, quality

    if args.merge:
        print(merge(args.suite, [Path(f) for f in args.merge], Path(args.out)))
        return 0
    if args.seeds < 0 or (args.seeds == 0 and not args.baselines):
        raise GankitError(f"--seeds must be at least 1 (or 0 with --baselines: the untrained baselines alone), "
                          f"got {args.seeds}")
    if not 0 <= args.first_seed <= 2**31 - args.seeds:
        raise GankitError(f"--first-seed must be between 0 and {2**31 - args.seeds}, got {args.first_seed}")
    if args.resume and args.rescore:
        raise GankitError("--resume and --rescore: choose one (--rescore evaluates finished runs again, --resume "
                          "finishes an interrupted bench)")
    print(quality(args.suite, args.seeds, args.minutes, Path(args.out), Path(args.runs), args.presets, args.overrides,
                  args.baselines, args.first_seed, args.rescore, args.resume))
    return 0


def cmd_list(args) -> int:
    from . import DATASETS, EXTRACTORS, LOSSES, NETWORKS, PROTOCOLS, RECIPES
    from .nets.translator import PAIR_CRITICS, TRANSLATORS
    from .metrics import features, protocols  # noqa: F401  (registers the extractors and protocols)
    from .config import preset_delta, preset_names

    print("presets (gankit train PRESET):")
    width = max(16, *(len(name) for name in preset_names()))
    for name in preset_names():
        description = " ".join(str(preset_delta(name).get("description", "")).split())
        print(f"  {name:{width}s} {description}")
    for title, registry, key in (("recipes", RECIPES, "recipe"),
                                 ("networks, each with a config section of its name", NETWORKS, "gan.net"),
                                 ("translator networks (paired recipe)", TRANSLATORS, "paired.generator"),
                                 ("pair discriminators (paired recipe)", PAIR_CRITICS, "paired.discriminator"),
                                 ("losses", LOSSES, "gan.loss"), ("datasets", DATASETS, "data.name"),
                                 ("evaluation protocols", PROTOCOLS, "eval.protocol"),
                                 ("feature extractors", EXTRACTORS, "eval.extractor")):
        print(f"\n{title} (--set {key}=NAME):")
        for name, text in registry.describe().items():
            print(f"  {name:16s} {text}")
    return 0


def cmd_doctor(args) -> int:
    from .doctor import run_doctor

    return run_doctor(args.out)


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "eval": cmd_eval, "export": cmd_export, "bench": cmd_bench,
            "upscale": cmd_upscale, "inpaint": cmd_inpaint, "translate": cmd_translate,
            "interpolate": cmd_interpolate, "mix": cmd_mix, "studio": cmd_studio, "augment": cmd_augment,
            "list": cmd_list, "doctor": cmd_doctor}


def entry() -> None:
    """The `gankit` program (and `python -m gankit`): main(), with the garbage collector kept off what lives as
    long as the process.

    The imports leave some 180,000 objects (torch's, most of them), which every full sweep of the collector would
    go through again: 0.1-0.2 s each, a few times a command. Frozen (gc.freeze) once imported, they are left out of
    the sweeps. At exit the interpreter would also sweep everything once more (0.5-0.9 s); frozen again, what the
    command made is left to the exit itself. Nothing is lost by it: results are written and closed by then, and
    module teardown still finalises every object outside a cycle."""
    gc.freeze()
    code = main()
    gc.freeze()
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        return run_command(args)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings on the command line are one line each, like errors (no source line below them)."""
    print(f"gankit: warning: {' '.join(str(message).split())}", file=sys.stderr)


def run_command(args) -> int:
    try:
        return COMMANDS[args.command](args)
    except GankitError as err:
        if args.debug:
            raise
        print(f"gankit: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # anything else is gankit's fault, not the input's: exit 1, one line, no traceback
        if args.debug:
            raise
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        print(f"gankit: internal error (a bug in gankit, please report it): {type(err).__name__}: {first} "
              f"(run `gankit --debug {args.command} ...` for the traceback)", file=sys.stderr)
        return 1
