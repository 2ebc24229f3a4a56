"""The `gan` recipe: GANs on images (or 2-D points), unconditional or class-conditional, any loss and penalty.

Phases per step: D (adversarial loss on real images and detached fakes, plus gradient penalty or R1),
Dreg (lazy R1, every r1_every steps), and G (every n_critic steps, or after a critic burst; g_steps times
in a row). With `reuse_fakes` the first G phase back-propagates through the fakes its step's D phase made
(one G forward per step, as pytorch/examples' DCGAN does); other G phases draw fresh noise, as the
tutorial's Keras loop does.
Conditional: 'projection' feeds labels to G (class-conditional BatchNorm) and D (projection); 'acgan' feeds
them to G and trains D to classify (Odena et al. 2017). Fakes get labels drawn uniformly.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..augment import diff_augment, parse_policy
from ..config import Config, LossConfig
from ..errors import GankitError
from ..losses import AdversarialLoss, gradient_penalty, r1_penalty
from ..nets import build_networks
from ..registry import LOSSES, RECIPES
from .base import Phase, Recipe, StepContext

BURST_FIRST, BURST_EVERY = 25, 500  # critic bursts: for the first 25 G steps and every 500th (WGAN's Diters)


class GANRecipe(Recipe):
    def __init__(self, G: nn.Module, D: nn.Module, loss: AdversarialLoss, cfg: LossConfig, reuse_fakes: bool,
                 num_classes: int = 0, conditional: str = "none", real_key: str = "image", pack: int = 1):
        super().__init__()
        self.real_key = real_key
        self.pack = pack
        self.nets = nn.ModuleDict({"G": G, "D": D})
        self.loss = loss
        self.cfg = cfg
        self.reuse_fakes = reuse_fakes
        self.conditional = conditional
        self.num_classes = num_classes if conditional != "none" else 0
        self.policy = parse_policy(cfg.augment)
        self.lazy_r1 = cfg.r1_gamma > 0 and cfg.r1_every > 1
        # without batch statistics in D, judging real and fake in one pass equals two passes, and is faster
        self.joint_d = not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
        # with reuse, the D phase that precedes a G phase builds G's graph and keeps its fakes
        self.D_then_G = Phase("D", "D", ("D", "G") if reuse_fakes else ("D",))
        self.D_only = Phase("D", "D", ("D",))
        self.D_reg = Phase("Dreg", "D", ("D",))
        self.G_phase = Phase("G", "G", ("G",))

    @property
    def G(self) -> nn.Module:
        return self.nets["G"]

    @property
    def D(self) -> nn.Module:
        return self.nets["D"]

    def _g_trains_after(self, step: int) -> bool:
        """Whether `step` ends a block of D steps, so that G trains in it (n_critic D steps per block; with
        critic_burst, blocks of that many for the first 25 G steps and every 500th, as the WGAN paper does)."""
        n, burst = self.cfg.n_critic, self.cfg.critic_burst
        if not burst:
            return (step + 1) % n == 0
        if step < BURST_FIRST * burst:
            return (step + 1) % burst == 0
        step -= BURST_FIRST * burst
        if step < (BURST_EVERY - BURST_FIRST) * n:  # ordinary blocks up to G step 500
            return (step + 1) % n == 0
        step = (step - (BURST_EVERY - BURST_FIRST) * n) % (burst + (BURST_EVERY - 1) * n)  # a burst, 499 blocks
        return step == burst - 1 if step < burst else (step - burst + 1) % n == 0

    def schedule(self, step: int) -> list[Phase]:
        g_step = self._g_trains_after(step)
        phases = [self.D_then_G if g_step else self.D_only]
        if self.lazy_r1 and step % self.cfg.r1_every == 0:
            phases.append(self.D_reg)
        if g_step:
            phases += [self.G_phase] * self.cfg.g_steps
        return phases

    # ------------------------------------------------------------ pieces

    def _labels(self, batch: dict, n: int, ctx: StepContext) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(labels of the real batch, labels drawn uniformly for the fakes), or (None, None) when unconditional."""
        if not self.num_classes:
            return None, None
        c_fake = ctx.randint(0, self.num_classes, n)
        return batch["label"], c_fake

    def _augment(self, x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        return diff_augment(x, self.policy, ctx) if self.policy else x

    def _pack(self, x: torch.Tensor) -> torch.Tensor:
        """PacGAN: D judges `pack` samples at once, stacked along the channel axis (identity when pack=1)."""
        if self.pack == 1:
            return x
        return x.reshape(len(x) // self.pack, self.pack * x.shape[1], *x.shape[2:])

    def _judge(self, x: torch.Tensor, c: torch.Tensor | None, ctx: StepContext):
        """D's logits (fp32) on augmented (and packed) x, and class logits for ACGAN."""
        x = self._pack(self._augment(x, ctx))
        if self.conditional == "acgan":
            logits, class_logits = self.D.forward_with_classes(x)
            return logits.float(), class_logits.float()
        return self.D(x, c).float(), None

    def _d_stats(self, logits_real: torch.Tensor, logits_fake: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.loss.probabilistic:
            return {"D(x)": torch.sigmoid(logits_real.detach()).mean(), "D(G(z))": torch.sigmoid(logits_fake.detach()).mean()}
        return {"D_real": logits_real.detach().mean(), "D_fake": logits_fake.detach().mean()}

    # ------------------------------------------------------------ phases

    def compute(self, phase: Phase, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        real = batch[self.real_key]  # [N, C, H, W] images or [N, 2] points
        if phase is self.D_reg:
            c_real, _ = self._labels(batch, len(real), ctx)
            r1 = r1_penalty(self.D, self._pack(real), c_real)
            return {"loss": 0.5 * self.cfg.r1_gamma * self.cfg.r1_every * r1, "r1": r1.detach()}
        if phase.name == "D":
            c_real, c_fake = self._labels(batch, len(real), ctx)
            fake = self.G(ctx.randn(len(real), self.G.z_dim), c_fake)
            if "G" in phase.grads:
                ctx.scratch["fake"] = (fake, c_fake)
            if self.joint_d:
                both = None if c_real is None else torch.cat([c_real, c_fake])
                logits, classes = self._judge(torch.cat([real, fake.detach()]), both, ctx)
                logits_real, logits_fake = logits.chunk(2)  # halves: real first (also when packed)
                classes_real, classes_fake = classes.chunk(2) if classes is not None else (None, None)
            else:
                logits_real, classes_real = self._judge(real, c_real, ctx)
                logits_fake, classes_fake = self._judge(fake.detach(), c_fake, ctx)
            loss = self.loss.d(logits_real, logits_fake)
            out = self._d_stats(logits_real, logits_fake)
            if self.cfg.gp_weight > 0:
                # one interpolation weight per D input (a sample, or a pack of samples), U[0, 1]
                real_in, fake_in = self._pack(real), self._pack(fake)
                gp = gradient_penalty(self.D, real_in, fake_in, ctx.rand(len(real_in)), c_real)
                loss = loss + self.cfg.gp_weight * gp
                out["gp"] = gp.detach()
            if self.cfg.r1_gamma > 0 and not self.lazy_r1:
                r1 = r1_penalty(self.D, self._pack(real), c_real)
                loss = loss + 0.5 * self.cfg.r1_gamma * r1
                out["r1"] = r1.detach()
            if classes_real is not None:
                aux = F.cross_entropy(classes_real, c_real) + F.cross_entropy(classes_fake, c_fake)
                loss = loss + self.cfg.acgan_weight * aux
                out["aux"] = aux.detach()
            return {"loss": loss, **out}
        if self.reuse_fakes and "fake" in ctx.scratch:
            fake, c_fake = ctx.scratch.pop("fake")
        else:
            _, c_fake = self._labels(batch, len(real), ctx)
            fake = self.G(ctx.randn(len(real), self.G.z_dim), c_fake)
        logits_fake, classes_fake = self._judge(fake, c_fake, ctx)
        loss = self.loss.g(logits_fake)
        if classes_fake is not None:
            loss = loss + self.cfg.acgan_weight * F.cross_entropy(classes_fake, c_fake)
        return {"loss": loss}

    @torch.no_grad()
    def after_phase(self, phase: Phase) -> None:
        if phase.trains == "D" and self.cfg.clip > 0:  # the original WGAN's Lipschitz constraint
            for p in self.D.parameters():
                p.clamp_(-self.cfg.clip, self.cfg.clip)

    # ------------------------------------------------------------ sampling

    def fixed_inputs(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        inputs = {"z": torch.randn(n, self.G.z_dim, generator=generator)}
        if self.num_classes:  # one class per grid row
            cols = math.ceil(math.sqrt(n))
            inputs["c"] = (torch.arange(n) // cols) % self.num_classes
        return inputs

    def sample(self, G: nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return G(inputs["z"], inputs.get("c"))


@RECIPES.register("gan", "GANs on images or points: any loss, penalties, n_critic, DiffAugment, PacGAN packing, "
                          "unconditional or conditional")
def build_gan(cfg: Config, data) -> GANRecipe:
    for key in ("n_critic", "g_steps", "r1_every"):
        if getattr(cfg.loss, key) < 1:
            raise GankitError(f"loss.{key} must be at least 1, got {getattr(cfg.loss, key)}")
    if cfg.loss.critic_burst < 0:
        raise GankitError(f"loss.critic_burst must be 0 (off) or more, got {cfg.loss.critic_burst}")
    if cfg.model.pack > 1:
        if cfg.train.batch_size % cfg.model.pack:
            raise GankitError(f"train.batch_size ({cfg.train.batch_size}) must be a multiple of model.pack ({cfg.model.pack})")
        if cfg.model.conditional != "none":
            raise GankitError("model.pack works with unconditional models only")
    G, D = build_networks(cfg.model, data.sample_shape, data.num_classes)
    return GANRecipe(G, D, LOSSES.get(cfg.loss.name), cfg.loss, cfg.train.reuse_fakes, data.num_classes,
                     cfg.model.conditional, data.key, cfg.model.pack)
