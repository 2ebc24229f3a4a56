"""Recipes: what each phase of a training step computes. The trainer owns time, backward() and optimizers.

A recipe owns its networks (`self.nets`, a ModuleDict whose keys name the optimizers) and returns, for a
phase, a dict of tensors whose 'loss' entry the trainer back-propagates; other entries are logged.
A schedule is a list of phases per step, so n_critic, lazy penalties or warm-ups are all `schedule(step)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn

from ..distributed import Dist


@dataclass(frozen=True)
class Phase:
    """One optimisation phase: `trains` names the net whose optimizer steps; `grads` the nets that need graphs."""

    name: str
    trains: str
    grads: tuple[str, ...]


@dataclass
class StepContext:
    """What a step's phases share: the random draws and a scratch dict (e.g. fakes to reuse).

    Every draw comes from the trainer's one seeded generator, so runs and resumes repeat exactly. Draws are
    per sample: the first dimension is the (per-process) batch. In multi-process training every process
    draws the whole global batch and keeps its slice, so N processes see what one process would.
    """

    generator: torch.Generator
    device: torch.device
    dist: Dist = field(default_factory=Dist)
    scratch: dict = field(default_factory=dict)

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


class Recipe(nn.Module):
    """Base class: subclasses set `self.nets` and implement `schedule` and `compute`."""

    nets: nn.ModuleDict

    def schedule(self, step: int) -> list[Phase]:
        raise NotImplementedError

    def compute(self, phase: Phase, batch: dict[str, torch.Tensor], ctx: StepContext) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def after_phase(self, phase: Phase) -> None:
        """Called after each optimizer step (e.g. weight clipping)."""

    def fixed_inputs(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Inputs for the sample grids, drawn once per run and kept across resumes."""
        raise NotImplementedError

    def sample(self, G: nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Images in [-1, 1] from fixed inputs, drawn with G (the trained one or its moving average)."""
        raise NotImplementedError
