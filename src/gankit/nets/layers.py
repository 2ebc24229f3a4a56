"""Small building blocks shared by the networks."""
from __future__ import annotations

import torch.nn as nn

from ..errors import GankitError

NORMS = ("batch", "none")


def norm2d(kind: str, channels: int) -> nn.Module:
    check_norm(kind)
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.Identity()


def norm1d(kind: str, features: int) -> nn.Module:
    check_norm(kind)
    return nn.BatchNorm1d(features) if kind == "batch" else nn.Identity()


def check_norm(kind: str) -> None:
    if kind not in NORMS:
        raise GankitError(f"unknown norm '{kind}'; valid: {', '.join(NORMS)}")


def dcgan_init(module: nn.Module) -> None:
    """Weights from N(0, 0.02), norm gains from N(1, 0.02), biases 0 (Radford et al. 2015, section 4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
