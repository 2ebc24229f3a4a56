"""The classifiers gankit ships, with their weights (gankit/metrics/assets/<stem>.safetensors, each checked
against the SHA-256 recorded beside it by the script that trained it). The evaluator reads images with them;
recipes may train against them too (the cyclegan recipe's semantic loss), so they live with the networks.
"""
from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import torch.nn as nn
from safetensors.torch import load_file

from ..errors import GankitError
from .font_net import FontNet
from .mnist_net import MNISTNet, MNISTNetB

# name -> (network class, weights stem, what it is, the side of the square grey images it reads)
BUNDLED = {"mnist": (MNISTNet, "mnist_classifier", "MNIST classifier", 28),
           "mnist-b": (MNISTNetB, "mnist_b_classifier", "second MNIST classifier", 28),
           "digits8": (MNISTNet, "digits8_classifier", "8x8-digits classifier", 28),
           "digits8-boxed": (MNISTNet, "digits8_boxed_classifier", "8x8-digits classifier (MNIST's box)", 28),
           "digits8-boxed-b": (MNISTNetB, "digits8_boxed_b_classifier", "second 8x8-digits classifier (MNIST's box)",
                               28),
           "fonts": (FontNet, "font_classifier", "font classifier", 64)}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_bundled(net: nn.Module, stem: str, what: str) -> tuple[nn.Module, str]:
    """A network with the weights shipped as metrics/assets/<stem>.safetensors, after checking them against the
    SHA-256 recorded beside them -> (net in eval mode, checksum)."""
    assets = resources.files("gankit") / "metrics" / "assets"
    with resources.as_file(assets / f"{stem}.safetensors") as path:
        checksum = sha256(path)
        recorded = json.loads((assets / f"{stem}.json").read_text())["sha256"]
        if checksum != recorded:
            raise GankitError(f"the bundled {what} is damaged (sha256 {checksum[:12]}..., expected "
                              f"{recorded[:12]}...); reinstall gankit")
        net.load_state_dict(load_file(str(path)))
    return net.eval(), checksum


def bundled_classifier(name: str) -> tuple[nn.Module, str]:
    """The bundled classifier `name` (a key of BUNDLED) in eval mode, and its checksum."""
    net_class, stem, what, _ = BUNDLED[name]
    return load_bundled(net_class(), stem, what)
