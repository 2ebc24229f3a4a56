"""What every discriminator shares: features h(x), then a head that turns h (and labels) into logits."""
from __future__ import annotations

import torch
import torch.nn as nn

from .layers import ClassHead


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
