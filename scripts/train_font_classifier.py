"""Train the bundled font classifier, deterministically on the CPU, and write its weights.

usage: python scripts/train_font_classifier.py [--out src/gankit/metrics/assets/font_classifier.safetensors]

It learns which design of the bundled fonts drew a glyph -- hei, kai or ming (droid is the hei design and is
left out) -- from the training characters only (80% of the 3,755; the held-out 20% that glyph translators are judged on are never seen here), and prints
its accuracy on the held-out characters. Augmentation: random shifts of up to 4 px and, for half the images, a
Gaussian blur (sigma up to 1.5), so that a soft translated glyph is judged by its shapes, not by its sharpness.
One thread, fixed seeds and deterministic algorithms; the SHA-256 of the weights is recorded beside them.
"""
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from train_mnist_classifier import train  # the same loop as the MNIST classifier's

from gankit.data.base import to_float
from gankit.data.glyphs import bundled_glyphs, held_out_characters
from gankit.nets.font_net import FONTS, FontNet

ASSETS = Path(__file__).resolve().parents[1] / "src" / "gankit" / "metrics" / "assets"
SHIFT = 4
MAX_SIGMA = 1.5


def shift(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random translation by up to SHIFT pixels, padding with paper white."""
    n, side = len(x), x.shape[-1]
    padded = F.pad(x, (SHIFT,) * 4, value=1.0)
    dx = torch.randint(0, 2 * SHIFT + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * SHIFT + 1, (n,), generator=generator)
    rows = (dy.view(n, 1) + torch.arange(side)).view(n, 1, side, 1).expand(n, 1, side, side + 2 * SHIFT)
    cols = (dx.view(n, 1) + torch.arange(side)).view(n, 1, 1, side).expand(n, 1, side, side)
    return padded.gather(2, rows).gather(3, cols)


def blur(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A Gaussian blur of random sigma in [0, MAX_SIGMA] for a random half of the images (7x7 kernel each)."""
    n = len(x)
    sigma = torch.rand(n, generator=generator) * MAX_SIGMA * (torch.rand(n, generator=generator) < 0.5)
    t = torch.arange(-3, 4, dtype=torch.float32)
    kernel = torch.exp(-t.view(1, 7) ** 2 / (2 * sigma.clamp(min=1e-3).view(n, 1) ** 2))
    kernel = kernel / kernel.sum(1, keepdim=True)                                  # [n, 7], separable
    out = F.pad(x, (3, 3, 3, 3), mode="replicate").transpose(0, 1)                 # [1, n, H+6, W+6]
    out = F.conv2d(out, kernel.view(n, 1, 1, 7), groups=n)
    out = F.conv2d(out, kernel.view(n, 1, 7, 1), groups=n)
    return out.transpose(0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ASSETS / "font_classifier.safetensors"))
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    bundle = bundled_glyphs()
    test = held_out_characters(len(bundle["chars"]))

    def split(mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [list(bundle["fonts"]).index(f) for f in FONTS]
        glyphs = torch.from_numpy(bundle["glyphs"][rows][:, mask])              # [F, N, 64, 64]
        x = to_float(glyphs.reshape(-1, 1, *glyphs.shape[-2:]))
        y = torch.arange(len(FONTS)).repeat_interleave(glyphs.shape[1])
        return x, y

    x_train, y_train = split(~test)
    x_test, y_test = split(test)
    net = train(FontNet(), x_train, y_train, args.epochs, 64, 3e-3,
                lambda x: blur(shift(x, generator), generator), generator)
    net.eval()
    with torch.no_grad():
        predictions = torch.cat([net(x)[1].argmax(1) for x in x_test.split(500)])
        blurred = torch.cat([net(blur(x, generator))[1].argmax(1) for x in x_test.split(500)])
    accuracy = (predictions == y_test).float().mean().item()
    accuracy_blurred = (blurred == y_test).float().mean().item()
    per_font = {f: round((predictions == y_test)[y_test == i].float().mean().item(), 4) for i, f in enumerate(FONTS)}
    print(f"held-out accuracy {accuracy * 100:.2f}% on {len(x_test)} glyphs ({test.sum()} characters x "
          f"{len(FONTS)} fonts): {per_font}; with the training blur {accuracy_blurred * 100:.2f}%")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out))
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    out.with_suffix(".json").write_text(json.dumps(
        {"sha256": sha, "fonts": list(FONTS), "held_out_accuracy": round(accuracy, 4), "per_font": per_font,
         "held_out_accuracy_blurred": round(accuracy_blurred, 4), "epochs": args.epochs, "torch": torch.__version__,
         "script": "scripts/train_font_classifier.py"}, indent=2) + "\n")
    print(f"wrote {out.name}  sha256 {sha}")


if __name__ == "__main__":
    main()
