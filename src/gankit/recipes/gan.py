"""The `gan` recipe: GANs on images (or 2-D points), unconditional or class-conditional, any loss and penalty.

Phases per step: D (adversarial loss on real images and detached fakes, plus gradient penalty or R1),
Dreg (lazy R1, every r1_every steps), and G (every n_critic steps, or after a critic burst; g_steps times
in a row). With `reuse_fakes` the first G phase back-propagates through the fakes its step's D phase made
(one G forward per step, as pytorch/examples' DCGAN does); other G phases draw fresh noise, as the
tutorial's Keras loop does.
Conditional: 'projection' feeds labels to G (class-conditional BatchNorm) and D (projection); 'acgan' feeds
them to G and trains D to classify (Odena et al. 2017). Fakes get labels drawn uniformly.
Self-conditioning (`clusters`): k-means clusters of the training data (within each class when conditional)
stand in for labels: G and D are conditioned (projection) on the cluster, fakes draw clusters as often as the
data holds them, and so do samples; the user's labels stay the classes (gankit.clusters).

With a style-based G (net: stylegan2) the recipe does what StyleGAN2 trains with: style mixing (two w's, the
second from a random layer on), the path-length penalty (phase Greg, every pl_every steps, on half a batch),
the running mean of w that truncation pulls towards (G's mapping.w_avg), and per-pixel noise drawn from the
step's draws. Lazy regularisation scales the regularised optimizer's rate and betas (lazy_scaling).
`ada` turns on adaptive discriminator augmentation (gankit.ada) for every image D sees.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..ada import AdaptiveAugment, parse_pipeline
from ..augment import diff_augment, parse_policy
from ..clusters import MAX_FIT, distances, kmeans, nearest
from ..config import Config, OptimGroup, ranged
from ..draws import Draws
from ..errors import GankitError
from ..limits import check_memory
from ..losses import gradient_penalty, r1_penalty
from ..nets import PairSpec, build_pair
from ..nets.layers import CONDITIONAL_MODES
from ..nets.stylegan2 import check_truncation
from ..registry import LOSSES, NETWORKS, RECIPES
from .base import Batch, OptimSpec, Phase, Recipe, StepContext

BURST_FIRST, BURST_EVERY = 25, 500  # critic bursts: for the first 25 G steps and every 500th (WGAN's Diters)
SAMPLE_KINDS = ("image", "points")  # the data fields a GAN learns to imitate


@dataclass
class GANOptions:
    net: str = "dcgan"             # network family of G and D (`gankit list`); its options are the section of that name
    z_dim: int = ranged(100, low=1, high=4096)  # latent size
    conditional: str = ranged("none", choices=CONDITIONAL_MODES)  # projection: cBN G + projection D; acgan
    clusters: int = ranged(0, low=0, high=1000)  # self-conditioning on this many k-means clusters (per class); 0 = off
    pack: int = ranged(1, low=1, high=64)  # PacGAN: D judges this many samples jointly
    loss: str = "non-saturating"   # adversarial loss (`gankit list`)
    gp_weight: float = ranged(0.0, low=0)  # WGAN-GP gradient penalty weight lambda (10 in the paper; 0 = off)
    r1_gamma: float = ranged(0.0, low=0)   # R1 penalty weight gamma: adds gamma/2 E||grad D(x)||^2 (0 = off)
    r1_every: int = ranged(1, low=1)       # lazy R1: apply every N steps, scaled by N
    clip: float = ranged(0.0, low=0)       # clip D's weights to [-clip, clip] after each D step (original WGAN; 0 = off)
    n_critic: int = ranged(1, low=1, high=1000)  # D steps per G step
    critic_burst: int = ranged(0, low=0, high=10000)  # D steps per G step for the first 25 G steps and every 500th (WGAN: 100)
    g_steps: int = ranged(1, low=1, high=100)  # G steps per G phase (PacGAN's DCGAN code runs 2, so that D does not win)
    reuse_fakes: bool = True       # the first G phase reuses its step's D-phase fakes instead of drawing new ones
    augment: str = ""              # DiffAugment policy for every image D sees, e.g. "color,translation,cutout"
    acgan_weight: float = ranged(1.0, low=0)  # weight of the auxiliary classification loss (conditional=acgan)
    lazy_scaling: bool = True      # lazy regularisation scales its optimizer's rate and betas by N / (N + 1) (StyleGAN2)
    ada: str = ""                  # adaptive discriminator augmentation: pipeline "bgc" (or b, bg, ...); "" = off
    ada_target: float = ranged(0.6, low=0, high=1)  # ADA's target for r_t = E[sign D(real)] (paper: 0.6)
    ada_interval: int = ranged(4, low=1, high=10000)  # steps between adjustments of p
    ada_kimg: float = ranged(500.0, low=0.001)  # p can move from 0 to 1 in this many thousand images (paper: 500)
    style_mixing: float = ranged(0.0, low=0, high=1)  # probability of mixing two w's per batch (StyleGAN2: 0.9)
    pl_weight: float = ranged(0.0, low=0)  # path-length penalty weight (StyleGAN2: 2; 0 = off)
    pl_every: int = ranged(4, low=1, high=1000)  # lazy path-length penalty interval (paper: 4)
    pl_decay: float = ranged(0.01, low=0, high=1)  # rate of the running mean path length
    w_avg_beta: float = ranged(0.995, low=0, high=1)  # decay of the tracked mean w (truncation's centre)


@RECIPES.register("gan", "GANs on images or points: any loss, penalties, n_critic, DiffAugment, PacGAN packing, "
                         "unconditional or conditional", options=GANOptions)
class GANRecipe(Recipe):
    Options = GANOptions
    OPTIMIZERS = {"G": OptimGroup(), "D": OptimGroup()}
    averaged = ("G",)
    exported = ("G",)

    @classmethod
    def sections(cls, options: GANOptions) -> dict[str, type]:
        return {options.net: NETWORKS.options(options.net)}

    @classmethod
    def check(cls, cfg: Config, data) -> None:
        o = cfg.gan  # ranges are checked with the config; here what depends on other sections and the data
        if o.pack > 1:
            if cfg.train.batch_size % o.pack:
                raise GankitError(f"train.batch_size ({cfg.train.batch_size}) must be a multiple of gan.pack ({o.pack})")
            if o.conditional != "none":
                raise GankitError("gan.pack works with unconditional models only")
        kinds = [key for key, f in data.fields.items() if f.kind in SAMPLE_KINDS]
        if len(kinds) != 1:
            raise GankitError(f"the gan recipe learns one field of kind {' or '.join(SAMPLE_KINDS)}; dataset "
                              f"'{data.name}' has {', '.join(f'{k} ({f.kind})' for k, f in data.fields.items())}")
        if o.clusters:
            if o.conditional == "acgan":
                raise GankitError("gan.clusters works with gan.conditional=none or projection, not acgan (set gan.clusters=0)")
            if o.pack > 1:
                raise GankitError("gan.clusters works with gan.pack=1 (set gan.clusters=0 to pack)")
            if getattr(data, "crop", 0):
                raise GankitError("gan.clusters clusters whole examples; it does not work with data.crop (set gan.clusters=0)")
        if o.ada:
            parse_pipeline(o.ada)
            if o.pack > 1:
                raise GankitError("gan.ada works with gan.pack=1 (it augments single images)")
            if data.fields[kinds[0]].kind != "image":
                raise GankitError(f"gan.ada augments images; dataset '{data.name}' has {data.fields[kinds[0]].kind}")

    def __init__(self, cfg: Config, data):
        super().__init__(cfg)
        self.check(cfg, data)
        o = self.options = cfg.gan
        self.real_key = next(key for key, f in data.fields.items() if f.kind in SAMPLE_KINDS)
        self.outputs = {"fake": data.fields[self.real_key].kind}
        self.pack = o.pack
        self.conditional = o.conditional
        self._num_classes = data.num_classes if o.conditional != "none" else 0
        self.clusters = o.clusters
        if o.clusters:  # the nets see (class, cluster) pairs, numbered class * clusters + cluster
            groups = max(self._num_classes, 1)
            spec = PairSpec(o.z_dim, data.fields[self.real_key].shape, groups * o.clusters, "projection", o.pack)
        else:
            spec = PairSpec(o.z_dim, data.fields[self.real_key].shape, data.num_classes, o.conditional, o.pack)
        G, D = build_pair(o.net, cfg.parts[o.net], spec)
        self.nets = nn.ModuleDict({"G": G, "D": D})
        if o.clusters:
            self._init_clusters(data, cfg.train.seed)
        self.styled = hasattr(G, "mapping") and hasattr(G, "synthesis")  # a style-based G: w, mixing, path length
        if (o.style_mixing > 0 or o.pl_weight > 0) and not self.styled:
            raise GankitError(f"gan.style_mixing and gan.pl_weight need a style-based generator (gan.net=stylegan2), "
                              f"not '{o.net}'")
        self.ada = AdaptiveAugment(o.ada, o.ada_target, o.ada_interval, o.ada_kimg) if o.ada else None
        if o.pl_weight > 0:
            self.register_buffer("pl_mean", torch.zeros(()))  # running mean path length, checkpointed
        self.loss = LOSSES.get(o.loss)
        self.reuse_fakes = o.reuse_fakes
        self.policy = parse_policy(o.augment)
        self.lazy_r1 = o.r1_gamma > 0 and o.r1_every > 1
        # without batch statistics in D, judging real and fake in one pass equals two passes, and is faster
        # (nor across samples: minibatch std would mix real and fake in one group)
        self.joint_d = not any(isinstance(m, nn.modules.batchnorm._BatchNorm) or getattr(m, "couples_batch", False)
                               for m in D.modules())
        # with reuse, the D phase that precedes a G phase builds G's graph and keeps its fakes
        self.D_then_G = Phase("D", "D", ("D", "G") if o.reuse_fakes else ("D",))
        self.D_only = Phase("D", "D", ("D",))
        self.D_reg = Phase("Dreg", "D", ("D",))
        self.G_phase = Phase("G", "G", ("G",))
        self.G_reg = Phase("Greg", "G", ("G",))

    def optimizers(self) -> dict[str, OptimSpec]:
        o = self.options
        lazy = o.lazy_scaling
        g_every = o.pl_every if (lazy and o.pl_weight > 0) else 1
        d_every = o.r1_every if (lazy and self.lazy_r1) else 1
        return {"G": self.group("G", ("G",), g_every), "D": self.group("D", ("D",), d_every)}

    @property
    def num_classes(self) -> int:
        return self._num_classes

    @property
    def G(self) -> nn.Module:
        return self.nets["G"]

    @property
    def D(self) -> nn.Module:
        return self.nets["D"]

    def _g_trains_after(self, step: int) -> bool:
        """Whether `step` ends a block of D steps, so that G trains in it (n_critic D steps per block; with
        critic_burst, blocks of that many for the first 25 G steps and every 500th, as the WGAN paper does)."""
        n, burst = self.options.n_critic, self.options.critic_burst
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
        if self.lazy_r1 and step % self.options.r1_every == 0:
            phases.append(self.D_reg)
        if g_step:
            phases += [self.G_phase] * self.options.g_steps
            if self.options.pl_weight > 0 and step % self.options.pl_every == 0:
                phases.append(self.G_reg)
        return phases

    # ------------------------------------------------------------ self-conditioning

    def _init_clusters(self, data, seed: int) -> None:
        """Buffers of the clusters: centroids [groups, k, D] (the recipe's: checkpointed, used to find a real
        example's cluster) and the examples per cluster [groups, k] (G's: exported, drawn from when sampling).
        Fitted here when `data` holds examples; a generator loaded from its export gets them from its weights."""
        k, groups = self.clusters, max(self._num_classes, 1)
        shape = data.fields[self.real_key].shape
        dims = math.prod(shape)
        check_memory(4 * groups * k * dims, f"the centroids of {groups * k} clusters")
        self.register_buffer("cluster_centroids", torch.zeros(groups, k, dims))
        self.G.register_buffer("cluster_counts", torch.zeros(groups, k))
        arrays = getattr(data, "arrays", None)
        if arrays is None or self.cluster_centroids.is_meta:  # a loaded export, or sized before it is built
            return
        labels = arrays["label"].cpu() if self._num_classes else torch.zeros(len(data), dtype=torch.long)
        generator = torch.Generator().manual_seed(seed)
        small = []
        for group in range(groups):
            index = (labels == group).nonzero().squeeze(1)
            if len(index) < k:  # small data: one cluster per example; the unused ones are never drawn
                small.append(f"class {data.class_names[group]}: {len(index)}" if self._num_classes else
                             f"dataset '{data.name}': {len(index)}")
            if not len(index):
                continue
            if len(index) > MAX_FIT:  # a seeded subset bounds the time and the memory of the fit
                index = index[torch.randperm(len(index), generator=generator)[:MAX_FIT]]
            members = data.batch(index.to(arrays[self.real_key].device))[self.real_key].cpu()  # as D sees them
            centroids = kmeans(members, min(k, len(members)), generator)
            self.cluster_centroids[group, :len(centroids)] = centroids
            self.G.cluster_counts[group] = torch.bincount(nearest(members, centroids), minlength=k).float()
        if small:
            warnings.warn(f"fewer examples than gan.clusters={k} ({', '.join(small)}): one cluster per example there")

    def _draw_conditions(self, G: nn.Module, classes: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """The condition of each class's sample: a cluster of the class, as often as the data holds it, picked by u
        (uniform in [0, 1), [n]) by inverting the clusters' cumulative shares (comparisons: ONNX exports them)."""
        counts = G.cluster_counts[classes].double()  # [n, k]; float64: the sums of whole counts are exact
        cumulative = counts.cumsum(1)
        cluster = (cumulative <= u[:, None].double() * cumulative[:, -1:]).sum(1).clamp(max=self.clusters - 1)
        return classes * self.clusters + cluster

    # ------------------------------------------------------------ pieces

    def _labels(self, batch: dict, n: int, ctx: StepContext) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(conditions of the real batch, conditions drawn for the fakes), or (None, None) when unconditional:
        labels (fakes: uniform), or with clusters (class, cluster) pairs (fakes: as often as the data has them)."""
        if self.clusters:
            return self._cluster_labels(batch, n, ctx)
        if not self.num_classes:
            return None, None
        c_fake = ctx.randint(0, self.num_classes, n)
        return batch["label"], c_fake

    def _cluster_labels(self, batch: dict, n: int, ctx: StepContext) -> tuple[torch.Tensor | None, torch.Tensor]:
        conditional = self.num_classes > 0
        fake_classes = ctx.randint(0, self.num_classes, n) if conditional else torch.zeros(n, dtype=torch.long,
                                                                                           device=ctx.device)
        c_fake = self._draw_conditions(self.G, fake_classes, ctx.rand(n))
        real = batch.get(self.real_key)
        if real is None:
            return None, c_fake
        classes = batch["label"] if conditional else torch.zeros(len(real), dtype=torch.long, device=real.device)
        # the nearest of its own class's centroids, never one without examples
        scores = distances(real, self.cluster_centroids.flatten(0, 1))  # [N, groups * k]
        scores = scores.masked_fill(self.G.cluster_counts.flatten() == 0, math.inf)
        mine = scores.view(len(real), -1, self.clusters)[torch.arange(len(real), device=real.device), classes]
        return classes * self.clusters + mine.argmin(1), c_fake

    def _augment(self, x: torch.Tensor, ctx: StepContext) -> torch.Tensor:
        x = diff_augment(x, self.policy, ctx) if self.policy else x
        return self.ada(x, ctx) if self.ada is not None else x

    def _noise(self, ctx: StepContext):
        """Per-pixel noise of a style-based G, from the step's draws (so runs, resumes and torchrun repeat)."""
        return lambda shape, device: ctx.randn(*shape)

    def _ws(self, z: torch.Tensor, c: torch.Tensor | None, ctx: StepContext, track: bool = False) -> torch.Tensor:
        """One w per layer [N, num_ws, w_dim]: mapping(z), and with probability style_mixing (one draw per
        batch) a second mapping's w from a random layer on. `track` moves the mean w towards this batch's."""
        G, o = self.G, self.options
        w = G.mapping(z, c)
        if track:
            with torch.no_grad():
                G.mapping.w_avg.lerp_(ctx.dist.gather(w.detach()).mean(0), 1.0 - o.w_avg_beta)
        ws = w[:, None].repeat(1, G.num_ws, 1)
        if o.style_mixing > 0:
            whole = ctx.whole()  # one decision and one cutoff for the global batch
            mix, cutoff = bool(whole.rand(1) < o.style_mixing), int(whole.randint(1, G.num_ws, 1))
            z2 = ctx.randn(len(z), G.z_dim)
            if mix:
                ws[:, cutoff:] = G.mapping(z2, c)[:, None]
        return ws

    def _fakes(self, n: int, c: torch.Tensor | None, ctx: StepContext, track: bool = False) -> torch.Tensor:
        z = ctx.randn(n, self.G.z_dim)
        if not self.styled:
            return self.G(z, c)
        return self.G.synthesis(self._ws(z, c, ctx, track), self._noise(ctx))

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

    def phase_Dreg(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """Lazy R1 on real samples, scaled by its interval."""
        o = self.options
        real = batch[self.real_key]
        c_real, _ = self._labels(batch, len(real), ctx)
        r1 = self._r1(real, c_real, ctx)
        return {"loss": 0.5 * o.r1_gamma * o.r1_every * r1, "r1": r1.detach()}

    def _r1(self, real: torch.Tensor, c_real: torch.Tensor | None, ctx: StepContext) -> torch.Tensor:
        """R1 on real samples; with ADA, of D after the augmentation (as its paper), w.r.t. the real images."""
        if self.ada is None:
            return r1_penalty(self.D, self._pack(real), c_real)
        return r1_penalty(lambda x, c: self.D(self.ada(x, ctx), c), real, c_real)

    def phase_Greg(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """StyleGAN2's lazy path-length penalty on half a batch: the length J^T y of the image's gradient w.r.t.
        w, for y ~ N(0, I) / sqrt(pixels), should stay at its running mean, scaled by its interval."""
        o = self.options
        n = max(1, len(batch[self.real_key]) // 2)
        _, c_fake = self._labels({"label": batch.get("label")}, n, ctx)
        ws = self._ws(ctx.randn(n, self.G.z_dim), c_fake, ctx)
        fake = self.G.synthesis(ws, self._noise(ctx))
        y = ctx.randn(*fake.shape) / (fake.shape[2] * fake.shape[3]) ** 0.5
        (grad,) = torch.autograd.grad((fake * y).sum(), ws, create_graph=True)
        lengths = grad.square().sum(2).mean(1).sqrt()  # [n]
        with torch.no_grad():
            self.pl_mean.lerp_(ctx.dist.gather(lengths.detach()).mean(), o.pl_decay)
        penalty = (lengths - self.pl_mean).square().mean()
        return {"loss": o.pl_weight * o.pl_every * penalty, "pl_penalty": penalty.detach(),
                "pl_mean": self.pl_mean.clone()}

    def phase_D(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """D's adversarial loss on real samples and detached fakes, with the configured penalties."""
        o = self.options
        real = batch[self.real_key]  # [N, C, H, W] images or [N, 2] points
        c_real, c_fake = self._labels(batch, len(real), ctx)
        fake = self._fakes(len(real), c_fake, ctx, track=True)
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
        if self.ada is not None:
            out.update(self._ada_step(logits_real, ctx))
        if o.gp_weight > 0:
            # one interpolation weight per D input (a sample, or a pack of samples), U[0, 1]
            real_in, fake_in = self._pack(real), self._pack(fake)
            gp = gradient_penalty(self.D, real_in, fake_in, ctx.rand(len(real_in)), c_real)
            loss = loss + o.gp_weight * gp
            out["gp"] = gp.detach()
        if o.r1_gamma > 0 and not self.lazy_r1:
            r1 = self._r1(real, c_real, ctx)
            loss = loss + 0.5 * o.r1_gamma * r1
            out["r1"] = r1.detach()
        if classes_real is not None:
            aux = F.cross_entropy(classes_real, c_real) + F.cross_entropy(classes_fake, c_fake)
            loss = loss + o.acgan_weight * aux
            out["aux"] = aux.detach()
        return {"loss": loss, **out}

    def phase_G(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """G's adversarial loss on fakes: those of its step's D phase when reused, else freshly drawn."""
        if self.reuse_fakes and "fake" in ctx.scratch:
            fake, c_fake = ctx.scratch.pop("fake")
        else:
            real = batch[self.real_key]
            _, c_fake = self._labels(batch, len(real), ctx)
            fake = self._fakes(len(real), c_fake, ctx)
        logits_fake, classes_fake = self._judge(fake, c_fake, ctx)
        loss = self.loss.g(logits_fake)
        if classes_fake is not None:
            loss = loss + self.options.acgan_weight * F.cross_entropy(classes_fake, c_fake)
        return {"loss": loss}

    def _ada_step(self, logits_real: torch.Tensor, ctx: StepContext) -> dict[str, torch.Tensor]:
        """Count D's signs on real images; every ada_interval steps move p. -> stats: p and the last r_t."""
        self.ada.observe(logits_real, ctx.dist)
        out = {"ada_p": self.ada.p.clone()}
        if (ctx.step + 1) % self.options.ada_interval == 0:
            out["ada_rt"] = torch.tensor(self.ada.adjust())
        return out

    @torch.no_grad()
    def after_phase(self, phase: Phase, ctx: StepContext) -> None:
        if phase.opt == "D" and self.options.clip > 0:  # the original WGAN's Lipschitz constraint
            for p in self.D.parameters():
                p.clamp_(-self.options.clip, self.options.clip)

    # ------------------------------------------------------------ results

    def fixed_inputs(self, n: int, data, draws: Draws) -> Batch:
        """Noise for the grid, with one class per grid row when conditional."""
        return self.noise_inputs(n, draws, self.cycled_labels(n, per_row=math.ceil(math.sqrt(n))))

    def noise_inputs(self, n: int, draws: Draws, labels: torch.Tensor | None = None) -> Batch:
        inputs = {"z": draws.randn(n, self.G.z_dim)}  # [n, z_dim]
        if self.clusters:
            inputs["u"] = draws.rand(n)  # [n] uniform: picks each sample's cluster (generate)
        if labels is not None:
            inputs["c"] = labels.to(draws.device)
        return inputs

    def condition(self, G: nn.Module, inputs: Batch) -> torch.Tensor | None:
        """What G is conditioned on for noise inputs: the class `c`, or with clusters the (class, cluster) pair
        that `u` picks (class 0 when unconditional); None for an unconditional G."""
        c = inputs.get("c")
        if not self.clusters:
            return c
        u = inputs["u"]
        return self._draw_conditions(G, c if c is not None else torch.zeros_like(u, dtype=torch.long), u)

    def generate(self, nets: Mapping[str, nn.Module], inputs: Batch, truncation: float | None = None,
                 **options) -> Batch:
        """{"fake": samples in G's range, and "label" when conditional}; `truncation` psi pulls a style-based G's
        w towards its average w (1 = none)."""
        G = nets["G"]
        psi = check_truncation(G, truncation)
        c = self.condition(G, inputs)
        fake = G(inputs["z"], c) if psi == 1 else G(inputs["z"], c, truncation=psi)
        out = {"fake": fake}
        if "c" in inputs:
            out["label"] = inputs["c"]
        return out

