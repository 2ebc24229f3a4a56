"""Networks: plain nn.Modules, registered by family name with the options dataclass of their config section.

A GAN family builds a pair: G(z, c=None) -> samples in [-1, 1]; D(x, c=None) -> logits.
"""
from dataclasses import dataclass

from . import dcgan, mlp, resnet, stylegan2, translator  # noqa: F401  (registers the networks)
from ..registry import NETWORKS


@dataclass(frozen=True)
class PairSpec:
    """What a recipe asks of a G/D pair: latent size, sample shape, classes, conditioning and D's packing."""

    z_dim: int
    shape: tuple[int, ...]
    num_classes: int = 0
    conditional: str = "none"
    pack: int = 1


def build_pair(family: str, options, spec: PairSpec):
    """(G, D) of a network family, from its options section and what the recipe asks of it."""
    return NETWORKS.get(family)(options, spec)


__all__ = ["PairSpec", "build_pair"]
