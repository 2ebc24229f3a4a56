"""The `gan` recipe: an unconditional image GAN with a D phase and a G phase per step.

D phase: L_D on real images and detached fakes. G phase: L_G on D(fakes). With `reuse_fakes` the G phase
back-propagates through the fakes the D phase made (one G forward per step, as pytorch/examples' DCGAN
does); without it the G phase draws fresh noise, as the tutorial's Keras loop does.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..config import Config
from ..losses import AdversarialLoss
from ..registry import LOSSES, RECIPES
from ..nets import build_networks
from .base import Phase, Recipe, StepContext


class GANRecipe(Recipe):
    def __init__(self, G: nn.Module, D: nn.Module, loss: AdversarialLoss, reuse_fakes: bool):
        super().__init__()
        self.nets = nn.ModuleDict({"G": G, "D": D})
        self.loss = loss
        self.reuse_fakes = reuse_fakes
        # with reuse, G's graph is built during the D phase and kept for the G phase
        self.phases = [Phase("D", "D", ("D", "G") if reuse_fakes else ("D",)), Phase("G", "G", ("G",))]

    @property
    def G(self) -> nn.Module:
        return self.nets["G"]

    @property
    def D(self) -> nn.Module:
        return self.nets["D"]

    def schedule(self, step: int) -> list[Phase]:
        return self.phases

    def _fakes(self, n: int, ctx: StepContext) -> torch.Tensor:
        return self.G(ctx.randn(n, self.G.z_dim))

    def compute(self, phase: Phase, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        real = batch["image"]  # [N, C, H, W]
        if phase.name == "D":
            fake = self._fakes(len(real), ctx)
            if self.reuse_fakes:
                ctx.scratch["fake"] = fake
            logits_real = self.D(real)
            logits_fake = self.D(fake.detach())
            return {"loss": self.loss.d(logits_real, logits_fake),
                    "D(x)": torch.sigmoid(logits_real.detach()).mean(),
                    "D(G(z))": torch.sigmoid(logits_fake.detach()).mean()}
        fake = ctx.scratch.pop("fake") if self.reuse_fakes else self._fakes(len(real), ctx)
        return {"loss": self.loss.g(self.D(fake))}

    def fixed_inputs(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        return {"z": torch.randn(n, self.G.z_dim, generator=generator)}

    def sample(self, G: nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return G(inputs["z"])


@RECIPES.register("gan", "unconditional image GAN: a D phase and a G phase per step")
def build_gan(cfg: Config, image_shape: tuple[int, int, int]) -> GANRecipe:
    G, D = build_networks(cfg.model, image_shape)
    return GANRecipe(G, D, LOSSES.get(cfg.loss.name), cfg.train.reuse_fakes)
