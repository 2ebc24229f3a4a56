"""`gankit bench speed`: training steps/s of gankit's trainer against a plain PyTorch loop written here,
same networks, batch size, losses and optimizer settings, timed in alternating rounds in one process.

The reference loop is the straightforward one (as pytorch/examples' DCGAN): eager fp32, a D step on real and
detached fake images, a G step on fakes regenerated from fresh noise (as the tutorial does), the preset's
loss (BCE on logits for the non-saturating GAN), torch.optim.Adam with its default implementation, and the
losses read back with .item() every step.
Also reported: images/s of sampling and of evaluation, peak memory, FLOPs per step and the fraction of the
machine's measured matmul throughput that each loop reaches.

Each preset is measured in fresh processes (`repeats` of them, the ratio is their median): a user runs
either loop as a program of its own, and on glibc the allocator state that earlier work leaves behind
made the plain loop up to 40% faster (gankit much less), so that in one process the figures of a preset
depended on which presets had been measured before it.
"""
from __future__ import annotations

import json
import multiprocessing
import resource
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..config import Config, resolve
from ..errors import GankitError
from ..recipes import build_recipe
from ..registry import LOSSES
from ..trainer import Trainer, bf16_supported, pick_device


class ReferenceLoop:
    """The plain loop people write: one D step, then one G step on freshly drawn fakes (with labels drawn
    uniformly for a projection-conditional GAN, and conditions drawn uniformly for a self-conditioned one)."""

    def __init__(self, cfg: Config, trainer: Trainer):
        if cfg.recipe != "gan" or cfg.gan.conditional == "acgan":
            raise GankitError(f"the speed benchmark's plain loop is a gan-recipe loop, unconditional or with a "
                              f"projection D; this preset uses recipe {cfg.recipe}"
                              + (" with gan.conditional=acgan" if cfg.recipe == "gan" else ""))
        torch.manual_seed(cfg.train.seed)
        self.device = trainer.device
        self.data, self.sampler = trainer.data, trainer.sampler
        recipe = build_recipe(cfg, trainer.data)  # fresh networks, initialised as the trainer's were
        self.key = recipe.real_key
        self.G, self.D = recipe.nets["G"].to(self.device), recipe.nets["D"].to(self.device)
        G, D = cfg.optim.G, cfg.optim.D
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=G.lr, betas=(G.beta1, G.beta2))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=D.lr, betas=(D.beta1, D.beta2))
        self.loss = LOSSES.get(cfg.gan.loss)
        self.z_dim = self.G.z_dim
        # what the nets are conditioned on: classes, or with gan.clusters (class, cluster) pairs, drawn uniformly
        self.clustered = recipe.clusters > 0
        self.num_classes = recipe.G.cluster_counts.numel() if self.clustered else recipe.num_classes

    def labels(self, n: int) -> torch.Tensor | None:
        return torch.randint(0, self.num_classes, (n,), device=self.device) if self.num_classes else None

    def step(self) -> tuple[float, float]:
        batch = self.data.batch(self.sampler.next())
        real = batch[self.key]
        c_real = self.labels(len(real)) if self.clustered else batch.get("label") if self.num_classes else None
        n = len(real)
        self.opt_D.zero_grad()
        c_fake = self.labels(n)
        fake = self.G(torch.randn(n, self.z_dim, device=self.device), c_fake)
        loss_D = self.loss.d(self.D(real, c_real), self.D(fake.detach(), c_fake))
        loss_D.backward()
        self.opt_D.step()
        self.opt_G.zero_grad()
        c_fake = self.labels(n)
        fake = self.G(torch.randn(n, self.z_dim, device=self.device), c_fake)
        loss_G = self.loss.g(self.D(fake, c_fake))
        loss_G.backward()
        self.opt_G.step()
        return loss_D.item(), loss_G.item()


def gankit_steps(trainer: Trainer, n: int) -> None:
    """n steps as the trainer's fit loop runs them: logs summed on the device, one sync at the end."""
    sums: dict[str, torch.Tensor] = {}
    for _ in range(n):
        for key, value in trainer.train_step().items():
            sums[key] = sums[key] + value if key in sums else value
    torch.stack(list(sums.values())).tolist()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def step_flops(fn) -> float:
    """FLOPs of one call, counted by PyTorch's FlopCounterMode (matmuls and convolutions, forward and backward)."""
    try:
        with FlopCounterMode(display=False) as counter:
            fn()
    except Exception:  # e.g. a compiled module the counter cannot trace: report no figure rather than fail
        return float("nan")
    return float(counter.get_total_flops())


