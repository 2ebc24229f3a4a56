"""gankit's training step against the same step written out by hand, and what a second core adds to either.

The hand-written step is the tutorial's MLP GAN (seed-mlp) as the recipe runs it, with nothing else: the
trainer's precision (bf16 autocast on a CPU that has it), fused Adam, D on real and fake images in one pass,
G's step through the fakes of D's step. It uses a second trainer's nets, optimizers, sampler and noise
generator (same seed), and after a few steps of each the two trainers' weights and optimizer states must be
equal bit for bit, so both sides do the same work. Then blocks of steps alternate in one process (in reverse
order every other round), so that drifts in machine speed hit both alike: what is left between them is the
cost of gankit's recipes, phases and bookkeeping inside a step.

Two more rows put the step in proportion: the hand-written step on copies of the nets whose weights are
themselves bf16 (no copies between bf16 and fp32, half the optimizer's memory traffic; it does not train the
same, since Adam's small steps vanish below bf16's resolution, so it only prices what mixed precision costs),
and the rate of the step's matrix products alone, with one thread and with all.

    python benchmarks/step_floor.py --steps 300 --rounds 8
    python benchmarks/step_floor.py --set 'mlp.g_hidden=[8,8,8]' --set 'mlp.d_hidden=[8,8]' \
        --set train.batch_size=8 --out benchmarks/results/step-floor-tiny   # only the per-step overhead is left

Writes benchmarks/results/step-floor.{md,json}.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gankit.config import resolve
from gankit.errors import GankitError
from gankit.losses import d_minimax, g_nonsaturating
from gankit.trainer import Trainer

QUIET = ["eval.every=0", "eval.n_final=0", "train.minutes=0"]
CHECK_STEPS = 5


def hand_step(trainer: Trainer) -> None:
    """One seed-mlp step written out, on the CPU: the same draws, arithmetic and order as the recipe's two phases."""
    G, D, opt_g, opt_d = trainer.recipe.G, trainer.recipe.D, trainer.opts["G"], trainer.opts["D"]
    real = trainer.data.batch(trainer.sampler.next())[trainer.recipe.real_key]
    G.requires_grad_(True)
    D.requires_grad_(True)
    bf16 = trainer.autocast is not None  # the trainer's precision: bf16 autocast or fp32
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        fake = G(torch.randn(len(real), G.z_dim, generator=trainer.noise))
        logits_real, logits_fake = D(torch.cat([real, fake.detach()])).float().chunk(2)
        loss_d = d_minimax(logits_real, logits_fake)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    D.requires_grad_(False)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss_g = g_nonsaturating(D(fake).float())
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()


def bf16_copy(trainer: Trainer) -> Trainer:
    """A shallow copy of `trainer` whose G and D are bf16 copies with their own fused Adam (same settings)."""
    twin = copy.copy(trainer)
    twin.recipe = copy.deepcopy(trainer.recipe).bfloat16()
    twin.opts = {name: torch.optim.Adam(getattr(twin.recipe, name).parameters(), **{
        key: trainer.opts[name].defaults[key] for key in ("lr", "betas", "eps")}, fused=True) for name in ("G", "D")}
    return twin


# the step's products (batch 128; D judges real and fake together) and a large square one, as [m, k] x [k, n]
PRODUCTS = [(128, 100, 256), (128, 256, 512), (128, 512, 1024), (128, 1024, 784), (256, 784, 512), (256, 512, 256),
            (2048, 2048, 2048)]


def product_rates(threads: int) -> dict[str, float]:
    """GFLOP/s of each bf16 product, best of 5 blocks."""
    torch.set_num_threads(threads)
    rates = {}
    for m, k, n in PRODUCTS:
        a, b = torch.randn(m, k, dtype=torch.bfloat16), torch.randn(k, n, dtype=torch.bfloat16)
        repeats = max(3, int(2e9 / (2 * m * k * n)))
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = min(best, (time.perf_counter() - start) / repeats)
        rates[f"{m}x{k} @ {k}x{n}"] = 2 * m * k * n / best / 1e9
    return rates


