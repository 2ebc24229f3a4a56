"""Train a bundled classifier of scikit-learn's 8x8 digits, deterministically on the CPU, and write its weights.

usage: python scripts/train_digits8_classifier.py                          # digits8: upscaled to fill 28x28
       python scripts/train_digits8_classifier.py --layout boxed           # digits8-boxed: in MNIST's 20x20 box
       python scripts/train_digits8_classifier.py --layout boxed --net b   # digits8-boxed-b: a second one

`digits8` reads the digits8 dataset (the few-labels benchmark's judge); `digits8-boxed` reads domain B of
digit-styles and judges CycleGAN's MNIST -> 8x8-digits translations: does the translated digit keep its label?
`digits8-boxed-b` (the second MNIST classifier's network, another seed) may coach those translations in training
(cyclegan.coach_b), so that the judge stays one that took no part in training.
The network is the MNIST classifier's (gankit/nets/mnist_net.py); it learns from the 1,438 training digits only
(shifts of up to 2 px as augmentation) and prints its accuracy on the 359 held-out ones. One thread, fixed
seeds and deterministic algorithms; the SHA-256 of the weights is recorded beside them.
"""
import argparse
import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from train_mnist_classifier import ASSETS, shift, train  # the same augmentation and loop as the MNIST classifier

from gankit.data.base import to_float
from gankit.data.unpaired import MNIST_BOX, SIDE, digits_split
from gankit.nets.mnist_net import MNISTNet, MNISTNetB

# --layout -> (side of the box the digits are upscaled to, weights file stem)
LAYOUTS = {"fill": (SIDE, "digits8"), "boxed": (MNIST_BOX, "digits8_boxed")}
# --net -> (network, seed, weights file stem suffix)
NETS = {"main": (MNISTNet, 0, ""), "b": (MNISTNetB, 1, "_b")}


def split(box: int, test: bool) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = digits_split(box, test)
    return to_float(images), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", choices=sorted(LAYOUTS), default="fill")
    parser.add_argument("--net", choices=list(NETS), default="main")
    parser.add_argument("--out", help="weights file (default: the bundled one of --layout and --net)")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    net_class, seed, suffix = NETS[args.net]
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    box, stem = LAYOUTS[args.layout]
    (x_train, y_train), (x_test, y_test) = split(box, test=False), split(box, test=True)
    net = train(net_class(), x_train, y_train, args.epochs, 64, 3e-3, lambda x: shift(x, generator), generator)
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_test)[1].argmax(1) == y_test).float().mean().item()
    print(f"held-out accuracy {accuracy * 100:.2f}% on {len(x_test)} 8x8 digits (trained on {len(x_train)})")
    out = Path(args.out or ASSETS / f"{stem}{suffix}_classifier.safetensors")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out))
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_suffix(".json").write_text(json.dumps(
        {"sha256": sha, "held_out_accuracy": round(accuracy, 4), "train": len(x_train), "held_out": len(x_test),
         "epochs": args.epochs, "layout": args.layout,
         "net": net_class.__name__, "seed": seed, "torch": torch.__version__, "script": "scripts/train_digits8_classifier.py"},
        indent=2) + "\n")
    print(f"wrote {out.name}  sha256 {sha}")


if __name__ == "__main__":
    main()
