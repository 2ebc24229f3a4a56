"""Networks: plain nn.Modules, registered by name. G(z, c=None) -> images in [-1, 1]; D(x, c=None) -> logits."""
from . import dcgan, mlp  # noqa: F401  (registers the networks)
from ..config import ModelConfig
from ..registry import NETWORKS


def build_networks(cfg: ModelConfig, image_shape: tuple[int, int, int]):
    """(G, D) for a model config and an image shape (C, H, W)."""
    return NETWORKS.get(cfg.net)(cfg, tuple(image_shape))
