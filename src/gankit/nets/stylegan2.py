"""A compact StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN",
https://arxiv.org/abs/1912.04958), configurable down to CPU size.

G = mapping network (z, and a class embedding when conditional -> w) + synthesis network (a learned constant
s0 x s0, then per resolution: modulated/demodulated 3x3 convolutions with per-pixel noise, and a skip
architecture: each resolution's toRGB output is added to the upsampled image so far). D is residual (the
paper's config E/F), ending with minibatch standard deviation, a 3x3 convolution and two dense layers. Every
layer has an equalised learning rate: weights are drawn N(0, 1) and scaled by 1/sqrt(fan_in) when used, the
mapping network's by a further lr_mul 0.01.

Left out for simplicity (said in docs/stylegan2.md): the FIR [1, 3, 3, 1] resampling filters (bilinear
upsampling and 2x2 average pooling stand in), clamping of activations, and the grouped "fused" modulation
(the same arithmetic, done here by scaling activations: x * s -> conv -> x * d).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import ranged
from ..errors import GankitError
from ..registry import NETWORKS
from .base import Discriminator, ImageGenerator
from .layers import ClassHead, check_conditional, packed, pyramid

GAIN = math.sqrt(2.0)  # leaky ReLU's output is scaled by sqrt(2) to keep unit variance (the paper's "lrelu" gain)
NoiseFn = Callable[[tuple[int, ...], torch.device], torch.Tensor]


def lrelu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2) * GAIN


def random_noise(shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    return torch.randn(shape, device=device)


class EqualLinear(nn.Module):
    """A dense layer with an equalised learning rate (weights N(0, 1) / lr_mul, scaled by lr_mul / sqrt(fan_in))."""

    def __init__(self, c_in: int, c_out: int, bias_init: float = 0.0, lr_mul: float = 1.0, activate: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((c_out,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul, self.activate = lr_mul / math.sqrt(c_in), lr_mul, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return lrelu(x) if self.activate else x


class EqualConv2d(nn.Module):
    """A convolution with an equalised learning rate; `down` halves the side afterwards (2x2 average pooling)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, bias: bool = True, activate: bool = False,
                 down: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.scale, self.activate, self.down = 1.0 / math.sqrt(c_in * kernel * kernel), activate, down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)
        if self.down:
            x = F.avg_pool2d(x, 2)
        return lrelu(x) if self.activate else x


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution: the style s = affine(w) scales the input channels of the weight,
    and demodulation rescales each output channel of the modulated weight to unit norm,
    w'_oik = s_i w_oik / sqrt(sum_ik (s_i w_oik)^2 + eps). Done as x * s -> shared conv -> * d, which equals a
    per-sample convolution with w' and needs no grouped convolution."""

    def __init__(self, c_in: int, c_out: int, kernel: int, w_dim: int, demodulate: bool = True, up: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)  # styles start at 1: the unmodulated weight
        self.scale, self.demodulate, self.up = 1.0 / math.sqrt(c_in * kernel * kernel), demodulate, up

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)                                     # [N, I]
        weight = self.weight * self.scale                           # [O, I, k, k]
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.conv2d(x * styles[:, :, None, None], weight, padding=weight.shape[-1] // 2)
        if self.demodulate:  # sum_ik (s_i w_oik)^2 = sum_i s_i^2 (sum_k w_oik^2)
            norms = styles.square() @ weight.square().sum((2, 3)).t()  # [N, O]
            x = x * torch.rsqrt(norms + 1e-8)[:, :, None, None]
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution, per-pixel noise times a learned strength (0 at first), bias, leaky ReLU.
    Noise comes from `noise(shape, device)` in training; without it, from a fixed noise image drawn at
    construction (the paper's 'const' noise), so that sampling and export are deterministic."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, side: int, up: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(c_in, c_out, 3, w_dim, up=up)
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.register_buffer("noise_const", torch.randn(1, 1, side, side))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: NoiseFn | None = None) -> torch.Tensor:
        x = self.conv(x, w)
        n, _, h, width = x.shape
        image = self.noise_const if noise is None else noise((n, 1, h, width), x.device)
        return lrelu(x + image * self.noise_strength + self.bias[:, None, None])


class ToRGB(nn.Module):
    def __init__(self, c_in: int, channels: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv2d(c_in, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[:, None, None]


def widths(k: int, width: int, max_width: int) -> list[int]:
    """Channels at sides s0, 2 s0, ..., resolution: `width` at full resolution, doubling per halving, capped."""
    return [min(max_width, width * 2 ** (k - i)) for i in range(k + 1)]


class MappingNetwork(nn.Module):
    """z (and a class embedding when conditional), each normalised to unit mean square -> `depth` dense layers
    with leaky ReLU and lr_mul 0.01 -> w. Keeps `w_avg`, the running mean of w that truncation pulls towards."""

    def __init__(self, z_dim: int, w_dim: int, depth: int, num_classes: int = 0, lr_mul: float = 0.01):
        super().__init__()
        self.embed = EqualLinear(num_classes, w_dim) if num_classes else None
        c_in = z_dim + (w_dim if num_classes else 0)
        self.layers = nn.Sequential(*[EqualLinear(c_in if i == 0 else w_dim, w_dim, lr_mul=lr_mul, activate=True)
                                      for i in range(depth)])
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.num_classes = num_classes

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(1, keepdim=True) + 1e-8)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        x = self.normalize(z)
        if self.embed is not None:
            if c is None:
                raise ValueError("a conditional mapping network needs class labels c")
            y = self.embed(F.one_hot(c, self.num_classes).to(z.dtype))
            x = torch.cat([x, self.normalize(y)], 1)
        return self.layers(x)


class SynthesisNetwork(nn.Module):
    """A learned constant at s0 x s0, then per resolution two synthesis layers (the first upsamples) and a toRGB
    whose output is added to the upsampled image so far. Layer i reads style ws[:, i]; a toRGB reads the
    style of the layer after it, as in the paper, so there are 2k + 2 styles."""

    def __init__(self, w_dim: int, channels: int, s0: int, k: int, chans: list[int], tanh_output: bool = False):
        super().__init__()
        self.tanh_output = tanh_output
        self.const = nn.Parameter(torch.randn(chans[0], s0, s0))
        self.first = SynthesisLayer(chans[0], chans[0], w_dim, s0)
        self.rgb = nn.ModuleList([ToRGB(chans[0], channels, w_dim)])
        self.ups, self.convs = nn.ModuleList(), nn.ModuleList()
        for i in range(1, k + 1):
            self.ups.append(SynthesisLayer(chans[i - 1], chans[i], w_dim, s0 << i, up=True))
            self.convs.append(SynthesisLayer(chans[i], chans[i], w_dim, s0 << i))
            self.rgb.append(ToRGB(chans[i], channels, w_dim))
        self.num_ws = 2 * k + 2

    def forward(self, ws: torch.Tensor, noise: NoiseFn | None = None) -> torch.Tensor:
        x = self.first(self.const.expand(len(ws), *self.const.shape), ws[:, 0], noise)
        image = self.rgb[0](x, ws[:, 1])
        for i, (up, conv) in enumerate(zip(self.ups, self.convs), start=1):
            x = conv(up(x, ws[:, 2 * i - 1], noise), ws[:, 2 * i], noise)
            image = F.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
            image = image + self.rgb[i](x, ws[:, 2 * i + 1])
        return torch.tanh(image) if self.tanh_output else image


class StyleGAN2Generator(ImageGenerator):
    """G(z, c) = synthesis(mapping(z, c), broadcast to every layer), with the truncation trick: w is pulled
    towards the mapping network's w_avg by `truncation` psi (1 = none), w' = w_avg + psi (w - w_avg). Images
    come out linear, as the paper's, or through a tanh (`tanh_output`) for data such as MNIST whose pixels mostly
    sit at the ends of the range."""

    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], num_classes: int, o: "StyleGAN2Options"):
        super().__init__(z_dim, image_shape, num_classes)
        chans = widths(self.k, o.g_width, o.max_width)
        self.mapping = MappingNetwork(z_dim, o.w_dim, o.mapping_layers, num_classes, o.mapping_lr_mul)
        self.synthesis = SynthesisNetwork(o.w_dim, image_shape[0], self.s0, self.k, chans, o.tanh_output)
        self.num_ws, self.w_dim = self.synthesis.num_ws, o.w_dim

    def truncate(self, w: torch.Tensor, psi: float) -> torch.Tensor:
        return w if psi == 1 else self.mapping.w_avg.lerp(w, psi)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation: float = 1.0,
                noise: NoiseFn | None = None) -> torch.Tensor:
        w = self.truncate(self.mapping(z, c), truncation)
        return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise)  # [N, C, H, W]