def same_state(a: Trainer, b: Trainer) -> bool:
    nets_equal = all(torch.equal(x, y) for x, y in zip(a.recipe.state_dict().values(), b.recipe.state_dict().values()))
    opts_equal = all(torch.equal(x, y) for name in a.opts
                     for p, q in zip(a.opt_params[name], b.opt_params[name])
                     for x, y in zip(a.opts[name].state[p].values(), b.opts[name].state[q].values()))
    return nets_equal and opts_equal


def ms_per_step(step, steps: int) -> float:
    for _ in range(20):  # warm the allocator and the caches
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change seed-mlp's config, e.g. the nets' widths (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/step-floor"))
    args = parser.parse_args()
    if args.steps < 1 or args.rounds < 1:
        parser.error("--steps and --rounds must be at least 1")
    try:
        cfg = resolve("seed-mlp", QUIET + [f"train.steps={10 ** 9}"] + args.set)
    except GankitError as error:
        raise SystemExit(f"step_floor: {error}")
    with tempfile.TemporaryDirectory() as folder:
        ours = Trainer(cfg, Path(folder) / "gankit", progress=False)
        hand = Trainer(cfg, Path(folder) / "hand", progress=False)
        if ours.device.type != "cpu":
            raise SystemExit("this benchmark writes out the CPU step; set CUDA_VISIBLE_DEVICES= to run it on the CPU")
        for _ in range(CHECK_STEPS):
            ours.train_step()
            hand_step(hand)
        if not same_state(ours, hand):
            raise SystemExit(f"the hand-written step and gankit's differ after {CHECK_STEPS} steps: not the same work")
        threads = torch.get_num_threads()
        low = bf16_copy(hand)
        sides = {"gankit train_step": ours.train_step, "written out by hand": lambda: hand_step(hand),
                 "by hand, weights in bf16 (trains differently)": lambda: hand_step(low)}
        timings: dict[str, dict[int, list[float]]] = {name: {threads: [], 1: []} for name in sides}
        for round_ in range(args.rounds):
            for count in (threads, 1):
                torch.set_num_threads(count)
                # every other round in reverse: the first block after a change of threads starts colder
                for name, step in list(sides.items())[::-1 if round_ % 2 else 1]:
                    timings[name][count].append(ms_per_step(step, args.steps))
        rates = {count: product_rates(count) for count in (1, threads)}
        torch.set_num_threads(threads)
    median = {name: {count: statistics.median(values) for count, values in by.items()} for name, by in timings.items()}
    ours_ms, hand_ms = median["gankit train_step"][threads], median["written out by hand"][threads]
    rounds = [o / h for o, h in zip(timings["gankit train_step"][threads], timings["written out by hand"][threads])]
    changed = f" with {', '.join(args.set)}" if args.set else ""
    lines = [f"seed-mlp{changed}, one process: gankit's `train_step` against the same step written out by hand "
             f"(equal weights and optimizer states after {CHECK_STEPS} steps, bit for bit), {args.rounds} alternating "
             f"rounds of {args.steps} steps; median ms per step (each round in brackets).", "",
             f"| step | {threads} threads | 1 thread | speed-up from the second core |", "|---|---|---|---|"]
    for name, by in timings.items():
        cells = [f"{median[name][c]:.2f} ({', '.join(f'{v:.2f}' for v in by[c])})" for c in (threads, 1)]
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {median[name][1] / median[name][threads]:.2f}x |")
    lines += ["", f"gankit's step over the hand-written one: {ours_ms / hand_ms:.3f} (round by round: "
              f"{', '.join(f'{r:.3f}' for r in rounds)})."]
    lines += ["", "The products alone, bf16, GFLOP/s (best of 5 blocks):", "",
              f"| product | 1 thread | {threads} threads |", "|---|---|---|"]
    lines += [f"| {name} | {rates[1][name]:.0f} | {rates[threads][name]:.0f} |" for name in rates[1]]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"steps": args.steps, "rounds": args.rounds, "threads": threads,
         "ms_per_step": {name: {str(c): v for c, v in by.items()} for name, by in timings.items()},
         "product_gflops": {str(c): r for c, r in rates.items()}}, indent=1) + "\n")


if __name__ == "__main__":
    main()