def matmul_throughput(device: torch.device, dtype: torch.dtype, seconds: float = 1.5) -> float:
    """Measured FLOP/s of a large square matmul, the machine's practical bound for dense layers."""
    size = 8192 if device.type == "cuda" else 2048
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    warm_until = time.perf_counter() + 0.3
    while time.perf_counter() < warm_until:
        a @ b
    sync(device)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    sync(device)
    return 2 * size ** 3 * count / (time.perf_counter() - start)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def measure(preset: str, steps: int, rounds: int, device: str, overrides: list[str]) -> dict:
    cfg = resolve(preset, list(overrides) + [f"train.device={device}", "eval.every=0", "eval.n_final=0"])
    trainer = Trainer(cfg, Path("runs/bench-speed") / preset, progress=False, overwrite=True)
    reference = ReferenceLoop(cfg, trainer)
    dev = trainer.device
    gankit_steps(trainer, 3)  # warm-up (and compilation, when enabled)
    for _ in range(3):
        reference.step()
    times = {"reference": [], "gankit": []}
    for _ in range(rounds):  # alternate, so drifts in machine speed hit both loops alike
        times["reference"].append(timed(lambda: [reference.step() for _ in range(steps)], dev))
        times["gankit"].append(timed(lambda: gankit_steps(trainer, steps), dev))
    rate = {k: steps / statistics.median(v) for k, v in times.items()}
    per_round = {f"{k}_rounds_steps_per_s": [round(steps / t, 2) for t in v] for k, v in times.items()}
    flops = {"reference": step_flops(reference.step), "gankit": step_flops(lambda: trainer.train_step())}
    return {"preset": preset, "device": str(dev), "batch_size": cfg.train.batch_size, "precision": cfg.train.precision,
            "autocast": str(trainer.autocast), "steps_per_round": steps, "rounds": rounds,
            "reference_steps_per_s": rate["reference"], "gankit_steps_per_s": rate["gankit"],
            "ratio": rate["gankit"] / rate["reference"], **per_round,
            "reference_gflop_per_step": flops["reference"] / 1e9, "gankit_gflop_per_step": flops["gankit"] / 1e9,
            "trainer": trainer}


def sampling_rates(trainer: Trainer, n: int) -> dict:
    """images/s of drawing samples and of evaluating them (when the data has a protocol)."""
    dev = trainer.device
    seconds = timed(lambda: trainer.draw(n), dev)
    out = {"sample_images_per_s": n / seconds}
    if trainer.protocol is not None and trainer.recipe.outputs["fake"] == "image":
        outputs = trainer.draw(n)
        seconds = timed(lambda: trainer.protocol.final(outputs, 0, "speed"), dev)
        out["eval_images_per_s"] = n / seconds
    return out


def parity(preset: str, steps: int, seeds: int, device: str, overrides: list[str]) -> dict:
    """FID of the plain fp32 loop and of gankit's fast path after the same number of steps, per seed.

    gankit runs without its generator EMA here (the plain loop has none), so the comparison isolates what
    the fast path changes: bf16, fake reuse, fused optimizers.
    """
    from ..metrics.evaluate import evaluate_images
    from ..sampling import Pipeline

    fids: dict[str, list[float]] = {"reference": [], "gankit": []}
    for seed in range(seeds):
        cfg = resolve(preset, list(overrides) + [f"train.device={device}", f"train.seed={seed}", f"train.steps={steps}",
                                                 "train.minutes=0", "train.ema_halflife_kimg=0", "eval.every=0",
                                                 "eval.n_final=10000"])
        trainer = Trainer(cfg, Path("runs/bench-parity") / f"{preset}-seed{seed}", progress=False, overwrite=True)
        reference = ReferenceLoop(cfg, trainer)
        for _ in range(steps):
            reference.step()
        images = Pipeline(trainer.recipe, {"G": reference.G}, trainer.export_meta()).sample(10000, seed=0)
        fids["reference"].append(evaluate_images(images, fid_only=True)["fid"])
        fids["gankit"].append(trainer.fit().metrics["fid"])
        print(json.dumps({"preset": preset, "seed": seed, "reference_fid": fids["reference"][-1],
                          "gankit_fid": fids["gankit"][-1]}), flush=True)
    return {"preset": preset, "steps": steps, "seeds": seeds, **{f"{k}_fids": v for k, v in fids.items()}}