def check_truncation(G: nn.Module | None, psi: float | None) -> float:
    """The truncation psi to draw with (1 when not given); a one-line error for a generator without styles or a
    psi outside [0, 2]."""
    if psi is None:
        return 1.0
    if not hasattr(G, "truncate"):
        raise GankitError("--truncation needs a style-based generator (gan.net=stylegan2)")
    if not 0 <= psi <= 2:
        raise GankitError(f"--truncation must be between 0 and 2 (1 = none), got {psi}")
    return psi


class MinibatchStd(nn.Module):
    """Appends one feature map: the standard deviation of each feature over groups of `group` samples, averaged
    over features and pixels, so that D can see a batch's lack of variety."""

    couples_batch = True  # its output depends on the other samples: D must not judge real and fake in one batch

    def __init__(self, group: int = 4):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = math.gcd(self.group, n)  # groups must divide the batch
        # groups of consecutive samples (the paper strides them): a batch split among processes in consecutive
        # shards then forms the same groups as in one process
        y = x.reshape(n // g, g, c, h, w)
        y = (y.var(1, unbiased=False) + 1e-8).sqrt().mean((1, 2, 3))  # [n // g]
        y = y.repeat_interleave(g).view(n, 1, 1, 1).expand(n, 1, h, w)
        return torch.cat([x, y], 1)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions (the second halves the side) beside a 1x1 skip; their sum is scaled by 1/sqrt(2)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv0 = EqualConv2d(c_in, c_in, 3, activate=True)
        self.conv1 = EqualConv2d(c_in, c_out, 3, activate=True, down=True)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False, down=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv1(self.conv0(x)) + self.skip(x)) / math.sqrt(2.0)


