"""gankit: generative adversarial networks that train in minutes on a CPU.

Public API: `train`, `load_generator`, `resolve` (configs), and the component registries.
"""
import gc

# Importing torch and gankit makes some 180,000 objects that live as long as the process, and the garbage
# collector would sweep all of them several times over while they are made (0.3-0.4 s of every start). Full
# sweeps are put off until the imports are done (the young generations are still collected as usual, so no
# single sweep has all of them to go through); then the collector's thresholds are as they were.
_thresholds = gc.get_threshold()
gc.set_threshold(*_thresholds[:2], 1 << 30)
try:
    from .config import Config, resolve
    from .errors import GankitError
    from .registry import DATASETS, EXTRACTORS, LOSSES, NETWORKS, PROTOCOLS, RECIPES
    from .sampling import load_generator
    from . import data, losses, nets, recipes  # noqa: F401  (fills the registries)
finally:
    gc.set_threshold(*_thresholds)

__version__ = "0.1.0"


def train(preset: str | None = None, overrides: list[str] = (), out: str | None = None, progress: bool = True):
    """Train a preset (with `--set`-style overrides) into `out`; returns the RunResult with the output paths."""
    from .cli import default_run_dir
    from .trainer import Trainer

    cfg = resolve(preset, overrides)
    return Trainer(cfg, out or default_run_dir(cfg), progress=progress).fit()


__all__ = ["Config", "GankitError", "DATASETS", "EXTRACTORS", "LOSSES", "NETWORKS", "PROTOCOLS", "RECIPES",
           "load_generator", "resolve", "train"]
