"""Training recipes, chosen by name (config key `recipe`)."""
import torch

from . import cyclegan, gan, paired, textgan  # noqa: F401  (registers the recipes)
from ..config import Config
from ..limits import check_memory, module_bytes
from ..registry import RECIPES
from .base import OptimSpec, Phase, Recipe, StepContext


def build_recipe(cfg: Config, data) -> Recipe:
    """The recipe named by cfg.recipe, with its networks built for the data's fields.

    The networks are first built on the meta device (nothing allocated) so that sizes from a config or an export
    that cannot fit in memory are refused before they are allocated."""
    recipe_class = RECIPES.get(cfg.recipe)
    with torch.device("meta"):
        probe = recipe_class(cfg, data)
    nbytes = module_bytes(probe)
    check_memory(nbytes, f"the networks of recipe '{cfg.recipe}' ({nbytes // 4 / 1e6:.0f}M parameters)",
                 "choose smaller widths or fewer layers")
    return recipe_class(cfg, data)


__all__ = ["OptimSpec", "Phase", "Recipe", "StepContext", "build_recipe"]
