"""Text metrics: the oracle's likelihood (SeqGAN's synthetic benchmark), BLEU and self-BLEU (nltk's), held-out
likelihood, the form of Tang quatrains, and how many generated first names are real ones.

NLL values are per token, in nats. BLEU-n is the mean over generated sequences of nltk's sentence BLEU against
all references at once (the Texygen/SeqGAN protocol), uniform weights over 1..n-grams, smoothing method 1;
poems are compared character by character with their punctuation removed. Self-BLEU scores each of the first
`n` samples against the other n - 1: higher means less diverse.
"""
from __future__ import annotations

import re

import numpy as np
import torch

PUNCTUATION = "，。！？；、"
QUATRAIN = re.compile(r"([^，。！？；、]{5}，[^，。！？；、]{5}。){2}|([^，。！？；、]{7}，[^，。！？；、]{7}。){2}")


def per_token_nll(nll: torch.Tensor, count: torch.Tensor) -> float:
    return float(nll.double().sum() / count.double().sum().clamp(min=1))


@torch.no_grad()
def oracle_nll(tokens: torch.Tensor, batch_size: int = 1000) -> float:
    """The oracle's negative log-likelihood per token of sequences [N, 20] (SeqGAN's NLL_oracle)."""
    from ..nets.text import oracle

    net = oracle()
    parts = [net.nll(chunk.cpu(), None) for chunk in tokens.split(batch_size)]
    return per_token_nll(torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts]))


def characters(text: str) -> list[str]:
    return [c for c in text if c not in PUNCTUATION]


def bleu(hypotheses: list[list[str]], references: list[list[str]], n: int = 2) -> float:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smoothing, weights = SmoothingFunction().method1, (1.0 / n,) * n
    return float(np.mean([sentence_bleu(references, h, weights, smoothing_function=smoothing) for h in hypotheses]))


def self_bleu(samples: list[list[str]], n: int = 2) -> float:
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    smoothing, weights = SmoothingFunction().method1, (1.0 / n,) * n
    return float(np.mean([sentence_bleu(samples[:i] + samples[i + 1:], h, weights, smoothing_function=smoothing)
                          for i, h in enumerate(samples)]))


def well_formed(poems: list[str]) -> float:
    """The share of texts that are quatrains: four lines of five (or seven) characters, as A，B。C，D。"""
    return float(np.mean([QUATRAIN.fullmatch(p) is not None for p in poems])) if poems else 0.0


def name_scores(samples: list[str], train: set[str], test: set[str]) -> dict[str, float]:
    """Generated names against the census lists: `real` = share that are census names (seen in training or not),
    `new_real` = share that are held-out names (real, and never trained on), `novel` = share not in the training
    list, `distinct` = share of different names among the samples."""
    n = max(len(samples), 1)
    return {"real": sum(s in train or s in test for s in samples) / n,
            "new_real": sum(s in test for s in samples) / n,
            "novel": sum(s not in train for s in samples) / n,
            "distinct": len(set(samples)) / n}
