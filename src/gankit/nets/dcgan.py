"""DCGAN generator and discriminator (Radford et al. 2015, https://arxiv.org/abs/1511.06434).

Sized for any side length s0 * 2^k with s0 <= 7: 28 = 7*4, 32 = 4*8, 64 = 4*16. G projects z to a
s0 x s0 map, then k strided transposed convolutions double the size while halving the channels; D mirrors
it with strided convolutions and a linear read-out. BatchNorm (optional; class-conditional in a conditional
G) everywhere but G's output and D's input layer; ReLU in G, LeakyReLU in D, tanh out.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from dataclasses import dataclass

from ..config import ranged
from ..registry import NETWORKS
from .base import Discriminator, ImageGenerator
from .layers import (NORMS, ClassHead, ConditionalBatchNorm, Flatten, check_conditional, dcgan_init, norm2d, packed,
                     pyramid, with_spectral_norm)


class DCGANGenerator(ImageGenerator):
    def __init__(self, z_dim: int, width: int, image_shape: tuple[int, int, int], norm: str, num_classes: int = 0):
        super().__init__(z_dim, image_shape, num_classes)
        channels, s0, k = image_shape[0], self.s0, self.k
        c0 = width * 2 ** (k - 1)
        self.start = (c0, s0)
        bias = norm == "none"
        self.project = nn.Linear(z_dim, c0 * s0 * s0, bias=bias)
        self.project_norm = ConditionalBatchNorm(c0 * s0 * s0, num_classes, norm, dims=1)
        self.ups = nn.ModuleList()
        self.norms = nn.ModuleList()
        c = c0
        for _ in range(k - 1):
            self.ups.append(nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=bias))
            self.norms.append(ConditionalBatchNorm(c // 2, num_classes, norm))
            c //= 2
        self.out = nn.ConvTranspose2d(c, channels, 4, 2, 1)
        dcgan_init(self)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        c0, s0 = self.start
        x = torch.relu(self.project_norm(self.project(z), c)).view(-1, c0, s0, s0)
        for up, norm in zip(self.ups, self.norms):
            x = torch.relu(norm(up(x), c))
        return torch.tanh(self.out(x))  # [N, C, H, W]


class DCGANDiscriminator(Discriminator):
    def __init__(self, width: int, image_shape: tuple[int, int, int], norm: str, leak: float,
                 num_classes: int = 0, conditional: str = "none"):
        super().__init__()
        channels, resolution, _ = image_shape
        s0, k = pyramid(resolution)
        bias = norm == "none"
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(leak)]
        c = width
        for _ in range(k - 1):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=bias), norm2d(norm, c * 2), nn.LeakyReLU(leak)]
            c *= 2
        self.body = nn.Sequential(*layers, Flatten())
        self.head = ClassHead(c * s0 * s0, num_classes, conditional)
        dcgan_init(self)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # [N, C*s0*s0]


@dataclass
class DCGANOptions:
    g_width: int = ranged(64, low=1, high=1024)  # channels of G's last hidden layer
    d_width: int = ranged(64, low=1, high=1024)  # channels of D's first layer
    g_norm: str = ranged("batch", choices=NORMS)
    d_norm: str = ranged("batch", choices=NORMS)
    leak: float = ranged(0.2, low=0, high=1)  # LeakyReLU slope in D
    g_spectral_norm: bool = False  # spectral normalisation on G's layers
    d_spectral_norm: bool = False  # spectral normalisation on D's layers


@NETWORKS.register("dcgan", "convolutional G/D (DCGAN) for 28x28, 32x32, 64x64, ... images", options=DCGANOptions)
def build_dcgan(cfg: DCGANOptions, spec) -> tuple[nn.Module, nn.Module]:
    check_conditional(spec.conditional, spec.num_classes)
    g_classes = spec.num_classes if spec.conditional != "none" else 0
    G = DCGANGenerator(spec.z_dim, cfg.g_width, spec.shape, cfg.g_norm, g_classes)
    D = DCGANDiscriminator(cfg.d_width, packed(spec.shape, spec.pack), cfg.d_norm, cfg.leak, spec.num_classes,
                           spec.conditional)
    if cfg.g_spectral_norm:
        with_spectral_norm(G)
    if cfg.d_spectral_norm:
        with_spectral_norm(D)
    return G, D
