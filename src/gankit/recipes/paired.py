"""The `paired` recipe: image-to-image GANs trained on aligned (input, target) pairs.

G maps an input image to an output image; D judges (input, output) pairs joined along channels (Isola et al.
2017, pix2pix, https://arxiv.org/abs/1611.07004). G's loss is the adversarial loss plus `lambda_content` times a
content loss (L1, L2, or matching D's features), so one recipe covers pix2pix (U-Net + PatchGAN + L1), SRGAN
(SRResNet + its D, with a content-only warm-up: Ledig et al. 2017, https://arxiv.org/abs/1609.04802) and
inpainting. `adversarial_weight=0` trains the content-only baseline (the "L1 U-Net" or "SRResNet").

The dataset's fields say what is paired:
  a, b         translate a into b (fonts: source glyph -> target glyph)
  lr, hr       upscale lr into hr (super-resolution)
  image, mask  fill the holes (mask 1) of image; G sees the image with its holes blanked plus the mask, and its
               output is kept only inside the holes
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import Config, OptimGroup, ranged
from ..draws import Draws
from ..errors import GankitError
from ..nets.translator import PAIR_CRITICS, TRANSLATORS, TranslatorSpec
from ..registry import LOSSES, RECIPES
from .base import Batch, OptimSpec, Phase, Recipe, StepContext

PAIRINGS = {("a", "b"): "translate a into b", ("lr", "hr"): "upscale lr into hr",
            ("image", "mask"): "fill the holes (mask 1) of image"}
CONTENT_LOSSES = ("l1", "l2", "features")
HOLE_FILL = 0.0  # what G sees inside a hole: mid-grey, a value real digits (background -1, ink 1) rarely hold


@dataclass
class PairedOptions:
    generator: str = "unet"          # translator network (`gankit list`); its options are the section of that name
    discriminator: str = "patchgan"  # pair discriminator; its options are the section of that name
    loss: str = "non-saturating"     # adversarial loss (`gankit list`)
    content: str = ranged("l1", choices=CONTENT_LOSSES)  # l1 / l2 on pixels, or features: L1 between D's activations
    lambda_content: float = ranged(100.0, low=0)         # weight of the content loss (pix2pix: 100 with L1)
    adversarial_weight: float = ranged(1.0, low=0)       # 0: content loss only (the L1 U-Net / SRResNet baseline)
    warmup_steps: int = ranged(0, low=0)  # content-only steps before D joins (SRGAN pretrains its SRResNet so)


def pairing(fields: Mapping) -> tuple[str, str]:
    """The (source, target) field names of paired data; a one-line error naming the layouts otherwise."""
    for keys in PAIRINGS:
        if all(k in fields and fields[k].kind in ("image", "mask") for k in keys):
            return keys
    layouts = "; ".join(f"{' + '.join(keys)} ({what})" for keys, what in PAIRINGS.items())
    raise GankitError(f"the paired recipe needs paired images; dataset fields are "
                      f"{', '.join(f'{k} ({f.kind})' for k, f in fields.items())}; known layouts: {layouts}")


@RECIPES.register("paired", "image-to-image on aligned pairs: pix2pix, SRGAN, inpainting (content + adversarial loss)",
                  options=PairedOptions)
class PairedRecipe(Recipe):
    Options = PairedOptions
    OPTIMIZERS = {"G": OptimGroup(), "D": OptimGroup()}
    averaged = ("G",)
    exported = ("G",)
    outputs = {"input": "image", "fake": "image", "target": "image"}
    translates = True

    @classmethod
    def sections(cls, options: PairedOptions) -> dict[str, type]:
        return {options.generator: TRANSLATORS.options(options.generator),
                options.discriminator: PAIR_CRITICS.options(options.discriminator)}

    @classmethod
    def check(cls, cfg: Config, data) -> None:
        pairing(data.fields)
        LOSSES.get(cfg.paired.loss)

    def __init__(self, cfg: Config, data):
        super().__init__(cfg)
        self.check(cfg, data)
        o = self.options = cfg.paired
        self.source_key, self.target_key = pairing(data.fields)
        self.inpainting = self.target_key == "mask"
        fields = data.fields
        image = fields["image" if self.inpainting else self.target_key]
        source = fields["image" if self.inpainting else self.source_key]
        self.out_side = image.shape[-1]
        self.scale = self.out_side // source.shape[-1]  # 1, or the upscaling factor
        in_channels = source.shape[0] + (1 if self.inpainting else 0)
        spec = TranslatorSpec(in_channels, image.shape[0], source.shape[-1], self.out_side)
        self.upscales = o.generator == "srresnet"
        if not self.upscales and spec.in_side != spec.out_side:  # same-size nets see inputs resized to the output
            spec = TranslatorSpec(in_channels, image.shape[0], self.out_side, self.out_side)
        G = TRANSLATORS.get(o.generator)(cfg.parts[o.generator], spec)
        D = PAIR_CRITICS.get(o.discriminator)(cfg.parts[o.discriminator], in_channels + image.shape[0], self.out_side)
        self.nets = nn.ModuleDict({"G": G, "D": D})
        self.loss = LOSSES.get(o.loss)
        self.D_then_G = Phase("D", "D", ("D", "G"))
        self.G_phase = Phase("G", "G", ("G",))
        self.content_phase = Phase("content", "G", ("G",))

    def optimizers(self) -> dict[str, OptimSpec]:
        return {"G": self.group("G", ("G",)), "D": self.group("D", ("D",))}

    def schedule(self, step: int) -> list[Phase]:
        o = self.options
        if step < o.warmup_steps or o.adversarial_weight == 0:
            return [self.content_phase]
        return [self.D_then_G, self.G_phase]

    # ------------------------------------------------------------ pieces

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        """x upscaled to the output's size (bicubic; inputs of any size, as held-out photos are), unchanged when
        input and output are the same size."""
        if self.scale == 1:
            return x
        return F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False).clamp(-1, 1)

    def split(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """(G's input, D's condition at the output's side, target or None, hole mask or None)."""
        if self.inpainting:
            image, mask = batch["image"], batch["mask"]  # [N, C, H, W], [N, 1, H, W]
            source = torch.cat([image * (1 - mask) + HOLE_FILL * mask, mask], 1)
            return source, source, image, mask
        source = batch[self.source_key]
        condition = self._resize(source)
        return (source if self.upscales else condition), condition, batch.get(self.target_key), None

    def translate(self, G: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None,
                                                             torch.Tensor | None]:
        """(output, D's condition, target, hole mask); inpainting keeps the known pixels and takes G's only in
        the holes."""
        source, condition, target, mask = self.split(batch)
        fake = G(source)
        if mask is not None:
            fake = batch["image"] * (1 - mask) + fake * mask
        return fake, condition, target, mask

    def content(self, fake: torch.Tensor, target: torch.Tensor, condition: torch.Tensor,
                mask: torch.Tensor | None) -> torch.Tensor:
        kind = self.options.content
        if kind == "features":
            D = self.nets["D"]
            real_features = [h.detach() for h in D.features(torch.cat([condition, target], 1))]
            return sum((a - b).abs().mean() for a, b in zip(D.features(torch.cat([condition, fake], 1)), real_features))
        error = (fake - target).abs() if kind == "l1" else (fake - target).pow(2)
        if mask is None:
            return error.mean()
        return error.sum() / (mask.sum() * error.shape[1]).clamp(min=1)  # the mean inside the holes

    # ------------------------------------------------------------ phases

    def phase_D(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        translated = self.translate(self.nets["G"], batch)
        ctx.scratch["translated"] = translated  # G's phase of this step reuses the output and its graph
        fake, condition, target, _ = translated
        D = self.nets["D"]
        logits = D(torch.cat([torch.cat([condition, target], 1), torch.cat([condition, fake.detach()], 1)])).float()
        logits_real, logits_fake = logits.chunk(2)
        return {"loss": self.loss.d(logits_real, logits_fake), "D_real": logits_real.detach().mean(),
                "D_fake": logits_fake.detach().mean()}

    def phase_G(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        o = self.options
        fake, condition, target, mask = ctx.scratch.pop("translated", None) or self.translate(self.nets["G"], batch)
        adversarial = self.loss.g(self.nets["D"](torch.cat([condition, fake], 1)).float())
        content = self.content(fake, target, condition, mask)
        return {"loss": o.adversarial_weight * adversarial + o.lambda_content * content,
                "adversarial": adversarial.detach(), "content": content.detach()}

    def phase_content(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        """G alone on the content loss: the warm-up, or the whole run of a content-only baseline."""
        if self.options.content == "features":
            raise GankitError("paired.content=features needs D: use l1 or l2 for warm-up steps and content-only runs")
        fake, condition, target, mask = self.translate(self.nets["G"], batch)
        content = self.content(fake, target, condition, mask)
        return {"loss": self.options.lambda_content * content, "content": content.detach()}

    # ------------------------------------------------------------ results

    def fixed_inputs(self, n: int, data, draws: Draws) -> Batch:
        return self.eval_inputs(n, data, draws)

    def eval_inputs(self, n: int, data, draws: Draws, start: int = 0) -> Batch:
        """Held-out examples start, start+1, ... (cycling), holes drawn from `draws`; only G's inputs and targets."""
        return self.held_out_inputs(n, draws, start)

    def example_inputs(self, n: int, fields) -> Batch:
        keys = ("image", "mask") if self.inpainting else (self.source_key,)
        return {k: torch.zeros(n, *fields[k].shape) for k in keys}

    def generate(self, nets: Mapping[str, nn.Module], inputs: Batch, **options) -> Batch:
        """{"input": what G was given (holes blanked), "fake", and "target", "label" and "text" when the inputs
        hold them}."""
        fake, _, target, _ = self.translate(nets["G"], inputs)
        if self.inpainting:
            mask = inputs["mask"]
            out = {"input": inputs["image"] * (1 - mask) + HOLE_FILL * mask, "fake": fake, "mask": mask}
            target = inputs["image"]
        else:
            out = {"input": inputs[self.source_key], "fake": fake}
        if target is not None:
            out["target"] = target
        for key in ("label", "text"):  # what the protocols judge outputs by: the digit, the character drawn
            if key in inputs:
                out[key] = inputs[key]
        return out
