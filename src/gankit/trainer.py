"""The one training loop. It owns time: data order, phases, backward(), optimizers, requires_grad toggling,
logging, sample grids, checkpoints and resume. Recipes say what a phase computes; nothing else trains.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import torch
import yaml
from tqdm import tqdm

from .checkpoint import (RunLock, clear_run, latest_checkpoint, load_state, remove_stale_temporaries, run_files,
                         save_generator, save_rotating)
from .config import Config, OptimConfig, config_from_dict
from .data import BatchSampler, Dataset, load_data
from .data.text import Vocabulary
from .distributed import init_distributed
from .draws import Draws
from .ema import EMA, ema_beta
from .errors import GankitError, summary
from .health import Event, HealthMonitor, nonfinite_names
from .metrics.protocols import make_protocol, protocol_name
from .progress import progress_bar
from .recipes import OptimSpec, Phase, StepContext, build_recipe
from .report import plot_curves, save_outputs, save_text, write_html_report
from .sampling import Pipeline, fields_meta

# config keys a resumed run may change; anything else would make the resumed run a different experiment
RESUME_MAY_CHANGE = ("description", "train.steps", "train.minutes", "train.log_every", "train.sample_every", "train.ckpt_every",
                     "train.threads", "train.device", "train.precision", "train.channels_last", "train.compile",
                     "train.keep_checkpoints", "train.on_nan")
MAX_ROLLBACKS = 3


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GankitError("train.device=cuda but no CUDA device is usable here (CPU build of torch, or no GPU); "
                          "use train.device=cpu")
    if name != "cpu" and not name.startswith("cuda"):
        raise GankitError(f"unknown device '{name}'; valid: auto, cpu, cuda")
    return torch.device(name)


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed memory for reuse (blocks up to 32 MB, and up to 256 MB at the top of
    the heap) instead of returning it to the system. By default it gives a step's few-MB buffers (the bf16 copies
    of the weights, the fp32 gradients) back each time and faults them in again on the next step: hundreds of
    thousands of page faults, and 1-12% of the training time of the tutorial's MLP and the default DCGAN in the
    runs measured (docs/speed.md). False where the setting is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # a C library without mallopt
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 256 << 20))


PRECISIONS = ("fp32", "bf16", "auto")


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def pick_autocast(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for train.precision, or None for plain fp32."""
    if precision not in PRECISIONS:
        raise GankitError(f"unknown precision '{precision}'; valid: {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return None
    if bf16_supported(device):
        return torch.bfloat16
    if precision == "bf16":
        warnings.warn(f"bf16 is not supported on this {device.type}; training in fp32")
    return None


def lr_factor(cfg, step: int, steps: int) -> float:
    """The learning rates' multiplier at a step: 1, then (with optim.decay_from < 1) linear to 0 at train.steps."""
    if cfg.decay_from >= 1:
        return 1.0
    start = cfg.decay_from * steps
    return min(1.0, max(0.0, 1 - (step - start) / (steps - start)))


def make_optimizer(cfg: OptimConfig, params: list[torch.Tensor], spec: OptimSpec) -> torch.optim.Optimizer:
    """Adam or RMSprop (optim.name) over `params`, with the spec's rate and betas (scaled for lazy regularisation).

    Fused (one kernel for all parameters) when asked and available, else multi-tensor (foreach): on a CPU
    the default per-parameter loop costs seed-mlp about 40% of its speed.
    """
    if spec.lr < 0 or not all(0 <= b < 1 for b in spec.betas):  # a recipe's own numbers (the config's are checked)
        raise GankitError(f"learning rates must be at least 0 and betas in [0, 1), got lr {spec.lr}, betas {spec.betas}")
    lr, betas = spec.scaled_lr, spec.scaled_betas
    if cfg.name == "adam":
        if cfg.fused:
            try:
                return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
            except (RuntimeError, TypeError):  # no fused kernel for this device or torch version
                pass
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)
    return torch.optim.RMSprop(params, lr=lr, foreach=True)


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def config_changes(old: dict, new: dict) -> list[str]:
    a, b = flatten(old), flatten(new)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


