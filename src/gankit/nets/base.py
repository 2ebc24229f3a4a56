"""What the networks share. Generators: z_dim, image_shape, num_classes, forward(z, c=None).
Discriminators: features h(x), then a head that turns h (and labels) into logits."""
from __future__ import annotations

import torch
import torch.nn as nn

from .layers import ClassHead, pyramid


class ImageGenerator(nn.Module):
    """A generator of square images that starts from an s0 x s0 map and doubles its side k times."""

    def __init__(self, z_dim: int, image_shape: tuple[int, int, int], num_classes: int = 0):
        super().__init__()
        self.z_dim = z_dim
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.s0, self.k = pyramid(image_shape[1])


class Discriminator(nn.Module):
    """Subclasses define `features(x) -> h [N, F]` and set `self.head = ClassHead(F, num_classes, mode)`."""

    head: ClassHead

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x), c)  # [N] logits

    def forward_with_classes(self, x: torch.Tensor, c: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [N], class logits [N, K]) from one pass, for ACGAN."""
        h = self.features(x)
        return self.head(h, c), self.head.class_logits(h)
