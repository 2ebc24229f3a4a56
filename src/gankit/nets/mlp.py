"""The tutorial's fully connected GAN (Goodfellow et al. 2014, https://arxiv.org/abs/1406.2661).

G: z(100) -> 256 -> 512 -> 1024 -> 784, LeakyReLU(0.2) between layers, tanh out, reshaped to an image.
D: image -> 512 -> 256 -> 1, LeakyReLU(0.2) between layers. D returns a logit; the tutorial's final
sigmoid lives inside the loss (softplus form), which is the same function computed without overflow.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from dataclasses import dataclass

from ..errors import GankitError
from ..config import ranged
from ..registry import NETWORKS
from .base import Discriminator
from .layers import NORMS, ClassHead, norm1d, packed, with_spectral_norm


class MLPGenerator(nn.Module):
    def __init__(self, z_dim: int, hidden: list[int], image_shape: tuple[int, ...], leak: float, norm: str,
                 out: str = "tanh"):
        super().__init__()
        self.z_dim = z_dim
        self.image_shape = tuple(image_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for i, h in enumerate(hidden):
            # no norm right after the latent input, as in the tutorial's network
            layers += [nn.Linear(width, h), norm1d(norm if i > 0 else "none", h), nn.LeakyReLU(leak)]
            width = h
        layers += [nn.Linear(width, math.prod(image_shape)), nn.Tanh() if out == "tanh" else nn.Identity()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)  # [N, C, H, W] (or [N, 2] for points)


class MLPDiscriminator(Discriminator):
    def __init__(self, hidden: list[int], image_shape: tuple[int, int, int], leak: float, norm: str):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(image_shape)
        for i, h in enumerate(hidden):
            layers += [nn.Linear(width, h), norm1d(norm if i > 0 else "none", h), nn.LeakyReLU(leak)]
            width = h
        self.body = nn.Sequential(*layers)
        self.head = ClassHead(width, 0, "none")

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # [N, last hidden]


@dataclass
class MLPOptions:
    g_hidden: list[int] = ranged([256, 512, 1024], low=1, high=16384)  # G's hidden sizes
    d_hidden: list[int] = ranged([512, 256], low=1, high=16384)         # D's hidden sizes
    g_norm: str = ranged("batch", choices=NORMS)
    d_norm: str = ranged("batch", choices=NORMS)
    leak: float = ranged(0.2, low=0, high=1)  # LeakyReLU slope
    g_spectral_norm: bool = False  # spectral normalisation on G's layers
    d_spectral_norm: bool = False  # spectral normalisation on D's layers


@NETWORKS.register("mlp", "the tutorial's MLP GAN: G 256-512-1024-784, D 512-256-1, LeakyReLU 0.2, tanh",
                   options=MLPOptions)
def build_mlp(cfg: MLPOptions, spec, out: str = "tanh") -> tuple[nn.Module, nn.Module]:
    if spec.conditional != "none":
        raise GankitError("the mlp networks are unconditional; use gan.net=dcgan for conditional models")
    G = MLPGenerator(spec.z_dim, cfg.g_hidden, spec.shape, cfg.leak, cfg.g_norm, out)
    D = MLPDiscriminator(cfg.d_hidden, packed(spec.shape, spec.pack), cfg.leak, cfg.d_norm)
    if cfg.g_spectral_norm:
        with_spectral_norm(G)
    if cfg.d_spectral_norm:
        with_spectral_norm(D)
    return G, D


@NETWORKS.register("toy-mlp", "MLP G/D with a linear output, for the 2-D mixture benchmarks (sizes in toy-mlp.*_hidden)",
                   options=MLPOptions)
def build_toy_mlp(cfg: MLPOptions, spec) -> tuple[nn.Module, nn.Module]:
    return build_mlp(cfg, spec, out="linear")
