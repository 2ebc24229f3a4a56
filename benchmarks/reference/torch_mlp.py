"""Reference program for whole-process time: the tutorial's MLP GAN as a plain PyTorch script, written as a
user would: G 100-256-512-1024-784 (LeakyReLU 0.2, tanh), D 784-512-256-1 (LeakyReLU 0.2, sigmoid), BCE with
the non-saturating G loss, Adam 2e-4 / (0.5, 0.999), batch 128, data in [-1, 1]; a DataLoader over the images
in memory; at the end a 10x10 grid of samples. The same nets and settings as `gankit train seed-mlp`.

    time python benchmarks/reference/torch_mlp.py --steps 3000 --out runs/ref-torch-mlp
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="", help="mnist.npz (default: the copy bundled with gankit)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    if args.data:
        x = np.load(args.data)["x_train"]
    else:
        from gankit.data.mnist import bundled_mnist
        x = bundled_mnist()["x_train"]
    images = torch.from_numpy(x).float().div(127.5).sub(1).view(-1, 784)
    loader = DataLoader(TensorDataset(images), batch_size=128, shuffle=True, drop_last=True)
    G = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2),
                      nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh())
    D = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1), nn.Sigmoid())
    bce = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    step = 0
    while step < args.steps:
        for (real,) in loader:
            b = real.size(0)
            fake = G(torch.randn(b, 100))
            loss_d = bce(D(real), torch.ones(b, 1)) + bce(D(fake.detach()), torch.zeros(b, 1))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = bce(D(fake), torch.ones(b, 1))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            step += 1
            if step % 500 == 0:
                print(f"step {step}: D {loss_d.item():.3f} G {loss_g.item():.3f}", flush=True)
            if step >= args.steps:
                break
    with torch.no_grad():
        samples = G(torch.randn(100, 100)).view(10, 10, 28, 28).permute(0, 2, 1, 3).reshape(280, 280)
    Image.fromarray(((samples + 1) * 127.5).clamp(0, 255).byte().numpy()).save(args.out / "samples.png")
    print(f"{step} steps; {time.perf_counter() - start:.1f} s in the script")


if __name__ == "__main__":
    main()
