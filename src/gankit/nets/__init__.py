"""Networks: plain nn.Modules, registered by name. G(z, c=None) -> images in [-1, 1]; D(x, c=None) -> logits."""
from . import dcgan, mlp, resnet  # noqa: F401  (registers the networks)
from ..config import ModelConfig
from ..registry import NETWORKS


def build_networks(cfg: ModelConfig, image_shape: tuple[int, int, int], num_classes: int = 0):
    """(G, D) for a model config, an image shape (C, H, W) and the number of classes in the data."""
    return NETWORKS.get(cfg.net)(cfg, tuple(image_shape), num_classes)
