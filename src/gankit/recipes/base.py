"""The recipe contract: a recipe declares everything the trainer needs to know about a family of GANs.

A recipe owns its networks (`self.nets`, any names) and declares
- its optimizers: name -> which nets, learning rate, betas, lazy-regularisation interval (`optimizers()`);
- which nets get a moving average (`averaged`) and which are exported (`exported`);
- `schedule(step)`: the phases of a step, each naming the optimizer that steps after it;
- `compute(phase, batch, ctx)`: a dict of tensors whose 'loss' the trainer back-propagates (others are
  logged); it dispatches to the method `phase_<name>`, and an unknown phase is an error;
- `after_phase(phase, ctx)`: work after an optimizer step (e.g. weight clipping);
- `fixed_inputs`, `noise_inputs`, `eval_inputs`: what the grids, `gankit sample` and evaluation feed to
- `generate(nets, inputs)`: named outputs (`fake`, and `input`/`target` for translators), the one path by
  which grids, sampling, evaluation and export make results.
State a recipe keeps between steps (an image pool, an augmentation probability) goes through nn.Module's
get_extra_state/set_extra_state, so it rides in every checkpoint and a resumed run repeats exactly.
The trainer owns time, backward() and the optimizers, and never names a network.
"""
from __future__ import annotations

import dataclasses

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import torch
import torch.nn as nn

from ..config import Config, OptimGroup
from ..draws import Draws
from ..errors import GankitError

Batch = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Phase:
    """One optimisation phase: `opt` names the optimizer that steps after it; `grads` the nets that need graphs."""

    name: str
    opt: str
    grads: tuple[str, ...]


@dataclass(frozen=True)
class OptimSpec:
    """An optimizer over one or more nets. With lazy regularisation every `reg_every` steps, the rate and betas
    are scaled by r = reg_every / (reg_every + 1) (lr x r, beta ** r), as StyleGAN2 does, so that the
    regularised optimizer moves as far per step as an unregularised one."""

    nets: tuple[str, ...]
    lr: float
    betas: tuple[float, float] = (0.5, 0.999)
    reg_every: int = 1

    @property
    def ratio(self) -> float:
        return self.reg_every / (self.reg_every + 1) if self.reg_every > 1 else 1.0

    @property
    def scaled_lr(self) -> float:
        return self.lr * self.ratio

    @property
    def scaled_betas(self) -> tuple[float, float]:
        return (self.betas[0] ** self.ratio, self.betas[1] ** self.ratio)


@dataclass
class StepContext(Draws):
    """What a step's phases share: the step number, the random draws and a scratch dict (e.g. fakes to reuse)."""

    step: int = 0
    scratch: dict = field(default_factory=dict)


