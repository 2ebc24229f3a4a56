"""Sample SeqGAN's oracle and ship its sequences: src/gankit/data/assets/oracle.npz (train 10,000 x 20, test
5,000 x 20, uint16).

usage: python scripts/make_oracle.py

Chunks of 1,000 sequences, each from its own seeded generator (gankit.data.text.oracle_chunk), so a test can
regenerate one chunk and compare it with the shipped file.
"""
import time
from pathlib import Path

import numpy as np
import torch

from gankit.data.text import ORACLE, oracle_chunk

OUT = Path(__file__).resolve().parents[1] / "src" / "gankit" / "data" / "assets" / "oracle.npz"


def main() -> None:
    start = time.time()
    torch.set_num_threads(1)
    n_train = ORACLE["train"] // ORACLE["chunk"]
    chunks = [oracle_chunk(i).numpy().astype(np.uint16)
              for i in range((ORACLE["train"] + ORACLE["test"]) // ORACLE["chunk"])]
    np.savez_compressed(OUT, train=np.concatenate(chunks[:n_train]), test=np.concatenate(chunks[n_train:]))
    print(f"wrote {OUT.name} ({OUT.stat().st_size / 1e3:.0f} kB) in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
