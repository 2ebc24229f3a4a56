"""Token sequences for text GANs: a vocabulary, the bundled Tang quatrains and SeqGAN's synthetic oracle.

A text dataset has one field, `tokens` (int64 [L] per example), and carries its vocabulary in `info`:
`vocab` (the token strings, index = token id) and `eos` (the end-of-sequence id, or None for fixed-length data).
Ids after the end are PAD (0).

tang-poems  14,093 distinct quatrains of the Complete Tang Poems (五言/七言绝句), bundled; one character a
            token, the punctuation ，。 included, then <eos>. `data.script=simplified` reads the copy converted by OpenCC.
            A fixed 10% of the poems is the test split.
names       5,163 distinct US first names (the 1990 Census lists inside the `names` package, MIT licence:
            `pip install 'gankit[names]'`), lower case, a letter a token, then <eos>; 10% held out.
oracle      SeqGAN's synthetic benchmark: sequences of 20 tokens out of 5,000 sampled from a randomly
            initialised LSTM (embedding and hidden 32, weights N(0, 1), seed 0): 10,000 train, 5,000 test.
            The samples ship as assets/oracle.npz (scripts/make_oracle.py), so that every machine and torch
            version trains on the same sequences.
"""
from __future__ import annotations

import functools
import lzma
from importlib import resources

import numpy as np
import torch

from ..config import DataConfig
from ..errors import GankitError
from ..registry import DATASETS
from ..nets.text import ORACLE, oracle
from .base import ArrayData

PAD, EOS = 0, 1
SPECIALS = ("<pad>", "<eos>")
HELD_OUT = 0.1
SPLIT_SEED = 0


class Vocabulary:
    """Token strings <-> ids. `eos` None: fixed-length sequences without an end token."""

    def __init__(self, tokens: list[str], eos: int | None = EOS):
        self.tokens, self.eos = list(tokens), eos
        self.index = {t: i for i, t in enumerate(self.tokens)}
        # characters are written side by side; longer tokens (words, the oracle's numbers) with spaces between
        self.separator = "" if all(len(t) == 1 for t in self.tokens if not t.startswith("<")) else " "

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def of(cls, info: dict) -> "Vocabulary":
        if "vocab" not in info:
            raise GankitError("this data (or model) has no vocabulary: it is not text")
        return cls(info["vocab"], info.get("eos"))

    def encode(self, text: str, what: str = "text") -> list[int]:
        """Ids of each character of `text`; a one-line error naming the characters the vocabulary lacks."""
        unknown = sorted({c for c in text if c not in self.index})
        if unknown:
            shown = "".join(unknown[:10]) + ("..." if len(unknown) > 10 else "")
            raise GankitError(f"{what} has {len(unknown)} character(s) outside the model's vocabulary of "
                              f"{len(self)}: {shown}")
        return [self.index[c] for c in text]

    def decode(self, ids: torch.Tensor | list[int], sep: str | None = None) -> str:
        """The text of one sequence, up to its end token, its tokens joined by `sep` (default: the separator)."""
        out = []
        for i in (ids.tolist() if isinstance(ids, torch.Tensor) else ids):
            if i == self.eos or (self.eos is not None and i == PAD):
                break
            out.append(self.tokens[i])
        return (self.separator if sep is None else sep).join(out)


def text_data(sequences: list[list[int]], vocab: Vocabulary, name: str, protocol: str, cfg: DataConfig,
              length: int, info: dict | None = None) -> ArrayData:
    """Sequences as a [N, length] token array, each ended by EOS (when the vocabulary has one) and padded."""
    tokens = torch.full((len(sequences), length), PAD, dtype=torch.int64)
    for row, seq in enumerate(sequences):
        ids = seq + ([vocab.eos] if vocab.eos is not None else [])
        tokens[row, :len(ids)] = torch.tensor(ids[:length])
    if cfg.limit:
        tokens = tokens[:cfg.limit]
    return ArrayData({"tokens": tokens}, {"tokens": "tokens"}, name, protocol=protocol,
                     info={"vocab": vocab.tokens, "eos": vocab.eos, **(info or {})}, config=cfg)


# ---------------------------------------------------------------- Tang quatrains

