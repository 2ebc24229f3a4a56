"""Train the bundled classifier of scikit-learn's 8x8 digits (as digit-styles shows them: upscaled to 28x28),
deterministically on the CPU, and write its weights.

usage: python scripts/train_digits8_classifier.py [--out src/gankit/metrics/assets/digits8_classifier.safetensors]

It judges CycleGAN's MNIST -> 8x8-digits translations: does the translated digit keep its label? The network is
the MNIST classifier's (gankit/nets/mnist_net.py); it learns from the 1,438 training digits of digit-styles
only (shifts of up to 2 px as augmentation) and prints its accuracy on the 359 held-out ones. One thread, fixed
seeds and deterministic algorithms; the SHA-256 of the weights is recorded beside them.
"""
import argparse
import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from train_mnist_classifier import ASSETS, shift, train  # the same augmentation and loop as the MNIST classifier

from gankit.config import DataConfig
from gankit.data import load_data
from gankit.data.base import to_float
from gankit.nets.mnist_net import MNISTNet


def split(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    domain = load_data(DataConfig(name="digit-styles", split=name)).b
    return to_float(domain.arrays["b"]), domain.arrays["b_label"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ASSETS / "digits8_classifier.safetensors"))
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    (x_train, y_train), (x_test, y_test) = split("train"), split("test")
    net = train(MNISTNet(), x_train, y_train, args.epochs, 64, 3e-3, lambda x: shift(x, generator), generator)
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_test)[1].argmax(1) == y_test).float().mean().item()
    print(f"held-out accuracy {accuracy * 100:.2f}% on {len(x_test)} 8x8 digits (trained on {len(x_train)})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out))
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_suffix(".json").write_text(json.dumps(
        {"sha256": sha, "held_out_accuracy": round(accuracy, 4), "train": len(x_train), "held_out": len(x_test),
         "epochs": args.epochs, "torch": torch.__version__, "script": "scripts/train_digits8_classifier.py"},
        indent=2) + "\n")
    print(f"wrote {out.name}  sha256 {sha}")


if __name__ == "__main__":
    main()
