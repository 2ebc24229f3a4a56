"""ResNet generator and discriminator of the SNGAN kind (Miyato et al. 2018, https://arxiv.org/abs/1802.05957,
appendix B.4, the CIFAR-10 32x32 models), with class-conditional BatchNorm in G and a projection or ACGAN
head in D when the model is conditional.

G: z -> s0 x s0 map, k up-sampling residual blocks (nearest x2, two 3x3 convs), BN, ReLU, 3x3 conv, tanh.
D: k down-sampling residual blocks (the first one "optimised" for the raw image), one more residual block,
ReLU, global sum pooling, head. Channel widths are constant: g_width in G, d_width in D.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from dataclasses import dataclass

from ..config import ranged
from ..registry import NETWORKS
from .base import Discriminator, ImageGenerator
from .layers import NORMS, ClassHead, ConditionalBatchNorm, check_conditional, packed, pyramid, with_spectral_norm


class UpBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, num_classes: int, norm: str):
        super().__init__()
        self.norm1 = ConditionalBatchNorm(c_in, num_classes, norm)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm2 = ConditionalBatchNorm(c_out, num_classes, norm)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        h = F.interpolate(F.relu(self.norm1(x, c)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h), c)))
        return h + self.skip(F.interpolate(x, scale_factor=2, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, down: bool, first: bool):
        super().__init__()
        self.first, self.down = first, down
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if (c_in != c_out or down) else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x if self.first else F.relu(x)  # the first block sees the raw image
        h = self.conv2(F.relu(self.conv1(h)))
        skip = x
        if self.first:  # pool before the 1x1 conv on the raw image (the "optimised" block)
            skip = self.skip(F.avg_pool2d(x, 2))
        else:
            skip = self.skip(x)
            if self.down:
                skip = F.avg_pool2d(skip, 2)
        if self.down:
            h = F.avg_pool2d(h, 2)
        return h + skip


class ResNetGenerator(ImageGenerator):
    def __init__(self, z_dim: int, width: int, image_shape: tuple[int, int, int], norm: str, num_classes: int = 0):
        super().__init__(z_dim, image_shape, num_classes)
        channels, s0, k = image_shape[0], self.s0, self.k
        self.start = (width, s0)
        self.project = nn.Linear(z_dim, width * s0 * s0)
        self.blocks = nn.ModuleList(UpBlock(width, width, num_classes, norm) for _ in range(k))
        self.out_norm = ConditionalBatchNorm(width, 0, norm)
        self.out = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        width, s0 = self.start
        x = self.project(z).view(-1, width, s0, s0)
        for block in self.blocks:
            x = block(x, c)
        return torch.tanh(self.out(F.relu(self.out_norm(x))))  # [N, C, H, W]


class ResNetDiscriminator(Discriminator):
    def __init__(self, width: int, image_shape: tuple[int, int, int], num_classes: int = 0, conditional: str = "none"):
        super().__init__()
        channels, resolution, _ = image_shape
        _, k = pyramid(resolution)
        blocks = [DownBlock(channels, width, down=True, first=True)]
        blocks += [DownBlock(width, width, down=True, first=False) for _ in range(k - 1)]
        blocks += [DownBlock(width, width, down=False, first=False)]
        self.blocks = nn.Sequential(*blocks)
        self.head = ClassHead(width, num_classes, conditional)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.blocks(x)).sum((2, 3))  # [N, width], global sum pooling


@dataclass
class ResNetOptions:
    g_width: int = ranged(64, low=1, high=1024)  # channels of G's residual blocks
    d_width: int = ranged(64, low=1, high=1024)  # channels of D's residual blocks
    g_norm: str = ranged("batch", choices=NORMS)
    g_spectral_norm: bool = False  # spectral normalisation on G's layers
    d_spectral_norm: bool = False  # spectral normalisation on D's layers (SNGAN: true)


@NETWORKS.register("resnet", "SNGAN-style ResNet G/D with residual blocks (pair with resnet.d_spectral_norm=true), "
                             "e.g. 32x32", options=ResNetOptions)
def build_resnet(cfg: ResNetOptions, spec) -> tuple[nn.Module, nn.Module]:
    check_conditional(spec.conditional, spec.num_classes)
    g_classes = spec.num_classes if spec.conditional != "none" else 0
    G = ResNetGenerator(spec.z_dim, cfg.g_width, spec.shape, cfg.g_norm, g_classes)
    D = ResNetDiscriminator(cfg.d_width, packed(spec.shape, spec.pack), spec.num_classes, spec.conditional)
    if cfg.g_spectral_norm:
        with_spectral_norm(G)
    if cfg.d_spectral_norm:
        with_spectral_norm(D)
    return G, D