class Recipe(nn.Module):
    """Base class. Subclasses set `Options` (their config section), `OPTIMIZERS` (name -> default settings,
    the config's `optim.<name>`), `outputs` (output name -> field kind) and `self.nets`."""

    Options: ClassVar[type]
    OPTIMIZERS: ClassVar[dict[str, OptimGroup]] = {}
    averaged: tuple[str, ...] = ()
    exported: tuple[str, ...] = ()
    outputs: dict[str, str] = {}
    main_output = "fake"  # the output that grids, health checks and evaluation look at first
    translates = False    # True: new results come from held-out examples the recipe loads itself, not from noise
    flush_denormals = False  # True: the trainer flushes denormal floats to zero (CPU matmuls slow down 3x on them)
    nets: nn.ModuleDict

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg

    @classmethod
    def sections(cls, options: Any) -> dict[str, type]:
        """Config sections besides the recipe's own (e.g. the network family it builds): name -> options class."""
        return {}

    @classmethod
    def check(cls, cfg: Config, data) -> None:
        """Refuse settings that cannot work (one-line GankitErrors), before any network is built."""

    # ------------------------------------------------------------ training

    def optimizers(self) -> dict[str, OptimSpec]:
        raise NotImplementedError

    def group(self, name: str, nets: tuple[str, ...], reg_every: int = 1) -> OptimSpec:
        """The OptimSpec of optimizer `name` over `nets`, with the config's `optim.<name>` settings."""
        if name not in self.cfg.optim.groups:
            raise GankitError(f"optimizer '{name}' is not declared in {type(self).__name__}.OPTIMIZERS "
                              f"({', '.join(self.OPTIMIZERS)}), so the config has no optim.{name} section")
        g = self.cfg.optim.groups[name]
        return OptimSpec(nets, g.lr, (g.beta1, g.beta2), reg_every)

    def schedule(self, step: int) -> list[Phase]:
        raise NotImplementedError

    def compute(self, phase: Phase, batch: Batch, ctx: StepContext) -> dict[str, torch.Tensor]:
        handler = getattr(self, f"phase_{phase.name}", None)
        if handler is None:
            valid = sorted(name[6:] for name in dir(type(self)) if name.startswith("phase_"))
            raise GankitError(f"recipe {type(self).__name__} has no phase '{phase.name}'; valid: {', '.join(valid)}")
        return handler(phase, batch, ctx)

    def after_phase(self, phase: Phase, ctx: StepContext) -> None:
        """Called after each optimizer step."""

    # ------------------------------------------------------------ results

    held_out = None  # the test split, loaded once when results are first asked for

    def test_split(self):
        """Held-out examples: the test split of the run's data, loaded once from the run's config (so that a
        trained model finds them without its training data)."""
        if self.held_out is None:
            from ..data import load_data

            self.held_out = load_data(dataclasses.replace(self.cfg.data, split="test"))
        return self.held_out

    def held_out_inputs(self, n: int, draws: Draws, start: int = 0) -> Batch:
        """Held-out examples start, start + 1, ... (cycling), on the draws' device."""
        held_out = self.test_split()
        index = torch.arange(start, start + n) % len(held_out)
        return {k: v.to(draws.device) for k, v in held_out.batch(index, draws).items()}

    def fixed_inputs(self, n: int, data, draws: Draws) -> Batch:
        """Inputs of the sample grids, drawn once per run and kept across resumes."""
        raise NotImplementedError

    def noise_inputs(self, n: int, draws: Draws, labels: torch.Tensor | None = None) -> Batch:
        """Inputs of n new samples (noise-driven recipes); translators, which need inputs, refuse."""
        raise GankitError(f"recipe {type(self).__name__} translates inputs; it does not sample from noise")

    def eval_inputs(self, n: int, data, draws: Draws, start: int = 0) -> Batch:
        """Inputs of n results to evaluate (noise, or held-out examples start, start + 1, ... for translators)."""
        return self.noise_inputs(n, draws, self.cycled_labels(n))

    def example_inputs(self, n: int, fields: Mapping[str, Any]) -> Batch:
        """Inputs of the right shapes for tracing `generate` (the ONNX export); `fields` are the data's."""
        return self.noise_inputs(n, Draws.seeded(0), self.cycled_labels(n))

    def generate(self, nets: Mapping[str, nn.Module], inputs: Batch, **options) -> Batch:
        """Named outputs from inputs, computed with `nets` (the trained ones or their moving averages)."""
        raise NotImplementedError

    def protocol(self, data) -> str:
        """The evaluation protocol for this recipe on `data` ("" = none): by default the one the data names."""
        return getattr(data, "protocol", "")

    # ------------------------------------------------------------ labels

    @property
    def num_classes(self) -> int:
        """Classes the recipe conditions on (0 = unconditional)."""
        return 0

    def cycled_labels(self, n: int, per_row: int = 0) -> torch.Tensor | None:
        """Every class in turn (one class per row of `per_row` samples when given); None when unconditional."""
        k = self.num_classes
        if not k:
            return None
        return (torch.arange(n) // per_row) % k if per_row else torch.arange(n) % k
