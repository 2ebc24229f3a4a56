"""Training recipes, chosen by name (config key `recipe`)."""
from . import gan  # noqa: F401  (registers the recipes)
from ..config import Config
from ..registry import RECIPES
from .base import Phase, Recipe, StepContext


def build_recipe(cfg: Config, data) -> Recipe:
    """The recipe named by cfg.recipe, for data that has `sample_shape`, `num_classes` and a batch `key`."""
    return RECIPES.get(cfg.recipe)(cfg, data)


__all__ = ["Phase", "Recipe", "StepContext", "build_recipe"]