class StyleGAN2Discriminator(Discriminator):
    def __init__(self, image_shape: tuple[int, int, int], num_classes: int, conditional: str, o: "StyleGAN2Options"):
        super().__init__()
        channels, resolution, _ = image_shape
        s0, k = pyramid(resolution)
        chans = widths(k, o.d_width, o.max_width)  # chans[i]: at side s0 * 2^i
        self.from_rgb = EqualConv2d(channels, chans[k], 1, activate=True)
        self.blocks = nn.Sequential(*[ResidualBlock(chans[i], chans[i - 1]) for i in range(k, 0, -1)])
        self.mbstd = MinibatchStd(o.mbstd_group)
        self.conv = EqualConv2d(chans[0] + 1, chans[0], 3, activate=True)
        self.dense = EqualLinear(chans[0] * s0 * s0, chans[0], activate=True)
        self.head = ClassHead(chans[0], num_classes, conditional)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.mbstd(self.blocks(self.from_rgb(x))))
        return self.dense(h.flatten(1))  # [N, F]


@dataclass
class StyleGAN2Options:
    w_dim: int = ranged(128, low=1, high=1024)           # size of w (paper: 512)
    mapping_layers: int = ranged(4, low=1, high=16)      # depth of the mapping network (paper: 8)
    mapping_lr_mul: float = ranged(0.01, low=1e-4, high=1)  # the mapping network's learning-rate multiplier
    g_width: int = ranged(32, low=1, high=1024)          # G's channels at full resolution, doubling per halving
    d_width: int = ranged(32, low=1, high=1024)          # D's, likewise
    max_width: int = ranged(256, low=1, high=1024)       # cap on both (paper: 512)
    mbstd_group: int = ranged(4, low=1, high=64)         # minibatch-std group size (paper: 4)
    # images through a tanh (paper: linear). MNIST's pixels mostly sit at -1 exactly; a linear output must learn
    # to hit that value everywhere, and D wins on that alone while G collapses (docs/stylegan2.md, diagnostics)
    tanh_output: bool = False


@NETWORKS.register("stylegan2", "StyleGAN2: mapping network, modulated convolutions, noise, skip G, residual D "
                                "with minibatch std, equalised learning rate", options=StyleGAN2Options)
def build_stylegan2(cfg: StyleGAN2Options, spec) -> tuple[nn.Module, nn.Module]:
    check_conditional(spec.conditional, spec.num_classes)
    g_classes = spec.num_classes if spec.conditional != "none" else 0
    G = StyleGAN2Generator(spec.z_dim, spec.shape, g_classes, cfg)
    D = StyleGAN2Discriminator(packed(spec.shape, spec.pack), spec.num_classes, spec.conditional, cfg)
    return G, D
