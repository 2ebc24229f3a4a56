"""Train the bundled MNIST feature network, deterministically on the CPU, and write its weights.

usage: python scripts/train_mnist_classifier.py              # the main network (MNISTNet, seed 0)
       python scripts/train_mnist_classifier.py --net b      # the second opinion (MNISTNetB, seed 1)

One thread, fixed seeds and deterministic algorithms, so that the same torch version rebuilds the same
bytes; the SHA-256 of the weights is printed and recorded beside them. Data: the bundled MNIST train split
(60,000) for training, the test split (10,000) only for the accuracy printed at the end.
"""
import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from gankit.data.base import to_float
from gankit.data.mnist import bundled_mnist
from gankit.nets.mnist_net import MNISTNet, MNISTNetB

ASSETS = Path(__file__).resolve().parents[1] / "src" / "gankit" / "metrics" / "assets"
# --net -> (network, weights file, seed, epochs)
NETS = {"main": (MNISTNet, "mnist_classifier.safetensors", 0, 6),
        "b": (MNISTNetB, "mnist_b_classifier.safetensors", 1, 5)}


def shift(x: torch.Tensor, generator: torch.Generator, max_px: int = 2) -> torch.Tensor:
    """Random translation by up to max_px pixels (zero padding): the only augmentation."""
    n = len(x)
    padded = F.pad(x, (max_px,) * 4, value=-1.0)
    dx = torch.randint(0, 2 * max_px + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * max_px + 1, (n,), generator=generator)
    rows = (dy.view(n, 1) + torch.arange(28)).view(n, 1, 28, 1).expand(n, 1, 28, 28 + 2 * max_px)
    cols = (dx.view(n, 1) + torch.arange(28)).view(n, 1, 1, 28).expand(n, 1, 28, 28)
    return padded.gather(2, rows).gather(3, cols)


def train(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, batch: int, max_lr: float,
          augment: Callable[[torch.Tensor], torch.Tensor], generator: torch.Generator) -> torch.nn.Module:
    """Adam with a one-cycle rate schedule on shuffled batches of augmented x, printing each epoch's loss."""
    opt = torch.optim.Adam(net.parameters(), lr=max_lr / 2)
    steps_per_epoch = len(x) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=epochs * steps_per_epoch)
    start = time.time()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for i in range(steps_per_epoch):
            index = order[i * batch:(i + 1) * batch]
            _, logits = net(augment(x[index]))
            loss = F.cross_entropy(logits, y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/{epochs}  train loss {total / steps_per_epoch:.4f}  {time.time() - start:.0f} s",
              flush=True)
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=list(NETS), default="main")
    parser.add_argument("--out", help="weights file (default: the bundled one of --net)")
    parser.add_argument("--epochs", type=int, help="default: 6 for main, 5 for b")
    args = parser.parse_args()
    net_class, filename, seed, epochs = NETS[args.net]
    args.out = args.out or str(ASSETS / filename)
    args.epochs = args.epochs or epochs
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    arrays = bundled_mnist()
    x_train = to_float(torch.from_numpy(arrays["x_train"]).unsqueeze(1))
    y_train = torch.from_numpy(arrays["y_train"]).long()
    x_test = to_float(torch.from_numpy(arrays["x_test"]).unsqueeze(1))
    y_test = torch.from_numpy(arrays["y_test"]).long()

    net = train(net_class(), x_train, y_train, args.epochs, 128, 2e-3, lambda x: shift(x, generator), generator)
    net.eval()
    with torch.no_grad():
        predictions = torch.cat([net(x)[1].argmax(1) for x in x_test.split(1000)])
    accuracy = (predictions == y_test).float().mean().item()
    print(f"test accuracy {accuracy * 100:.2f}% on 10,000 MNIST test images")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out))
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_suffix(".json").write_text(json.dumps(
        {"sha256": sha, "test_accuracy": round(accuracy, 4), "net": net_class.__name__, "seed": seed,
         "epochs": args.epochs, "torch": torch.__version__,
         "script": "scripts/train_mnist_classifier.py"}, indent=2) + "\n")
    print(f"wrote {out.name}  sha256 {sha}")


if __name__ == "__main__":
    main()
