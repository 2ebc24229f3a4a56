"""Image-to-image networks for the `paired` recipe: generators that map an input image to an output image
(`TRANSLATORS`) and discriminators that judge (input, output) pairs (`PAIR_CRITICS`).

unet      pix2pix's U-Net (Isola et al. 2017, https://arxiv.org/abs/1611.07004): strided-conv encoder, transposed-
          conv decoder, skip connections between mirrored levels; residual blocks at the bottleneck widen its
          view on small images (a 28 px digit has only two levels to halve).
srresnet  SRGAN's generator (Ledig et al. 2017, https://arxiv.org/abs/1609.04802): residual blocks at the input's
          size, then sub-pixel convolutions (PixelShuffle) that double the side log2(scale) times.
patchgan  pix2pix's PatchGAN: a fully convolutional D with one logit per overlapping patch.
srgan     SRGAN's D: strided 3x3 convolutions, global pooling and a two-layer read-out (one logit per image).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import ranged
from ..errors import GankitError
from ..registry import Registry
from .layers import dcgan_init, with_spectral_norm

TRANSLATORS: Registry = Registry("translator network")
PAIR_CRITICS: Registry = Registry("pair discriminator")
TRANSLATOR_NORMS = ("batch", "instance", "none")


@dataclass(frozen=True)
class TranslatorSpec:
    """What the recipe asks of a translator: channels in and out, and the sides of input and output."""

    in_channels: int
    out_channels: int
    in_side: int
    out_side: int

    @property
    def scale(self) -> int:
        return self.out_side // self.in_side


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    return nn.Identity()


class ResidualBlock(nn.Module):
    """x + conv-norm-act-conv-norm(x), 3x3 convolutions at constant width."""

    def __init__(self, channels: int, norm: str, act: nn.Module):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), norm_layer(norm, channels), act,
                                  nn.Conv2d(channels, channels, 3, padding=1), norm_layer(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


# ------------------------------------------------------------------ generators

@dataclass
class UNetOptions:
    width: int = ranged(32, low=1, high=1024)     # channels of the first encoder level (doubling, up to 8x)
    depth: int = ranged(2, low=1, high=8)         # levels that halve the side; the side must divide by 2^depth
    blocks: int = ranged(2, low=0, high=32)       # residual blocks at the bottleneck
    norm: str = ranged("batch", choices=TRANSLATOR_NORMS)
    dropout: float = ranged(0.0, low=0, below=1)  # dropout in the decoder's deepest levels (pix2pix: 0.5)
    skips: bool = True  # false: no encoder-decoder skips, i.e. CycleGAN's ResNet generator (down, blocks, up)


class UNet(nn.Module):
    """[N, in, S, S] -> [N, out, S, S] in [-1, 1]."""

    def __init__(self, o: UNetOptions, spec: TranslatorSpec):
        super().__init__()
        if spec.in_side != spec.out_side:
            raise GankitError(f"the unet keeps the image size ({spec.in_side} px in, {spec.out_side} px out): "
                              "the paired recipe resizes inputs first, so this is a bug")
        if spec.in_side % 2 ** o.depth:
            raise GankitError(f"unet.depth {o.depth} needs a side divisible by {2 ** o.depth}; images are "
                              f"{spec.in_side} px (lower unet.depth)")
        widths = [o.width * 2 ** min(i, 3) for i in range(o.depth)]  # pix2pix caps at 8x the first width
        self.down = nn.ModuleList()
        c = spec.in_channels
        for i, w in enumerate(widths):
            self.down.append(nn.Sequential(nn.Conv2d(c, w, 4, 2, 1), norm_layer("none" if i == 0 else o.norm, w),
                                           nn.LeakyReLU(0.2)))
            c = w
        self.middle = nn.Sequential(*[ResidualBlock(c, o.norm, nn.ReLU()) for _ in range(o.blocks)])
        self.up = nn.ModuleList()
        for i in reversed(range(o.depth)):
            out = widths[i - 1] if i > 0 else spec.out_channels
            # level i takes the deeper level's output joined with its own encoder output (none at the bottom)
            c_in = c if i == o.depth - 1 or not o.skips else 2 * c
            layers: list[nn.Module] = [nn.ReLU(), nn.ConvTranspose2d(c_in, out, 4, 2, 1)]
            if i > 0:
                layers.append(norm_layer(o.norm, out))
                if o.dropout and i >= o.depth - 3:
                    layers.append(nn.Dropout(o.dropout))
            self.up.append(nn.Sequential(*layers))
            c = out
        self.skips = o.skips
        dcgan_init(self)  # pix2pix initialises as DCGAN does

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for level in self.down:
            x = level(x)
            skips.append(x)
        x = self.middle(x)
        for i, level in enumerate(self.up):
            if i > 0 and self.skips:
                x = torch.cat([x, skips[-1 - i]], 1)
            x = level(x)
        return torch.tanh(x)


@dataclass
class SRResNetOptions:
    width: int = ranged(64, low=1, high=1024)  # channels of the residual trunk (SRGAN: 64)
    blocks: int = ranged(16, low=1, high=64)   # residual blocks (SRGAN: 16)
    norm: str = ranged("batch", choices=TRANSLATOR_NORMS)
    bicubic_skip: bool = False  # add the bicubically upscaled input: the net learns only the missing detail (VDSR)


class SRResNet(nn.Module):
    """[N, in, s, s] -> [N, out, s*scale, s*scale] in [-1, 1], scale a power of 2."""

    def __init__(self, o: SRResNetOptions, spec: TranslatorSpec):
        super().__init__()
        scale = spec.scale
        if spec.in_side * scale != spec.out_side or scale < 1 or scale & (scale - 1):
            raise GankitError(f"srresnet upscales by a power of 2; input {spec.in_side} px, output {spec.out_side} px")
        w = o.width
        self.head = nn.Sequential(nn.Conv2d(spec.in_channels, w, 9, padding=4), nn.PReLU(w))
        self.trunk = nn.Sequential(*[ResidualBlock(w, o.norm, nn.PReLU(w)) for _ in range(o.blocks)],
                                   nn.Conv2d(w, w, 3, padding=1), norm_layer(o.norm, w))
        ups: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            ups += [nn.Conv2d(w, 4 * w, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(w)]
        self.upsample = nn.Sequential(*ups)
        self.tail = nn.Conv2d(w, spec.out_channels, 9, padding=4)
        self.scale, self.bicubic_skip = scale, o.bicubic_skip
        if o.bicubic_skip:
            if spec.in_channels != spec.out_channels:
                raise GankitError(f"srresnet.bicubic_skip needs as many input channels as output channels; got "
                                  f"{spec.in_channels} in, {spec.out_channels} out")
            nn.init.zeros_(self.tail.weight)  # so that training starts from bicubic upscaling exactly
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.head(x)
        detail = self.tail(self.upsample(h + self.trunk(h)))
        if not self.bicubic_skip:
            return torch.tanh(detail)
        bicubic = F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return (bicubic + detail).clamp(-1, 1)


TRANSLATORS.register("unet", "pix2pix's U-Net (same size in and out; inputs of another size are resized first)",
                     options=UNetOptions)(UNet)
TRANSLATORS.register("srresnet", "SRGAN's residual generator with sub-pixel upsampling (x2, x4, ...)",
                     options=SRResNetOptions)(SRResNet)


# ------------------------------------------------------------------ discriminators

class PairCritic(nn.Module):
    """D on (input, output) pairs joined along channels: `layers` in order; forward gives logits, `features`
    the activations after each layer (for the feature-matching content loss)."""

    layers: nn.ModuleList

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for layer in self.layers[:-1]:
            x = layer(x)
            out.append(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


@dataclass
class PatchGANOptions:
    width: int = ranged(32, low=1, high=1024)  # channels of the first layer (doubling, up to 8x)
    layers: int = ranged(2, low=1, high=8)     # strided layers (pix2pix's 70x70 PatchGAN: 3 at 256 px)
    norm: str = ranged("none", choices=TRANSLATOR_NORMS)
    spectral_norm: bool = True                 # on every layer (Miyato et al. 2018)


class PatchGAN(PairCritic):
    """[N, C, S, S] -> [N, 1, P, P] patch logits."""

    def __init__(self, o: PatchGANOptions, channels: int, side: int):
        super().__init__()
        if side < 2 ** o.layers * 2:
            raise GankitError(f"patchgan.layers {o.layers} halves {side} px images to nothing (lower it)")
        layers = [nn.Sequential(nn.Conv2d(channels, o.width, 4, 2, 1), nn.LeakyReLU(0.2))]
        c = o.width
        for i in range(1, o.layers + 1):
            out = o.width * 2 ** min(i, 3)
            stride = 2 if i < o.layers else 1  # the last layer keeps the side, as pix2pix's does
            layers.append(nn.Sequential(nn.Conv2d(c, out, 4, stride, 1), norm_layer(o.norm, out), nn.LeakyReLU(0.2)))
            c = out
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.layers = nn.ModuleList(layers)
        dcgan_init(self)  # pix2pix initialises as DCGAN does
        if o.spectral_norm:
            with_spectral_norm(self)


@dataclass
class SRGANDOptions:
    width: int = ranged(64, low=1, high=1024)  # channels of the first layer (SRGAN: 64, doubling to 512)
    stages: int = ranged(4, low=1, high=8)     # stride-2 stages
    norm: str = ranged("batch", choices=TRANSLATOR_NORMS)
    spectral_norm: bool = False


class SRGANDiscriminator(PairCritic):
    """[N, C, S, S] -> [N] logits."""

    def __init__(self, o: SRGANDOptions, channels: int, side: int):
        super().__init__()
        layers = [nn.Sequential(nn.Conv2d(channels, o.width, 3, 1, 1), nn.LeakyReLU(0.2))]
        c = o.width
        for i in range(o.stages):
            out = o.width * 2 ** min(i, 3)
            layers.append(nn.Sequential(nn.Conv2d(c, out, 3, 2, 1), norm_layer(o.norm, out), nn.LeakyReLU(0.2),
                                        nn.Conv2d(out, out, 3, 1, 1), norm_layer(o.norm, out), nn.LeakyReLU(0.2)))
            c = out
        layers.append(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 2 * c), nn.LeakyReLU(0.2),
                                    nn.Linear(2 * c, 1), nn.Flatten(0)))
        self.layers = nn.ModuleList(layers)
        dcgan_init(self)  # pix2pix initialises as DCGAN does
        if o.spectral_norm:
            with_spectral_norm(self)


PAIR_CRITICS.register("patchgan", "pix2pix's PatchGAN: one logit per overlapping patch", options=PatchGANOptions)(PatchGAN)
PAIR_CRITICS.register("srgan", "SRGAN's discriminator: strided 3x3 convolutions, one logit per image",
                      options=SRGANDOptions)(SRGANDiscriminator)
