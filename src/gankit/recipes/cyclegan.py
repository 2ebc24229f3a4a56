"""The `cyclegan` recipe: image-to-image translation between two domains without paired examples (Zhu et al. 2017,
https://arxiv.org/abs/1703.10593).

G_ab maps domain A to B and G_ba back; D_a and D_b judge single images of their domain. G's loss: the
adversarial loss of both directions (least squares by default, as the paper's), plus `lambda_cycle` times the
cycle loss |G_ba(G_ab(a)) - a| + |G_ab(G_ba(b)) - b| and `identity` x lambda_cycle times the identity loss
|G_ab(b) - b| + |G_ba(a) - a| (the paper: 10 and 0.5 x 10). D learns from a history of G's images: a pool of
`pool_size` (50) past translations per domain, each query answered half the time by a stored image (which the
new one replaces). The pools are buffers of the recipe, so checkpoints keep them and resume is exact.

`semantic` > 0 adds CyCADA's semantic-consistency loss (Hoffman et al. 2018, https://arxiv.org/abs/1711.03213):
a frozen classifier of each source domain (`classifier_a`, `classifier_b`: bundled classifiers, `gankit list`)
must read a translation as it read the original, CE(C_a(G_ab(a)), argmax C_a(a)) + CE(C_b(G_ba(b)), argmax
C_b(b)). It uses the classifiers' own readings, never the data's labels, and each direction is judged by the
*other* domain's classifier, so the evaluation's classifier of a direction is not the one that trained it.
`coach_b` (`coach_a`) adds a classifier of the *target* domain that must read G_ab(a) as C_a read a: it knows
how the target domain writes each class, which the source classifier does not ask for. It must be another
network than the one that judges that direction (classifier_b), and it brings the target domain's training
labels in through its own training.

Optimizers: one over both generators (their losses are one sum, as in the paper) and one over both
discriminators: D_a's and D_b's losses touch disjoint parameters and Adam works per parameter, so one optimizer
over both steps exactly as two with the same settings would, with half the bookkeeping. Rates stay constant,
then fall linearly to zero from `optim.decay_from` (the presets: halfway, as the paper's 100 + 100 epochs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn as nn

from ..augment import diff_augment, parse_policy
from ..config import Config, OptimGroup, ranged
from ..draws import Draws
from ..errors import GankitError
from ..nets.translator import PAIR_CRITICS, TRANSLATORS, TranslatorSpec
from ..nets.classifiers import BUNDLED, bundled_classifier
from ..registry import LOSSES, RECIPES
from .base import Batch, OptimSpec, Phase, Recipe, StepContext


@dataclass
class CycleGANOptions:
    generator: str = "unet"          # translator network for G_ab and G_ba (`gankit list`); CycleGAN's: unet.skips=false
    discriminator: str = "patchgan"  # D_a and D_b (one image each, not pairs)
    loss: str = "least-squares"      # adversarial loss (`gankit list`); the paper's is least squares
    lambda_cycle: float = ranged(10.0, low=0)  # weight of the cycle loss (paper: 10); 0 = no cycle (the ablation)
    identity: float = ranged(0.5, low=0)       # identity loss weight as a fraction of lambda_cycle (paper: 0.5)
    pool_size: int = ranged(50, low=0, high=10000)  # past translations D learns from (paper: 50; 0 = none)
    augment: str = ""                # DiffAugment policy for every image D_a and D_b see, e.g. "translation"
    semantic: float = ranged(0.0, low=0)  # weight of CyCADA's semantic-consistency loss (0 = plain CycleGAN)
    classifier_a: str = "mnist"      # frozen classifier of domain A for the semantic loss (a bundled extractor)
    classifier_b: str = "digits8-boxed"  # ... of domain B
    coach_a: str = ""  # a classifier of domain A that must read G_ba(b) as classifier_b read b ("" = none)
    coach_b: str = ""  # a classifier of domain B that must read G_ab(a) as classifier_a read a ("" = none)


def semantic_classifier(name: str, key: str, shape, role: str = "classifier") -> str:
    """`name` after checking that it is a bundled classifier that reads domain `key`'s images of `shape`."""
    if name not in BUNDLED:
        raise GankitError(f"cyclegan.{role}_{key}: '{name}' is not a bundled classifier; the semantic loss "
                          f"needs one that gives class logits ({', '.join(BUNDLED)})")
    side = BUNDLED[name][3]
    if tuple(shape) != (1, side, side):
        raise GankitError(f"cyclegan.{role}_{key}: '{name}' reads 1 x {side} x {side} images, "
                          f"domain {key} has {' x '.join(map(str, shape))}")
    return name


def frozen_classifier(name: str) -> nn.Module:
    with torch.device("cpu"):  # real weights even while build_recipe probes sizes on the meta device
        net, _ = bundled_classifier(name)
    return net.requires_grad_(False)