def parity_table(rows: list[dict]) -> str:
    lines = ["| preset | steps | plain fp32 loop FID | gankit fast path FID (no EMA) |", "|---|---|---|---|"]
    for r in rows:
        cells = [f"{statistics.mean(r[k]):.1f} ± {statistics.stdev(r[k]) if len(r[k]) > 1 else 0:.1f} "
                 f"({', '.join(f'{v:.1f}' for v in r[k])})" for k in ("reference_fids", "gankit_fids")]
        lines.append(f"| {r['preset']} | {r['steps']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"


def measure_preset(preset: str, steps: int, rounds: int, device: str, overrides: list[str], sample_n: int) -> dict:
    """Everything measured of one preset: steps/s of both loops, FLOPs, sampling and evaluation rates, peak memory."""
    row = measure(preset, steps, rounds, device, overrides)
    trainer = row.pop("trainer")
    row.update(sampling_rates(trainer, sample_n))
    row["peak_memory_mb"] = peak_memory_mb(trainer.device)
    return row


def measure_in_fresh_processes(preset: str, repeats: int, *args) -> dict:
    """measure_preset in `repeats` new processes; medians of the rates, the median ratio and each process's ratio."""
    runs = []
    for _ in range(repeats):
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs.append(pool.submit(measure_preset, preset, *args).result())
    row = {k: v for k, v in runs[0].items() if not k.endswith("_rounds_steps_per_s")}  # per round: in `processes`
    for key in ("reference_steps_per_s", "gankit_steps_per_s", "ratio", "sample_images_per_s", "eval_images_per_s",
                "peak_memory_mb"):
        if key in row:
            row[key] = statistics.median(r[key] for r in runs)
    row["process_ratios"] = [r["ratio"] for r in runs]
    row["processes"] = runs
    return row


def speed(presets: list[str], steps: int, rounds: int, device: str, overrides: list[str], out: Path,
          sample_n: int = 10000, parity_steps: int = 0, parity_seeds: int = 3, repeats: int = 3) -> str:
    dev = pick_device(device)  # a missing GPU is a clear error before any process starts
    bounds = {"fp32": matmul_throughput(dev, torch.float32)}
    if bf16_supported(dev):
        bounds["bf16"] = matmul_throughput(dev, torch.bfloat16)
    rows = []
    for preset in presets:
        row = measure_in_fresh_processes(preset, repeats, steps, rounds, device, overrides, sample_n)
        bound = bounds["bf16"] if row["autocast"] == str(torch.bfloat16) and "bf16" in bounds else bounds["fp32"]
        row["bound_tflops"] = bound / 1e12
        row["reference_bound_fraction"] = row["reference_steps_per_s"] * row["reference_gflop_per_step"] * 1e9 / bounds["fp32"]
        row["gankit_bound_fraction"] = row["gankit_steps_per_s"] * row["gankit_gflop_per_step"] * 1e9 / bound
        rows.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items() if k != "processes"}),
              flush=True)
    from .quality import machine

    lines = [f"### Training speed ({machine()})", "",
             f"matmul bound: fp32 {bounds['fp32'] / 1e12:.2f} TFLOP/s"
             + (f", bf16 {bounds['bf16'] / 1e12:.2f} TFLOP/s" if "bf16" in bounds else "")
             + f"; each preset measured in {repeats} fresh process(es) of {rounds} alternating rounds of {steps} steps, "
               "medians", "",
             "| preset | batch | plain loop steps/s | gankit steps/s | ratio | ratio per process "
             "| GFLOP/step (plain / gankit) | bound reached (plain / gankit) | sample img/s | eval img/s | peak MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['preset']} | {r['batch_size']} | {r['reference_steps_per_s']:.1f} | {r['gankit_steps_per_s']:.1f} "
                     f"| **{r['ratio']:.2f}x** | {', '.join(f'{v:.2f}' for v in r['process_ratios'])} "
                     f"| {r['reference_gflop_per_step']:.2f} / {r['gankit_gflop_per_step']:.2f} "
                     f"| {100 * r['reference_bound_fraction']:.1f}% / {100 * r['gankit_bound_fraction']:.1f}% "
                     f"| {r['sample_images_per_s']:.0f} | {r.get('eval_images_per_s', float('nan')):.0f} "
                     f"| {r['peak_memory_mb']:.0f} |")
    text = "\n".join(lines) + "\n"
    parities = [parity(p, parity_steps, parity_seeds, device, overrides) for p in presets] if parity_steps else []
    if parities:
        text += f"\nQuality parity: FID (10,000 samples vs MNIST test) after {parity_steps} steps, {parity_seeds} seeds\n\n"
        text += parity_table(parities)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"speed-{rows[0]['device'].split(':')[0]}" if rows else "speed"
    (out / f"{tag}.md").write_text(text)
    (out / f"{tag}.json").write_text(json.dumps({"machine": machine(), "bounds": bounds, "rows": rows,
                                                 "parity": parities}, indent=2))
    return text
