"""The `textgan` recipe: language GANs over token sequences, after maximum-likelihood pretraining.

Text is discrete, so D's gradient cannot flow into G's sampled tokens. `textgan.mode` picks the answer:
  mle     maximum likelihood (teacher forcing) for every step: the baseline a text GAN must beat, sampled at a
          temperature
  seqgan  SeqGAN (Yu et al. 2017, https://arxiv.org/abs/1609.05473): after MLE pretraining and D pretraining on
          real vs generated sequences, G follows the policy gradient of D's probability that its sequence is
          real, each token's reward estimated by Monte-Carlo rollouts of a delayed copy of G
  gumbel  RelGAN-style (Nie et al. 2019, https://openreview.net/forum?id=rJedV3R5tm): G's one-hot samples are
          relaxed by the straight-through Gumbel-softmax, softmax(beta (logits + g)), with the inverse temperature
          beta annealed from 1 to beta_max (exponentially), and D reads the soft one-hots directly
Phases: `mle` (G), `D`, `pg` (SeqGAN's G), `gumbel` (RelGAN's G). The step number in the context drives the
schedule and the temperature; the rollout network is a net of the recipe, so checkpoints keep it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import Config, OptimGroup, ranged
from ..draws import Draws
from ..errors import GankitError
from ..nets.text import PAD, TEXT_CRITICS, TEXT_GENERATORS, check_vocab, token_mask
from ..registry import LOSSES, RECIPES
from .base import Batch, OptimSpec, Phase, Recipe, StepContext

MODES = ("mle", "seqgan", "gumbel")


@dataclass
class TextGANOptions:
    mode: str = ranged("gumbel", choices=MODES)  # mle (the baseline), seqgan (policy gradient), gumbel (RelGAN)
    generator: str = "lstm"        # text generator (`gankit list`); its options are the section of that name
    discriminator: str = "cnn"     # text discriminator; its options are the section of that name
    pretrain_steps: int = ranged(2000, low=0)   # MLE steps before the adversarial ones
    d_pretrain_steps: int = ranged(500, low=0)  # seqgan: D steps on real vs generated before the policy gradient
    d_steps: int = ranged(1, low=1, high=100)   # D phases per adversarial step
    rollouts: int = ranged(16, low=1, high=256)  # seqgan: Monte-Carlo rollouts per token (SeqGAN: 16)
    rollout_update: float = ranged(0.8, low=0, high=1)  # seqgan: rollout net <- r * itself + (1 - r) * G (SeqGAN: 0.8)
    beta_max: float = ranged(100.0, low=1)      # gumbel: the final inverse temperature (RelGAN: 100 or 1000)
    loss: str = "relativistic"     # relativistic (RSGAN, RelGAN's) or a registered loss (`gankit list`)
    mle_weight: float = ranged(0.0, low=0)      # adversarial steps: also this much MLE (0 = pure GAN steps)
    temperature: float = ranged(1.0, low=0.01, high=100)  # sampling temperature of results (grids, eval, sample)


def relativistic(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """RSGAN: E[softplus(-(D(real) - D(fake)))]: the loss of believing `real` more real than `fake`."""
    return F.softplus(-(real - fake)).mean()


@RECIPES.register("textgan", "text GANs on token sequences: MLE, SeqGAN (policy gradient), Gumbel-softmax (RelGAN)",
                  options=TextGANOptions)
class TextGANRecipe(Recipe):
    Options = TextGANOptions
    # G's maximum-likelihood steps and its adversarial ones have separate optimizers (rates and Adam moments), as
    # RelGAN's pretraining (1e-2) and adversarial (1e-4) rates differ by 100x
    OPTIMIZERS = {"G": OptimGroup(lr=1e-3, beta1=0.9), "G_adv": OptimGroup(lr=1e-4, beta1=0.9),
                  "D": OptimGroup(lr=1e-4, beta1=0.9)}
    exported = ("G",)
    outputs = {"tokens": "tokens"}
    main_output = "tokens"
    flush_denormals = True  # Gumbel-softmax one-hots are full of 1e-40s, which make D's embedding matmul 3x slower

    @classmethod
    def sections(cls, options: TextGANOptions) -> dict[str, type]:
        return {options.generator: TEXT_GENERATORS.options(options.generator),
                options.discriminator: TEXT_CRITICS.options(options.discriminator)}

    @classmethod
    def check(cls, cfg: Config, data) -> None:
        field = data.fields.get("tokens")
        if field is None or field.kind != "tokens" or "vocab" not in data.info:
            raise GankitError(f"the textgan recipe needs token sequences with a vocabulary (datasets tang-poems, "
                              f"names, oracle); '{data.name}' has fields {', '.join(data.fields)}")
        if cfg.textgan.loss != "relativistic":
            LOSSES.get(cfg.textgan.loss)

    def __init__(self, cfg: Config, data):
        super().__init__(cfg)
        self.check(cfg, data)
        o = self.options = cfg.textgan
        self.vocab_size, self.eos = len(data.info["vocab"]), data.info.get("eos")
        check_vocab(self.vocab_size)
        self.length = data.fields["tokens"].shape[0]
        G = TEXT_GENERATORS.get(o.generator)(cfg.parts[o.generator], self.vocab_size)
        D = TEXT_CRITICS.get(o.discriminator)(cfg.parts[o.discriminator], self.vocab_size, self.length)
        self.nets = nn.ModuleDict({"G": G, "D": D})
        if o.mode == "seqgan":
            self.nets["rollout"] = copy.deepcopy(G)  # the delayed copy that completes sequences for rewards
        self.phases = {name: Phase(name, opt, (net,)) for name, opt, net in
                       (("mle", "G", "G"), ("D", "D", "D"), ("pg", "G_adv", "G"), ("gumbel", "G_adv", "G"))}

    def optimizers(self) -> dict[str, OptimSpec]:
        return {"G": self.group("G", ("G",)), "G_adv": self.group("G_adv", ("G",)), "D": self.group("D", ("D",))}

    def schedule(self, step: int) -> list[Phase]:
        o, p = self.options, self.phases
        if o.mode == "mle" or step < o.pretrain_steps:
            return [p["mle"]]
        if o.mode == "seqgan":
            if step < o.pretrain_steps + o.d_pretrain_steps:
                return [p["D"]]
            return [p["pg"]] + [p["D"]] * o.d_steps
        return [p["D"]] * o.d_steps + [p["gumbel"]]

    # ------------------------------------------------------------ pieces

    def beta(self, step: int) -> float:
        """RelGAN's exponential schedule: beta_max ** (i / N) over the N adversarial steps (1 at their start)."""
        o = self.options
        adversarial = max(1, self.cfg.train.steps - o.pretrain_steps)
        return o.beta_max ** (min(max(step - o.pretrain_steps, 0), adversarial) / adversarial)

    def fakes(self, ctx: StepContext, n: int) -> torch.Tensor:
        """n sequences from G, sampled at temperature 1 (what the policy gradient and D's negatives need)."""
        with torch.no_grad():
            return self.nets["G"].sample(ctx.rand(n, self.length), eos=self.eos)

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        if self.options.loss == "relativistic":
            return relativistic(real, fake)
        return LOSSES.get(self.options.loss).d(real, fake)

    def rewards(self, samples: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """SeqGAN's rewards [N, L]: for each prefix length t < L, D's mean probability that the sequence is real
        over `rollouts` completions of the prefix by the rollout net; at t = L, D's probability of the sample."""
        o, n, length = self.options, len(samples), self.length
        rollout, D = self.nets["rollout"], self.nets["D"]
        out = torch.zeros(n, length, device=samples.device)
        D.eval()  # rewards without dropout, as SeqGAN's
        try:
            with torch.no_grad():
                for t in range(1, length):
                    prefix = samples[:, :t].repeat(o.rollouts, 1)                        # [R * N, t]
                    done = rollout.sample(ctx.rand(len(prefix), length), prefix=prefix, eos=self.eos)
                    out[:, t - 1] = torch.sigmoid(D(done)).view(o.rollouts, n).mean(0)
                out[:, -1] = torch.sigmoid(D(samples))
        finally:
            D.train()
        return out

    # ------------------------------------------------------------ phases

    def mle_loss(self, tokens: torch.Tensor) -> torch.Tensor:
        nll, count = self.nets["G"].nll(tokens, self.eos)
        return nll.sum() / count.sum()

    def phase_mle(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        loss = self.mle_loss(batch["tokens"])
        return {"loss": loss, "nll": loss.detach()}

    def phase_D(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        real = batch["tokens"]
        D = self.nets["D"]
        if self.options.mode == "gumbel":  # D reads G's relaxed samples (and real ids: the same as their one-hots)
            with torch.no_grad():
                _, soft = self.gumbel_samples(len(real), ctx, self.beta(ctx.step))
            logits_real, logits_fake = D(real), D(soft)
        else:
            logits_real, logits_fake = D(real), D(self.fakes(ctx, len(real)))
        return {"loss": self.d_loss(logits_real.float(), logits_fake.float()),
                "D_real": logits_real.detach().mean(), "D_fake": logits_fake.detach().mean()}

    def phase_pg(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        samples = self.fakes(ctx, len(batch["tokens"]))
        rewards = self.rewards(samples, ctx)
        G = self.nets["G"]
        logp = G.log_likelihoods(samples)
        mask = token_mask(samples, self.eos)
        loss = -(logp * rewards * mask).sum() / mask.sum()
        if self.options.mle_weight:
            loss = loss + self.options.mle_weight * self.mle_loss(batch["tokens"])
        return {"loss": loss, "reward": (rewards * mask).sum().detach() / mask.sum()}

    def gumbel_samples(self, n: int, ctx: StepContext, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
        """G's straight-through Gumbel-softmax samples: ids [n, L] and soft one-hots [n, L, V], the soft ones
        replaced by the PAD one-hot after each sequence's end (as real sequences are padded)."""
        hard, soft = self.nets["G"].gumbel_sample(ctx.rand(n, self.length, self.vocab_size), beta)
        mask = token_mask(hard, self.eos).unsqueeze(2)
        pad = torch.tensor([PAD], device=hard.device)
        return hard, (soft * mask).index_add(2, pad, 1 - mask)

    def phase_gumbel(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        real = batch["tokens"]
        D = self.nets["D"]
        _, soft = self.gumbel_samples(len(real), ctx, self.beta(ctx.step))
        logits_fake = D(soft).float()
        if self.options.loss == "relativistic":
            loss = relativistic(logits_fake, D(real).float())
        else:
            loss = LOSSES.get(self.options.loss).g(logits_fake)
        if self.options.mle_weight:
            loss = loss + self.options.mle_weight * self.mle_loss(real)
        return {"loss": loss, "beta": torch.tensor(self.beta(ctx.step))}

    def after_phase(self, phase: Phase, ctx: StepContext) -> None:
        if phase.name == "pg":  # SeqGAN: the rollout net follows G with a delay
            r = self.options.rollout_update
            with torch.no_grad():
                for mine, g in zip(self.nets["rollout"].parameters(), self.nets["G"].parameters()):
                    mine.mul_(r).add_(g, alpha=1 - r)

    # ------------------------------------------------------------ results

    def fixed_inputs(self, n: int, data, draws: Draws) -> Batch:
        return self.noise_inputs(n, draws)

    def noise_inputs(self, n: int, draws: Draws, labels: torch.Tensor | None = None) -> Batch:
        """One uniform per position: the random numbers each sample's tokens are drawn with."""
        return {"u": draws.rand(n, self.length)}

    def eval_inputs(self, n: int, data, draws: Draws, start: int = 0) -> Batch:
        """Noise for n samples, and held-out sequences start, start + 1, ... (cycling) for G's likelihood."""
        held_out = self.test_split()
        index = torch.arange(start, start + n) % len(held_out)
        return {**self.noise_inputs(n, draws), "held_out": held_out.batch(index)["tokens"].to(draws.device)}

    def example_inputs(self, n: int, fields) -> Batch:
        raise GankitError("text models sample token by token in a loop; they are not exported to ONNX")

    def generate(self, nets: Mapping[str, nn.Module], inputs: Batch, temperature: float | None = None,
                 prefix: torch.Tensor | None = None, **options) -> Batch:
        """{"tokens": samples [N, L]} at `temperature` (default textgan.temperature), each starting with `prefix`
        (ids [T]) when given; with held-out inputs also "held_out_nll" and "held_out_count" (the summed negative
        log-likelihood of each held-out sequence under G at that temperature, and its token count)."""
        G = nets["G"]
        u = inputs["u"]
        temperature = temperature or self.options.temperature
        starts = prefix.to(u.device).expand(len(u), -1) if prefix is not None else None
        out = {"tokens": G.sample(u, temperature=temperature, prefix=starts, eos=self.eos)}
        if "held_out" in inputs:  # the likelihood of the model as sampled: at the same temperature
            nll, count = G.nll(inputs["held_out"], self.eos, temperature)
            out["held_out_nll"], out["held_out_count"] = nll, count
        return out
