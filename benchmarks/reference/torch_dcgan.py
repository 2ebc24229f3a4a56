"""Reference program: the DCGAN recipe of pytorch/examples (dcgan/main.py) adapted to 28x28 MNIST, written
plainly as a user would: BatchNorm DCGAN (ngf = ndf = 64), BCE loss, Adam 2e-4 with betas (0.5, 0.999), batch
64, fp32, a DataLoader over the images in memory (no worker processes: they would take this machine's 2 cores).

    python benchmarks/reference/torch_dcgan.py --minutes 5 --seed 0 --out runs/ref-torch

Every --snapshot-every seconds of training it writes OUT/snap-SECONDS.npz: 2,000 samples from fixed noise,
uint8 (N, 28, 28, 1), and at the end OUT/final.npz with 10,000; the time spent writing them is not counted.
benchmarks/time_to_quality.py scores the snapshots with gankit's evaluator.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

NZ, NGF, NDF = 100, 64, 64


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(NGF * 4), nn.ReLU(True),  # 7x7
            nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NGF * 2), nn.ReLU(True),  # 14
            nn.ConvTranspose2d(NGF * 2, 1, 4, 2, 1, bias=False), nn.Tanh())  # 28x28

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # 14x14
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2), nn.LeakyReLU(0.2, inplace=True),  # 7
            nn.Conv2d(NDF * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


def weights_init(m):
    if "Conv" in type(m).__name__:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in type(m).__name__:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


@torch.no_grad()
def write_samples(netG, noise, path):
    netG.eval()
    images = torch.cat([netG(z) for z in noise.split(500)])
    netG.train()
    pixels = ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    np.savez(path, images=pixels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--snapshot-every", type=float, default=10.0, help="seconds of training between snapshots")
    parser.add_argument("--data", default="", help="mnist.npz (default: the copy bundled with gankit)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    if args.data:
        x = np.load(args.data)["x_train"]
    else:
        from gankit.data.mnist import bundled_mnist
        x = bundled_mnist()["x_train"]
    images = torch.from_numpy(x).float().div(127.5).sub(1).unsqueeze(1)  # [-1, 1], like the example's Normalize
    loader = DataLoader(TensorDataset(images), batch_size=64, shuffle=True, drop_last=True)

    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    fixed = torch.randn(2000, NZ, 1, 1, generator=torch.Generator().manual_seed(1234))

    trained, next_snapshot, steps = 0.0, args.snapshot_every, 0
    start = time.perf_counter()
    while trained < args.minutes * 60:
        for (real,) in loader:
            b = real.size(0)
            netD.zero_grad()
            errD_real = criterion(netD(real), torch.ones(b))
            errD_real.backward()
            fake = netG(torch.randn(b, NZ, 1, 1))
            errD_fake = criterion(netD(fake.detach()), torch.zeros(b))
            errD_fake.backward()
            optD.step()
            netG.zero_grad()
            errG = criterion(netD(fake), torch.ones(b))
            errG.backward()
            optG.step()
            steps += 1
            trained_now = trained + time.perf_counter() - start
            if trained_now >= next_snapshot or trained_now >= args.minutes * 60:
                trained = trained_now
                write_samples(netG, fixed, args.out / f"snap-{trained:08.2f}.npz")
                next_snapshot = trained + args.snapshot_every
                start = time.perf_counter()
                if trained >= args.minutes * 60:
                    break
    write_samples(netG, torch.randn(10000, NZ, 1, 1, generator=torch.Generator().manual_seed(4321)),
                  args.out / "final.npz")
    print(f"{steps} steps in {trained:.1f} s of training")


if __name__ == "__main__":
    main()
