"""Training recipes, chosen by name (config key `recipe`)."""
from . import gan  # noqa: F401  (registers the recipes)
from ..config import Config
from ..registry import RECIPES
from .base import Phase, Recipe, StepContext


def build_recipe(cfg: Config, image_shape: tuple[int, int, int], num_classes: int = 0) -> Recipe:
    return RECIPES.get(cfg.recipe)(cfg, image_shape, num_classes)


__all__ = ["Phase", "Recipe", "StepContext", "build_recipe"]
