"""Training recipes, chosen by name (config key `recipe`)."""
from . import gan  # noqa: F401  (registers the recipes)
from ..config import Config
from ..registry import RECIPES
from .base import OptimSpec, Phase, Recipe, StepContext


def build_recipe(cfg: Config, data) -> Recipe:
    """The recipe named by cfg.recipe, with its networks built for the data's fields."""
    return RECIPES.get(cfg.recipe)(cfg, data)


__all__ = ["OptimSpec", "Phase", "Recipe", "StepContext", "build_recipe"]
