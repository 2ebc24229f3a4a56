"""Make the MNIST copy bundled in the package from the full set in ../shared/data/mnist.npz.

usage: python scripts/bundle_mnist.py [SOURCE.npz]
MNIST is by Yann LeCun, Corinna Cortes and Christopher Burges, under CC BY-SA 3.0.
"""
import hashlib
import sys
from pathlib import Path

import numpy as np

source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mnist.npz")
target = Path(__file__).resolve().parents[1] / "src" / "gankit" / "data" / "assets" / "mnist.npz"
with np.load(source) as f:
    arrays = {k: np.ascontiguousarray(f[k], dtype=np.uint8) for k in ("x_train", "y_train", "x_test", "y_test")}
assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
np.savez_compressed(target, **arrays)
print(target, target.stat().st_size, "bytes, sha256", hashlib.sha256(target.read_bytes()).hexdigest())
