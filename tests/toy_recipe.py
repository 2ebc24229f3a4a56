"""A recipe and a dataset that exist only to hold the core to its contract: four nets, two optimizers over two
nets each, paired `a`/`b` images cut by random crops, a held-out split, recipe state that changes training,
and outputs `input`, `fake`, `target`. Importing this module registers `toy-cycle` and `toy-pairs`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from gankit.config import Config, DataConfig, OptimGroup
from gankit.data import ArrayData
from gankit.recipes import OptimSpec, Phase, Recipe, StepContext
from gankit.registry import DATASETS, RECIPES


def toy_pairs(cfg: DataConfig) -> ArrayData:
    """b is a mirrored a: 48 (train) or 16 (test) random 8x8 RGB images."""
    n = 16 if cfg.split == "test" else 48
    a = torch.randint(0, 256, (n, 3, 8, 8), generator=torch.Generator().manual_seed(len(cfg.split)), dtype=torch.uint8)
    return ArrayData({"a": a, "b": a.flip(-1)}, {"a": "image", "b": "image"}, "toy-pairs")


@dataclass
class ToyCycleOptions:
    cycle_weight: float = 10.0
    pool_size: int = 8         # D judges fakes from a pool of earlier ones (recipe state)
    reg_every: int = 1         # the critics' optimizer is lazily regularised every N steps (scales lr and betas)


def translator() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 3, padding=1), nn.Tanh())


def critic() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.LazyLinear(1))


class ToyCycle(Recipe):
    Options = ToyCycleOptions
    OPTIMIZERS = {"gen": OptimGroup(lr=1e-3), "critic": OptimGroup(lr=1e-3)}
    averaged = ("G_ab",)
    exported = ("G_ab", "G_ba")
    outputs = {"input": "image", "fake": "image", "target": "image"}

    def __init__(self, cfg: Config, data):
        super().__init__(cfg)
        self.options = cfg.parts["toy-cycle"]
        self.nets = nn.ModuleDict({"G_ab": translator(), "G_ba": translator(), "D_a": critic(), "D_b": critic()})
        side = data.fields["a"].shape[-1]
        for name in ("D_a", "D_b"):  # materialise the lazy layers
            self.nets[name](torch.zeros(1, 3, side, side))
        self.pool = torch.zeros(0, 3, side, side)

    def optimizers(self) -> dict[str, OptimSpec]:
        return {"gen": self.group("gen", ("G_ab", "G_ba")),
                "critic": self.group("critic", ("D_a", "D_b"), reg_every=self.options.reg_every)}

    def schedule(self, step: int) -> list[Phase]:
        return [Phase("D", "critic", ("D_a", "D_b")), Phase("G", "gen", ("G_ab", "G_ba"))]

    def phase_D(self, phase: Phase, batch, ctx: StepContext):
        a, b = batch["a"], batch["b"]
        with torch.no_grad():
            fake_b = self.nets["G_ab"](a)
            # the pool: half of what D sees are fakes of earlier steps, picked at random
            pool = torch.cat([self.pool.to(a.device), fake_b])[-self.options.pool_size:]
            pick = ctx.randint(0, len(pool), len(fake_b))
            judged = torch.cat([fake_b[: len(fake_b) // 2], pool[pick][len(fake_b) // 2:]])
            self.pool = pool.detach().cpu()
        loss = (F.softplus(-self.nets["D_b"](b)).mean() + F.softplus(self.nets["D_b"](judged)).mean()
                + F.softplus(-self.nets["D_a"](a)).mean() + F.softplus(self.nets["D_a"](self.nets["G_ba"](b))).mean())
        return {"loss": loss}

    def phase_G(self, phase: Phase, batch, ctx: StepContext):
        a, b = batch["a"], batch["b"]
        fake_b, fake_a = self.nets["G_ab"](a), self.nets["G_ba"](b)
        cycle = (self.nets["G_ba"](fake_b) - a).abs().mean() + (self.nets["G_ab"](fake_a) - b).abs().mean()
        adversarial = F.softplus(-self.nets["D_b"](fake_b)).mean() + F.softplus(-self.nets["D_a"](fake_a)).mean()
        return {"loss": adversarial + self.options.cycle_weight * cycle, "cycle": cycle.detach()}

    def get_extra_state(self):
        return {"pool": self.pool}

    def set_extra_state(self, state) -> None:
        self.pool = state["pool"]

    def fixed_inputs(self, n: int, data, draws) -> dict[str, torch.Tensor]:
        held_out = data.split("test")
        return held_out.batch(torch.arange(min(n, len(held_out))), draws)

    def eval_inputs(self, n: int, data, draws, start: int = 0) -> dict[str, torch.Tensor]:
        return self.fixed_inputs(n, data, draws)

    def example_inputs(self, n: int, fields) -> dict[str, torch.Tensor]:
        return {"a": torch.zeros(n, *fields["a"].shape)}

    def generate(self, nets: Mapping[str, nn.Module], inputs, **options):
        out = {"input": inputs["a"], "fake": nets["G_ab"](inputs["a"])}
        if "b" in inputs:
            out["target"] = inputs["b"]
        return out


if "toy-cycle" not in RECIPES:
    RECIPES.register("toy-cycle", "a test recipe: two translators and two critics", options=ToyCycleOptions)(ToyCycle)
    DATASETS.register("toy-pairs", "a test dataset: random images a and their mirror images b")(toy_pairs)
