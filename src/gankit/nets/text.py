"""Networks for text GANs: an LSTM generator that samples token by token, SeqGAN's CNN discriminator, and the
oracle LSTM of SeqGAN's synthetic benchmark.

Token ids live in [0, vocab); the generator reads a learned start token first (id `vocab` of its embedding).
Sampling takes its random numbers as an input (one uniform per position), as image generators take z.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..config import ranged
from ..errors import GankitError
from ..registry import Registry

TEXT_GENERATORS: Registry = Registry("text generator")
TEXT_CRITICS: Registry = Registry("text discriminator")
PAD = 0
# SeqGAN's synthetic benchmark: the oracle's sizes and seed, and how many sequences the package ships
ORACLE = {"vocab": 5000, "length": 20, "embed": 32, "hidden": 32, "seed": 0, "train": 10000, "test": 5000,
          "chunk": 1000}


def categorical(logits: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """One draw per row of softmax(logits) [N, V] -> [N] ids, by inverting the cumulative distribution at the
    uniforms u [N] (7x faster than torch.multinomial on the CPU, and the draws are the caller's)."""
    cumulative = F.softmax(logits.float(), dim=-1).cumsum(1)
    return torch.searchsorted(cumulative, u.unsqueeze(1) * cumulative[:, -1:]).squeeze(1).clamp_(max=logits.shape[1] - 1)


@dataclass
class LSTMOptions:
    embed: int = ranged(64, low=1, high=4096)    # token embedding size (SeqGAN: 32)
    hidden: int = ranged(128, low=1, high=8192)  # LSTM state size (SeqGAN: 32)
    layers: int = ranged(1, low=1, high=8)


class LSTMGenerator(nn.Module):
    """Embedding -> LSTM -> logits over the vocabulary; teacher-forced for likelihoods, sampled for text."""

    def __init__(self, o: LSTMOptions, vocab: int):
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab + 1, o.embed)  # the last row is the start token
        self.lstm = nn.LSTM(o.embed, o.hidden, o.layers, batch_first=True)
        self.out = nn.Linear(o.hidden, vocab)

    def start(self, n: int) -> torch.Tensor:
        return torch.full((n, 1), self.vocab, dtype=torch.long, device=self.out.weight.device)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits [N, L, V] of every position given the ones before it (tokens [N, L])."""
        inputs = torch.cat([self.start(len(tokens)), tokens[:, :-1]], 1)
        hidden, _ = self.lstm(self.embed(inputs))
        return self.out(hidden)

    def log_likelihoods(self, tokens: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """log p(token | the tokens before it) [N, L], teacher-forced, under the model sampled at `temperature`
        (softmax of logits / temperature)."""
        logits = self(tokens)
        if temperature != 1:
            logits = logits / temperature
        # on rows of [N * L, V]: cross_entropy over dim 1 of [N, V, L] is 4x slower on the CPU (strided softmax)
        return -F.cross_entropy(logits.flatten(0, 1), tokens.flatten(), reduction="none").view_as(tokens)

    def nll(self, tokens: torch.Tensor, eos: int | None, temperature: float = 1.0) -> torch.Tensor:
        """Negative log-likelihood per sequence, summed over its tokens up to its end [N], and the token count [N],
        under the model sampled at `temperature`."""
        logp = self.log_likelihoods(tokens, temperature)
        mask = token_mask(tokens, eos)
        return -(logp * mask).sum(1), mask.sum(1)

    def step(self, token: torch.Tensor, state=None, soft: torch.Tensor | None = None):
        """One step: the previous token [N] (or a soft one-hot [N, V] through the embedding) -> logits [N, V]."""
        x = soft @ self.embed.weight[:self.vocab] if soft is not None else self.embed(token)
        hidden, state = self.lstm(x.unsqueeze(1), state)
        return self.out(hidden[:, 0]), state

    def run_prefix(self, prefix: torch.Tensor):
        """Feed the start token and `prefix` [N, T] -> (logits of position T, state after it)."""
        hidden, state = self.lstm(self.embed(torch.cat([self.start(len(prefix)), prefix], 1)))
        return self.out(hidden[:, -1]), state

    def sample(self, u: torch.Tensor, temperature: float = 1.0, prefix: torch.Tensor | None = None,
               eos: int | None = None) -> torch.Tensor:
        """Sequences [N, L] drawn with the uniforms u [N, L]: `prefix` [N, T] (optional) continued by sampling at
        `temperature`; after an end token, PAD."""
        n, length = u.shape
        prefix = prefix if prefix is not None else torch.zeros(n, 0, dtype=torch.long, device=u.device)
        logits, state = self.run_prefix(prefix)
        tokens, done = [prefix], torch.zeros(n, dtype=torch.bool, device=u.device)
        if eos is not None and prefix.shape[1]:
            done = (prefix == eos).any(1)
        for t in range(prefix.shape[1], length):
            token = categorical(logits / temperature if temperature != 1 else logits, u[:, t])
            token = torch.where(done, torch.full_like(token, PAD), token)
            if eos is not None:
                done = done | (token == eos)
            tokens.append(token.unsqueeze(1))
            logits, state = self.step(token, state)
        return torch.cat(tokens, 1)

    def gumbel_sample(self, noise: torch.Tensor, beta: float):
        """Straight-through Gumbel-softmax sequences (RelGAN): hard ids [N, L] and soft one-hots [N, L, V], where
        the soft one is softmax(beta * (logits + g)) with Gumbel noise g made from `noise` (uniform [N, L, V])."""
        gumbel = noise.clamp(1e-10, 1 - 1e-7).log_().neg_().log_().neg_()  # in place: 6.4M floats at a time
        logits, state = self.run_prefix(torch.zeros(len(noise), 0, dtype=torch.long, device=noise.device))
        hard, soft = [], []
        for t in range(noise.shape[1]):
            perturbed = logits.float() + gumbel[:, t]
            token = perturbed.argmax(1)
            hard.append(token)
            soft.append(F.softmax(beta * perturbed, dim=1))
            logits, state = self.step(token, state)
        return torch.stack(hard, 1), torch.stack(soft, 1)


def token_mask(tokens: torch.Tensor, eos: int | None) -> torch.Tensor:
    """float [N, L]: 1 for the tokens of each sequence up to and including its end token, 0 for the padding."""
    if eos is None:
        return torch.ones_like(tokens, dtype=torch.float)
    ended = (tokens == eos).long().cumsum(1)
    return ((ended == 0) | ((ended == 1) & (tokens == eos))).float()


TEXT_GENERATORS.register("lstm", "an LSTM language model that samples token by token (SeqGAN's and RelGAN's G)",
                         options=LSTMOptions)(LSTMGenerator)


# ---------------------------------------------------------------- discriminators

@dataclass
class TextCNNOptions:
    embed: int = ranged(64, low=1, high=4096)     # token embedding size (SeqGAN: 64)
    filters: float = ranged(1.0, low=0.01, high=16)  # x SeqGAN's filter counts (100-200 per width, 1,720 in all)
    dropout: float = ranged(0.25, low=0, below=1)  # SeqGAN keeps 75%


SEQGAN_WIDTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
SEQGAN_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


class TextCNN(nn.Module):
    """SeqGAN's discriminator: convolutions of 1-20 tokens over the embeddings, max over time, a highway layer,
    dropout, one logit. Reads ids [N, L] or soft one-hots [N, L, V] (so Gumbel-softmax gradients reach G)."""

    def __init__(self, o: TextCNNOptions, vocab: int, length: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, o.embed)
        pairs = [(w, max(1, round(k * o.filters))) for w, k in zip(SEQGAN_WIDTHS, SEQGAN_FILTERS) if w <= length]
        self.convs = nn.ModuleList(nn.Conv1d(o.embed, k, w) for w, k in pairs)
        total = sum(k for _, k in pairs)
        self.highway = nn.Linear(total, 2 * total)
        self.dropout = nn.Dropout(o.dropout)
        self.head = nn.Linear(total, 1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = tokens.float() @ self.embed.weight if tokens.dim() == 3 else self.embed(tokens)  # [N, L, E]
        x = x.transpose(1, 2)
        h = torch.cat([F.relu(conv(x)).amax(2) for conv in self.convs], 1)
        transform, gate = self.highway(h).chunk(2, 1)
        gate = torch.sigmoid(gate)
        h = gate * F.relu(transform) + (1 - gate) * h
        return self.head(self.dropout(h)).squeeze(1)


TEXT_CRITICS.register("cnn", "SeqGAN's CNN discriminator: 1-20-token filters, max over time, highway",
                      options=TextCNNOptions)(TextCNN)


# ---------------------------------------------------------------- the oracle

def oracle() -> LSTMGenerator:
    """SeqGAN's synthetic data source: an LSTM with embedding and hidden 32 over 5,000 tokens, every weight drawn
    from N(0, 1) with seed 0 (as SeqGAN's target LSTM), frozen."""
    torch_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(ORACLE["seed"])
        net = LSTMGenerator(LSTMOptions(embed=ORACLE["embed"], hidden=ORACLE["hidden"]), ORACLE["vocab"])
        with torch.no_grad():
            for p in net.parameters():
                p.normal_(0.0, 1.0)
    finally:
        torch.random.set_rng_state(torch_state)
    return net.eval().requires_grad_(False)


def check_vocab(vocab: int) -> None:
    if vocab < 2:
        raise GankitError(f"a text model needs a vocabulary of 2 tokens at least, got {vocab}")
