"""gankit: generative adversarial networks that train in minutes on a CPU.

Public API: `train`, `load_generator`, `resolve` (configs), and the component registries.
"""
from .config import Config, resolve
from .errors import GankitError
from .registry import DATASETS, EXTRACTORS, LOSSES, NETWORKS, PROTOCOLS, RECIPES
from .sampling import load_generator
from . import data, losses, nets, recipes  # noqa: F401  (fills the registries)

__version__ = "0.1.0"


def train(preset: str | None = None, overrides: list[str] = (), out: str | None = None, progress: bool = True):
    """Train a preset (with `--set`-style overrides) into `out`; returns the RunResult with the output paths."""
    from .cli import default_run_dir
    from .trainer import Trainer

    cfg = resolve(preset, overrides)
    return Trainer(cfg, out or default_run_dir(cfg), progress=progress).fit()


__all__ = ["Config", "GankitError", "DATASETS", "EXTRACTORS", "LOSSES", "NETWORKS", "PROTOCOLS", "RECIPES",
           "load_generator", "resolve", "train"]