def image_field(fields: Mapping, key: str, name: str):
    field = fields.get(key)
    if field is None or field.kind != "image":
        raise GankitError(f"the cyclegan recipe needs two image domains, fields a and b (datasets digit-styles, "
                          f"glyph-styles); '{name}' has fields {', '.join(fields)}")
    return field


@RECIPES.register("cyclegan", "unpaired image-to-image: two generators, two discriminators, cycle and identity losses",
                  options=CycleGANOptions)
class CycleGANRecipe(Recipe):
    Options = CycleGANOptions
    OPTIMIZERS = {"G": OptimGroup(beta1=0.5), "D": OptimGroup(beta1=0.5)}
    exported = ("G_ab", "G_ba")
    outputs = {"a": "image", "fake_b": "image", "rec_a": "image", "b": "image", "fake_a": "image", "rec_b": "image"}
    main_output = "fake_b"
    translates = True

    @classmethod
    def sections(cls, options: CycleGANOptions) -> dict[str, type]:
        return {options.generator: TRANSLATORS.options(options.generator),
                options.discriminator: PAIR_CRITICS.options(options.discriminator)}

    @classmethod
    def check(cls, cfg: Config, data) -> None:
        name = getattr(data, "name", "")
        a, b = image_field(data.fields, "a", name), image_field(data.fields, "b", name)
        if a.shape[-1] != b.shape[-1]:
            raise GankitError(f"the cyclegan recipe needs domains of one size; a is {a.shape[-1]} px, b {b.shape[-1]} px")
        if cfg.cyclegan.identity > 0 and a.shape[0] != b.shape[0]:
            raise GankitError(f"the identity loss compares G_ab(b) with b, so it needs domains with as many channels "
                              f"(a has {a.shape[0]}, b {b.shape[0]}): set cyclegan.identity=0")
        LOSSES.get(cfg.cyclegan.loss)
        parse_policy(cfg.cyclegan.augment)
        o = cfg.cyclegan
        if (o.coach_a or o.coach_b) and o.semantic <= 0:
            raise GankitError("cyclegan.coach_a and coach_b are terms of the semantic loss: set cyclegan.semantic > 0")
        if o.semantic > 0:
            for key, field in (("a", a), ("b", b)):
                semantic_classifier(getattr(o, f"classifier_{key}"), key, field.shape)
                coach = getattr(o, f"coach_{key}")
                if coach:
                    semantic_classifier(coach, key, field.shape, "coach")
                    if coach == getattr(o, f"classifier_{key}"):
                        raise GankitError(f"cyclegan.coach_{key}: '{coach}' is already classifier_{key}; a coach "
                                          "must be another network")

    def __init__(self, cfg: Config, data):
        super().__init__(cfg)
        self.check(cfg, data)
        o = self.options = cfg.cyclegan
        a, b = data.fields["a"].shape, data.fields["b"].shape  # [C, S, S]
        side = a[-1]
        gen, critic = TRANSLATORS.get(o.generator), PAIR_CRITICS.get(o.discriminator)
        g_opts, d_opts = cfg.parts[o.generator], cfg.parts[o.discriminator]
        self.nets = nn.ModuleDict({"G_ab": gen(g_opts, TranslatorSpec(a[0], b[0], side, side)),
                                   "G_ba": gen(g_opts, TranslatorSpec(b[0], a[0], side, side)),
                                   "D_a": critic(d_opts, a[0], side), "D_b": critic(d_opts, b[0], side)})
        self.loss = LOSSES.get(o.loss)
        self.policy = parse_policy(o.augment)
        # the history pools: buffers, so that checkpoints keep them (a count of images stored so far, each)
        for key, shape in (("a", a), ("b", b)):
            self.register_buffer(f"pool_{key}", torch.zeros(o.pool_size, *shape))
            self.register_buffer(f"pool_{key}_count", torch.zeros((), dtype=torch.long))
        # the semantic loss's classifiers: frozen, and in a plain dict, so no optimizer or checkpoint holds them
        self.classifiers = {key: frozen_classifier(getattr(o, f"classifier_{key}"))
                            for key in ("a", "b")} if o.semantic > 0 else {}
        self.coaches = {key: frozen_classifier(getattr(o, f"coach_{key}"))
                        for key in ("a", "b") if o.semantic > 0 and getattr(o, f"coach_{key}")}
        self.G_phase = Phase("G", "G", ("G_ab", "G_ba"))
        self.D_phase = Phase("D", "D", ("D_a", "D_b"))

    def optimizers(self) -> dict[str, OptimSpec]:
        return {"G": self.group("G", ("G_ab", "G_ba")), "D": self.group("D", ("D_a", "D_b"))}

    def schedule(self, step: int) -> list[Phase]:
        return [self.G_phase, self.D_phase]

    # ------------------------------------------------------------ pieces

    def from_pool(self, key: str, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """The images D learns from in place of `images` (detached), by the paper's history pool: while it fills,
        each new image is stored and used; after, each is used as is or (probability 1/2) swapped with a random
        stored one, which it replaces."""
        size = self.options.pool_size
        if size == 0:
            return images
        # the pool sees the global batch, so that every process keeps the same pool and N processes train as one
        images = ctx.dist.gather(images)
        pool, count = getattr(self, f"pool_{key}"), getattr(self, f"pool_{key}_count")
        out = images.clone()
        whole = ctx.whole()
        u, slot = whole.rand(len(images)), whole.randint(0, size, len(images))
        for i in range(len(images)):  # a batch is a few dozen images: the loop is cheap and reads plainly
            if count < size:
                pool[count] = images[i]
                count += 1
            elif u[i] < 0.5:
                j = int(slot[i])
                out[i] = pool[j]
                pool[j] = images[i]
        return ctx.dist.shard(out)

    def semantic_loss(self, source: torch.Tensor, translated: torch.Tensor, key: str, target: str) -> torch.Tensor:
        """Cross-entropy of the source domain's classifier on the translation against its reading of the source,
        plus that of the target domain's coach, if any."""
        net = self.classifiers[key].to(source.device)
        with torch.no_grad():
            reading = net(source)[1].argmax(1)
        loss = nn.functional.cross_entropy(net(translated)[1].float(), reading)
        if target in self.coaches:
            coach = self.coaches[target].to(source.device)
            loss = loss + nn.functional.cross_entropy(coach(translated)[1].float(), reading)
        return loss

    def judge(self, key: str, images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        """D_key's logits (fp32) on the images, augmented by the DiffAugment policy (if any)."""
        return self.nets[f"D_{key}"](diff_augment(images, self.policy, ctx)).float()

    # ------------------------------------------------------------ phases

    def phase_G(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        o, nets = self.options, self.nets
        a, b = batch["a"], batch["b"]
        fake_b, fake_a = nets["G_ab"](a), nets["G_ba"](b)
        adversarial = self.loss.g(self.judge("b", fake_b, ctx)) + self.loss.g(self.judge("a", fake_a, ctx))
        cycle = (nets["G_ba"](fake_b) - a).abs().mean() + (nets["G_ab"](fake_a) - b).abs().mean()
        loss = adversarial + o.lambda_cycle * cycle
        out = {"adversarial": adversarial.detach(), "cycle": cycle.detach()}
        if o.identity > 0:
            identity = (nets["G_ab"](b) - b).abs().mean() + (nets["G_ba"](a) - a).abs().mean()
            loss = loss + o.identity * o.lambda_cycle * identity
            out["identity"] = identity.detach()
        if o.semantic > 0:
            semantic = self.semantic_loss(a, fake_b, "a", "b") + self.semantic_loss(b, fake_a, "b", "a")
            loss = loss + o.semantic * semantic
            out["semantic"] = semantic.detach()
        ctx.scratch["fakes"] = (fake_a.detach(), fake_b.detach())  # D's phase of this step judges these
        return {"loss": loss, **out}

    def phase_D(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        nets = self.nets
        if "fakes" in ctx.scratch:
            fake_a, fake_b = ctx.scratch.pop("fakes")
        else:
            with torch.no_grad():
                fake_a, fake_b = nets["G_ba"](batch["b"]), nets["G_ab"](batch["a"])
        out, total = {}, 0.0
        for key, fake in (("a", fake_a), ("b", fake_b)):
            real_logits, fake_logits = self.judge(key, batch[key], ctx), self.judge(key, self.from_pool(key, fake, ctx), ctx)
            total = total + 0.5 * self.loss.d(real_logits, fake_logits)  # halved, as the paper slows D so
            out[f"D_{key}_real"], out[f"D_{key}_fake"] = real_logits.detach().mean(), fake_logits.detach().mean()
        return {"loss": total, **out}

    # ------------------------------------------------------------ results

    def fixed_inputs(self, n: int, data, draws: Draws) -> Batch:
        return self.eval_inputs(n, data, draws)

    def eval_inputs(self, n: int, data, draws: Draws, start: int = 0) -> Batch:
        """Held-out examples start, start + 1, ... of A (cycling), each with its B partner."""
        return self.held_out_inputs(n, draws, start)

    def example_inputs(self, n: int, fields) -> Batch:
        return {k: torch.zeros(n, *fields[k].shape) for k in ("a", "b")}

    def generate(self, nets: Mapping[str, nn.Module], inputs: Batch, **options) -> Batch:
        """Each direction whose domain is in the inputs: a -> fake_b -> rec_a, b -> fake_a -> rec_b; labels and
        text pass through (what the protocols judge by)."""
        out = {}
        for src, dst in (("a", "b"), ("b", "a")):
            if src in inputs:
                fake = nets[f"G_{src}{dst}"](inputs[src])
                out.update({src: inputs[src], f"fake_{dst}": fake, f"rec_{src}": nets[f"G_{dst}{src}"](fake)})
        if not out:
            raise GankitError("a CycleGAN translates images of domain a or b; the inputs hold neither")
        for key in ("a_label", "b_label", "text"):
            if key in inputs:
                out[key] = inputs[key]
        return out