@functools.lru_cache(maxsize=2)
def bundled_poems(script: str = "traditional") -> list[str]:
    """The distinct poems, in the file's order. (386 of its 14,479 lines repeat an earlier poem, which the Complete
    Tang Poems lists under two poets; kept twice, a held-out poem could be trained on.)"""
    name = "tang-quatrains.txt.xz" if script == "traditional" else "tang-quatrains-simplified.txt.xz"
    with lzma.open(resources.files("gankit") / "data" / "assets" / name, "rt", encoding="utf-8") as f:
        return list(dict.fromkeys(line for line in f.read().split("\n") if line))


@DATASETS.register("tang-poems", "14,093 Tang quatrains (五言/七言绝句), a character a token; 10% held out "
                                 "(data.script=traditional or simplified)")
def load_tang_poems(cfg: DataConfig) -> ArrayData:
    poems = bundled_poems(cfg.script)
    return split_text(poems, Vocabulary([*SPECIALS, *sorted(set("".join(poems)))]), "tang-poems", "poems", cfg)


def held_out_share(n: int) -> np.ndarray:
    """bool [n]: a fixed 10% of n examples, kept for testing."""
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(SPLIT_SEED).permutation(n)[:int(round(n * HELD_OUT))]] = True
    return mask


def split_text(items: list[str], vocab: "Vocabulary", name: str, protocol: str, cfg: DataConfig) -> ArrayData:
    """The train or test split (a fixed 10%) of texts, one character a token, over a vocabulary of all of them
    (so that both splits, and every run, share it)."""
    if cfg.split not in ("train", "test"):
        raise GankitError(f"{name} has splits train and test, not '{cfg.split}'")
    test = held_out_share(len(items))
    chosen = [p for p, t in zip(items, test) if t == (cfg.split == "test")]
    length = max(len(p) for p in items) + 1  # the longest text, then <eos>
    return text_data([vocab.encode(p) for p in chosen], vocab, name, protocol, cfg, length)


# ---------------------------------------------------------------- first names

@functools.lru_cache(maxsize=1)
def census_names() -> list[str]:
    """The distinct first names of the US Census 1990 lists shipped in the `names` package, lower case, sorted."""
    try:
        folder = resources.files("names")
    except ModuleNotFoundError:
        raise GankitError("the names dataset reads the `names` package: pip install 'gankit[names]'") from None
    found = set()
    for list_name in ("dist.male.first", "dist.female.first"):
        for line in (folder / list_name).read_text(encoding="ascii").splitlines():
            if line.strip():
                found.add(line.split()[0].lower())
    return sorted(found)


@DATASETS.register("names", "5,163 US first names (1990 Census, from the `names` package), a letter a token; "
                            "10% held out")
def load_names(cfg: DataConfig) -> ArrayData:
    names = census_names()
    vocab = Vocabulary([*SPECIALS, *sorted(set("".join(names)))])
    return split_text(names, vocab, "names", "names", cfg)


# ---------------------------------------------------------------- SeqGAN's oracle

def oracle_chunk(index: int) -> torch.Tensor:
    """Chunk `index` of the oracle's samples [1000, 20]: the train split is chunks 0-9, the test split 10-14."""
    generator = torch.Generator().manual_seed(ORACLE["seed"] + 1 + index)
    with torch.no_grad():
        return oracle().sample(torch.rand(ORACLE["chunk"], ORACLE["length"], generator=generator))


@functools.lru_cache(maxsize=1)
def oracle_sequences() -> dict[str, torch.Tensor]:
    """{"train": [10000, 20], "test": [5000, 20]}: the shipped samples of the oracle."""
    with np.load(resources.files("gankit") / "data" / "assets" / "oracle.npz") as f:
        return {split: torch.from_numpy(f[split].astype(np.int64)) for split in ("train", "test")}


@DATASETS.register("oracle", "SeqGAN's synthetic text: 20 tokens of 5,000 from a random LSTM (10,000 train, "
                             "5,000 test); judged by the oracle's likelihood")
def load_oracle(cfg: DataConfig) -> ArrayData:
    if cfg.split not in ("train", "test"):
        raise GankitError(f"oracle has splits train and test, not '{cfg.split}'")
    tokens = oracle_sequences()[cfg.split]
    if cfg.limit:
        tokens = tokens[:cfg.limit]
    return ArrayData({"tokens": tokens.clone()}, {"tokens": "tokens"}, "oracle", protocol="oracle-nll",
                     info={"vocab": [str(i) for i in range(ORACLE["vocab"])], "eos": None}, config=cfg)
