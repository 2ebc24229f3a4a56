"""Random draws shared by data and recipes: one seeded generator, the same draws in every process.

Every draw comes from the trainer's one seeded generator, so runs and resumes repeat exactly. Draws are per
example: the first dimension is the (per-process) batch. In multi-process training every process draws the
whole global batch and keeps its slice, so N processes see what one process would.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .distributed import Dist


@dataclass
class Draws:
    generator: torch.Generator
    device: torch.device = torch.device("cpu")
    dist: Dist = field(default_factory=Dist)

    @classmethod
    def seeded(cls, seed: int, device: torch.device | str = "cpu") -> "Draws":
        """Draws of a fresh generator on the CPU (repeatable on any device), results on `device`."""
        return cls(torch.Generator().manual_seed(seed), torch.device(device))

    def whole(self) -> "Draws":
        """Draws of the whole global batch in every process (no slicing): draws.whole().rand(n * world) takes the
        same random numbers as draws.rand(n), all of them."""
        return Draws(self.generator, self.device)

    def _slice(self, full: torch.Tensor) -> torch.Tensor:
        return self.dist.shard(full).to(self.device)

    def randn(self, n: int, *rest: int) -> torch.Tensor:
        g = self.generator
        return self._slice(torch.randn(n * self.dist.world, *rest, generator=g, device=g.device))

    def rand(self, n: int, *rest: int) -> torch.Tensor:
        g = self.generator
        return self._slice(torch.rand(n * self.dist.world, *rest, generator=g, device=g.device))

    def randint(self, low: int, high: int, n: int, *rest: int) -> torch.Tensor:
        g = self.generator
        return self._slice(torch.randint(low, high, (n * self.dist.world, *rest), generator=g, device=g.device))