@dataclass
class RunResult:
    run_dir: Path
    step: int
    samples: Path
    curves: Path | None
    generator: Path
    checkpoint: Path
    stats: Path
    interrupted: bool = False
    metrics: dict | None = None
    best_generator: Path | None = None
    failed: str | None = None  # why training stopped early (e.g. NaN), with advice


class StopFlag:
    """Set by SIGINT/SIGTERM: the loop finishes its step, writes a checkpoint and stops."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> "StopFlag":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signal is not None:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class Trainer:
    def __init__(self, cfg: Config, run_dir: Path, resume: Path | None = None, progress: bool = True,
                 data: Dataset | None = None, overwrite: bool = False, allow_data_change: bool = False):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.allow_data_change = allow_data_change
        t = cfg.train
        self.dist = init_distributed(t.device)
        self.lock = RunLock(self.run_dir) if self.dist.is_main else None
        if self.lock is not None:
            self.lock.acquire()  # released when fit() ends
            earlier = run_files(self.run_dir)
            if earlier and resume is None and not overwrite:
                self.lock.release()
                self.dist.close()
                raise GankitError(f"{self.run_dir} already holds a run ({', '.join(p.name for p in earlier[:4])}); "
                                  f"continue it with --resume {self.run_dir}, choose another --out, or replace it "
                                  "with --overwrite")
            remove_stale_temporaries(self.run_dir)
        try:
            self._build(cfg, resume, progress, data)
        except BaseException:  # a refused config or data: the folder is left as it was found
            if self.lock is not None:
                self.lock.abandon()
            self.dist.close()
            raise
        if self.lock is not None and earlier and resume is None:  # --overwrite: only once the new run can start
            clear_run(self.run_dir)

    def _build(self, cfg: Config, resume: Path | None, progress: bool, data: Dataset | None) -> None:
        t = cfg.train
        self.progress = progress and self.dist.is_main
        if t.batch_size % self.dist.world:
            raise GankitError(f"train.batch_size ({t.batch_size}) must be a multiple of the number of processes "
                              f"({self.dist.world}): it is the global batch, split evenly")
        if t.threads:
            torch.set_num_threads(t.threads)
        self.device = pick_device(t.device)
        if self.device.type == "cpu":
            keep_freed_memory()
        if self.dist.active and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once
        self.autocast = pick_autocast(t.precision, self.device)
        torch.manual_seed(t.seed)
        self.data = (data if data is not None else load_data(cfg.data)).to(self.device)
        self.recipe = build_recipe(cfg, self.data).to(self.device)
        if self.recipe.flush_denormals:
            torch.set_flush_denormal(True)
        self.image_fields = [k for k, f in self.data.fields.items() if f.kind == "image"]
        self.memory_format = torch.channels_last if t.channels_last and self.image_fields else None
        if self.memory_format is not None:
            self.recipe.to(memory_format=self.memory_format)
        if t.compile:
            for net in self.recipe.nets.values():
                net.compile()
        self.opt_specs = self.recipe.optimizers()
        for name, spec in self.opt_specs.items():
            unknown = [net for net in spec.nets if net not in self.recipe.nets]
            if unknown:
                raise GankitError(f"optimizer '{name}' names nets the recipe does not have: {', '.join(unknown)} "
                                  f"(it has {', '.join(self.recipe.nets)})")
        # listed once: Module.requires_grad_ walks the module tree, twice a step for every net
        self.net_params = {name: list(net.parameters()) for name, net in self.recipe.nets.items()}
        self.opt_params = {name: [p for net in spec.nets for p in self.net_params[net]]
                           for name, spec in self.opt_specs.items()}
        self.opts = {name: make_optimizer(cfg.optim, self.opt_params[name], spec)
                     for name, spec in self.opt_specs.items()}
        self.noise = torch.Generator(device=self.device).manual_seed(t.seed)  # every random draw of the steps
        self.sampler = BatchSampler(len(self.data), t.batch_size, seed=t.seed + 1, device=self.device)
        self.fixed = self.recipe.fixed_inputs(t.n_samples, self.data, Draws.seeded(t.seed + 2))
        self.emas = {name: EMA(self.recipe.nets[name]) for name in self.recipe.averaged} if t.ema_halflife_kimg > 0 else {}
        self.step = 0
        self.wall_s = 0.0  # training seconds, summed over resumes
        self.writer = None
        self.protocol = make_protocol(cfg, self.data, self.recipe)  # how this run is measured, or None
        self.health = HealthMonitor()
        self.rollbacks = 0
        self.best_score: float | None = None
        if resume is not None:
            self.load(resume)

    # ------------------------------------------------------------ state

    def state_dict(self) -> dict:
        rng = {"noise": self.noise.get_state().cpu(), "torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {"config": json.dumps(self.cfg.to_dict()), "step": self.step, "wall_s": self.wall_s,
                "nets": self.recipe.state_dict(), "opts": {k: o.state_dict() for k, o in self.opts.items()},
                "rng": rng, "sampler": self.sampler.state_dict(), "fixed": self.fixed, "best_score": self.best_score,
                "data": self.data.fingerprint(),
                "ema": {name: ema.state_dict() for name, ema in self.emas.items()}}

    def load(self, path: Path) -> None:
        state = load_state(path)
        saved = config_from_dict(json.loads(state["config"])).to_dict()
        changed = [k for k in config_changes(saved, self.cfg.to_dict()) if k not in RESUME_MAY_CHANGE]
        if changed:
            raise GankitError(f"cannot resume {path}: the config differs in {', '.join(changed)} "
                              f"(only {', '.join(RESUME_MAY_CHANGE)} may change)")
        saved_data, data = state.get("data"), self.data.fingerprint()
        if saved_data is not None and saved_data != data and not self.allow_data_change:
            raise GankitError(f"cannot resume {path}: the data changed since it was saved ({saved_data} -> {data}, "
                              "name:examples:hash); restore it, or resume anyway with --allow-data-change")
        try:
            self.recipe.load_state_dict(state["nets"])
            for name, opt in self.opts.items():
                opt.load_state_dict(state["opts"][name])
            self.noise.set_state(state["rng"]["noise"])
            torch.set_rng_state(state["rng"]["torch"])
            if "cuda" in state["rng"] and self.device.type == "cuda":
                torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)
            self.sampler.load_state_dict(state["sampler"])
            for name, ema in self.emas.items():
                ema.load_state_dict(state["ema"][name])
            fixed = {k: v.clone() for k, v in state["fixed"].items()}
            if {k: (v.shape, v.dtype) for k, v in fixed.items()} != {k: (v.shape, v.dtype) for k, v in self.fixed.items()}:
                raise ValueError("its fixed sample inputs do not fit the recipe's")
            self.fixed = fixed
            self.step = int(state["step"])
            self.wall_s = float(state["wall_s"])
            self.best_score = None if state.get("best_score") is None else float(state["best_score"])
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError, IndexError) as err:
            # a checkpoint of another model, or one whose fields were edited by hand
            raise GankitError(f"checkpoint {path} does not fit this model ({summary(err)})") from None

    def save_checkpoint(self) -> Path | None:
        """Rank 0 writes the checkpoint; every process waits until it is on disk."""
        path = None
        if self.dist.is_main:
            path = save_rotating(self.run_dir, self.step, self.state_dict(), self.cfg.train.keep_checkpoints)
        self.dist.barrier()
        return path

    def rollback(self) -> bool:
        """After NaN/Inf: reload the newest good checkpoint and halve the learning rates. False if impossible."""
        path = latest_checkpoint(self.run_dir)
        if path is None or self.rollbacks >= MAX_ROLLBACKS:
            return False
        self.rollbacks += 1
        self.load(path)
        self.set_learning_rates()
        self.report(Event("rollback", self.step, f"rolled back to {path.name}",
                          f"learning rates now x{0.5 ** self.rollbacks:g} of the config's"))
        return True

    def set_learning_rates(self) -> None:
        """The config's rates x 0.5 per rollback x the decay factor of this step.

        Set from the config, never scaled in place: a restored optimizer may hold a rate already halved or decayed.
        """
        scale = 0.5 ** self.rollbacks * lr_factor(self.cfg.optim, self.step, self.cfg.train.steps)
        for name, opt in self.opts.items():
            for group in opt.param_groups:
                group["lr"] = self.opt_specs[name].scaled_lr * scale

    def report(self, event: Event) -> None:
        """Print a health event above the progress bar and append it to health.jsonl (rank 0)."""
        if not self.dist.is_main:
            return
        tqdm.write(str(event))
        with open(self.run_dir / "health.jsonl", "a") as f:
            f.write(json.dumps(event.to_dict()) + "\n")

    def export_meta(self) -> dict:
        meta = {"recipe": self.cfg.recipe, "config": self.cfg.to_dict(), "fields": fields_meta(self.data.fields),
                "class_names": list(self.data.class_names), "step": self.step, "ema": bool(self.emas),
                "protocol": protocol_name(self.cfg, self.data, self.recipe)}  # so that `gankit eval` measures alike
        if "vocab" in self.data.info:  # text: the model's tokens travel with it
            meta.update(vocab=list(self.data.info["vocab"]), eos=self.data.info.get("eos"))
        return meta

    @property
    def sampling_nets(self) -> dict[str, torch.nn.Module]:
        """The nets that grids, samples and exports use: the moving average where there is one."""
        return {name: self.emas[name].module if name in self.emas else net for name, net in self.recipe.nets.items()}

    @property
    def pipeline(self) -> Pipeline:
        return Pipeline(self.recipe, self.sampling_nets, self.export_meta())

    def export_generator(self, stem: str = "generator", **extra) -> Path:
        nets = {name: self.sampling_nets[name] for name in self.recipe.exported}
        return save_generator(self.run_dir, nets, {**self.export_meta(), **extra}, stem)

    # ------------------------------------------------------------ metrics

    def draw(self, n: int) -> dict[str, torch.Tensor]:
        """n results of the recipe's evaluation inputs, with the eval seed; the training RNG is untouched."""
        return self.pipeline.draw(n, seed=self.cfg.eval.seed, data=self.data)

    def cheap_eval(self) -> dict:
        """The protocol's cheap scores; keeps the best generator so far as generator-best.*."""
        scores = self.protocol.cheap(self.draw(self.cfg.eval.n_cheap), seed=self.cfg.eval.seed)
        score = scores[self.protocol.key]
        if self.protocol.better(score, self.best_score):
            self.best_score = score
            self.export_generator("generator-best", **{self.protocol.key: score, "eval_samples": self.cfg.eval.n_cheap})
        return scores

    def final_eval(self) -> dict:
        outputs = self.draw(self.protocol.n_final(self.cfg.eval.n_final))
        return self.protocol.final(outputs, self.cfg.eval.seed, f"run {self.run_dir} step {self.step}")

    # ------------------------------------------------------------ pictures

    def sample_fixed(self) -> dict[str, torch.Tensor]:
        """The outputs of the fixed inputs for display (uint8 images, float points), nets in eval mode."""
        pipeline = self.pipeline
        return pipeline.display(pipeline.generate(self.fixed))

    @property
    def samples_file(self) -> Path:
        text = self.recipe.outputs[self.recipe.main_output] == "tokens"
        return self.run_dir / ("samples.txt" if text else "samples.png")

    def save_samples(self) -> Path:
        if not self.dist.is_main:
            return self.samples_file
        outputs = self.sample_fixed()
        main = outputs[self.recipe.main_output]
        for event in self.health.check_samples(self.step, main):
            self.report(event)
        kinds = self.recipe.outputs
        if self.samples_file.suffix == ".txt":
            for path in (self.run_dir / "samples" / f"step-{self.step:07d}.txt", self.samples_file):
                save_text(main, Vocabulary.of(self.data.info), path)
            return self.samples_file
        save_outputs(outputs, kinds, self.run_dir / "samples" / f"step-{self.step:07d}.png")
        if self.writer is not None and kinds[self.recipe.main_output] == "image":
            self.writer.add_images("samples", main, self.step)
        return save_outputs(outputs, kinds, self.run_dir / "samples.png")

    # ------------------------------------------------------------ the loop

    def run_phase(self, phase: Phase, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        """One phase: graphs only for the nets it names, its loss back-propagated, its optimizer stepped."""
        if phase.opt not in self.opts:
            raise GankitError(f"phase '{phase.name}' names optimizer '{phase.opt}'; the recipe declares "
                              f"{', '.join(self.opts)}")
        for name, params in self.net_params.items():
            trains = name in phase.grads
            for p in params:
                p.requires_grad_(trains)
        with torch.autocast(self.device.type, dtype=self.autocast or torch.bfloat16, enabled=self.autocast is not None):
            out = self.recipe.compute(phase, batch, ctx)
        opt = self.opts[phase.opt]
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        self.dist.all_reduce_grads(self.opt_params[phase.opt])
        opt.step()
        self.recipe.after_phase(phase, ctx)
        return out

    def train_step(self) -> dict[str, torch.Tensor]:
        index = self.sampler.next()  # the global batch; each process takes its slice
        ctx = StepContext(self.noise, self.device, self.dist, step=self.step)
        batch = self.data.batch(self.dist.shard(index), ctx)
        for key in self.image_fields if self.memory_format is not None else ():
            batch[key] = batch[key].contiguous(memory_format=self.memory_format)
        if self.cfg.optim.decay_from < 1:
            self.set_learning_rates()
        logs: dict[str, torch.Tensor] = {}
        for phase in self.recipe.schedule(self.step):
            out = self.run_phase(phase, batch, ctx)
            for key, value in out.items():
                logs[f"loss/{phase.name}" if key == "loss" else key] = value.detach()
        self.step += 1
        if self.emas:
            t = self.cfg.train
            beta = ema_beta(t.batch_size, t.ema_halflife_kimg, self.step * t.batch_size, t.ema_rampup)
            for name, ema in self.emas.items():
                ema.update(self.recipe.nets[name], beta)
        return logs

    def fit(self) -> RunResult:
        """Train to train.steps (or train.minutes), then write the results; the run folder is locked meanwhile."""
        try:
            return self._fit()
        finally:
            if self.lock is not None:
                self.lock.release()
            self.dist.close()

    def _fit(self) -> RunResult:
        t = self.cfg.train
        main = self.dist.is_main
        stats_path = self.run_dir / "stats.jsonl"
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.yaml").write_text(self.cfg.to_yaml())
            self.writer = tensorboard_writer(self.run_dir)
        deadline = time.perf_counter() + 60 * t.minutes if t.minutes > 0 else math.inf
        sums: dict[str, torch.Tensor] = defaultdict(lambda: torch.zeros((), device=self.device))
        # steps that reported each key: lazy regularisers and ADA's r_t report only every few steps, and a mean over
        # all steps would understate them by that factor
        counts: dict[str, int] = defaultdict(int)
        tick_start, tick_step = time.perf_counter(), self.step
        bar = progress_bar(total=t.steps, initial=self.step, hide=not self.progress, unit="step", dynamic_ncols=True,
                   desc=self.cfg.preset or "train")
        if self.step == 0:
            self.save_samples()
        failed = None
        with StopFlag() as stop, open(stats_path if main else os.devnull, "a") as stats:
            last = self.step >= t.steps
            while not last:
                logs = self.train_step()
                for key, value in logs.items():
                    sums[key] += value  # stays on the device: no host sync inside the step
                    counts[key] += 1
                bar.update(1)
                # a collective decision, so that every process stops at the same step
                last = self.step >= t.steps or self.dist.any(time.perf_counter() >= deadline or stop.signal is not None,
                                                             self.device)
                if self.step % t.log_every == 0 or last:
                    now = time.perf_counter()
                    self.wall_s += now - tick_start
                    steps = torch.tensor([counts[k] for k in sums], dtype=torch.float32, device=self.device)
                    values = self.dist.mean(torch.stack(list(sums.values())).div(steps)).tolist()  # one sync per tick
                    record = {"step": self.step, "wall_s": round(self.wall_s, 3), "epoch": self.sampler.epoch,
                              **{k: round(v, 5) for k, v in zip(sums, values)},
                              "steps_per_s": round((self.step - tick_step) / max(now - tick_start, 1e-9), 3)}
                    if main and self.protocol and self.cfg.eval.every and (self.step % self.cfg.eval.every == 0 or last):
                        record.update({k: round(v, 4) for k, v in self.cheap_eval().items()})
                    stats.write(json.dumps(record) + "\n")
                    stats.flush()
                    events = self.health.check(self.step, record, dict(self.recipe.nets.items()))
                    for event in events:
                        self.report(event)
                    fatal = next((e for e in events if e.fatal), None)
                    if fatal is not None:
                        if not (t.on_nan == "rollback" and self.rollback()):
                            failed = f"{fatal.message}; {fatal.advice}"
                            break
                        last = self.step >= t.steps  # the rollback moved the step back: train on
                    bar.set_postfix_str(progress_text(record), refresh=False)
                    if self.writer is not None:
                        for key, value in record.items():
                            if key not in ("step", "epoch"):
                                self.writer.add_scalar(key, value, self.step)
                    sums.clear()
                    counts.clear()
                    tick_start, tick_step = time.perf_counter(), self.step
                if self.step % t.sample_every == 0 and not last:
                    self.save_samples()
                if self.step % t.ckpt_every == 0 and not last and not nonfinite_names({}, dict(self.recipe.nets.items())):
                    self.save_checkpoint()  # never a checkpoint with broken weights: the next tick reports them
            interrupted = stop.signal is not None
        bar.close()
        if self.writer is not None:
            self.writer.close()
        if not main:  # rank 0 writes the results; the others wait for it and stop
            self.save_checkpoint()
            return RunResult(self.run_dir, self.step, self.samples_file, None,
                             self.run_dir / "generator.safetensors", None, stats_path, interrupted, failed=failed)
        if failed is not None:  # keep the good checkpoints: nothing with broken weights is saved
            curves = plot_curves(read_stats(stats_path), self.run_dir / "curves.png", self.cfg.preset)
            return RunResult(self.run_dir, self.step, self.samples_file, curves,
                             self.run_dir / "generator.safetensors", latest_checkpoint(self.run_dir), stats_path,
                             interrupted, failed=failed)
        samples = self.save_samples()
        checkpoint = self.save_checkpoint()
        generator = self.export_generator()
        curves = plot_curves(read_stats(stats_path), self.run_dir / "curves.png", self.cfg.preset)
        metrics = None
        if self.protocol and self.cfg.eval.n_final and not interrupted:  # Ctrl-C means stop now, not evaluate
            metrics = self.final_eval()
            (self.run_dir / "metrics.json").write_text(json.dumps({"step": self.step, **metrics}, indent=2))
        write_html_report(self.run_dir, self.cfg.to_yaml(), metrics)
        best = self.run_dir / "generator-best.safetensors"
        return RunResult(self.run_dir, self.step, samples, curves, generator, checkpoint, stats_path, interrupted,
                         metrics, best if best.is_file() else None)


BOOKKEEPING = ("step", "wall_s", "epoch", "steps_per_s")


def progress_text(record: dict) -> str:
    """The losses, then the recipe's other logged values (penalties, D's outputs, cheap scores)."""
    parts = [f"{k[5:]} {v:.3f}" for k, v in record.items() if k.startswith("loss/")]
    parts += [f"{k} {v:.2f}" for k, v in record.items() if not k.startswith("loss/") and k not in BOOKKEEPING]
    return " ".join(parts)


def read_stats(path: Path) -> list[dict]:
    if not Path(path).is_file():
        return []
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def tensorboard_writer(run_dir: Path):
    """A SummaryWriter when the optional `tensorboard` package is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def load_run_config(run_dir: Path) -> Config:
    return config_from_dict(yaml.safe_load((Path(run_dir) / "config.yaml").read_text()))
