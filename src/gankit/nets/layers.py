"""Small building blocks shared by the networks."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import _SpectralNorm, spectral_norm

from ..errors import GankitError

NORMS = ("batch", "none")


class _FlattenKeepingLayout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.shape = x.shape
        ctx.channels_last = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
        return x.flatten(1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.reshape(ctx.shape)
        return grad.contiguous(memory_format=torch.channels_last) if ctx.channels_last else grad


class Flatten(nn.Module):
    """nn.Flatten whose gradient comes back in the input's memory layout.

    A channels-last feature map flattens (in the usual C, H, W order) to a copy whose gradient is plain NCHW;
    the elementwise backward that follows (LeakyReLU's) is then ~20x slower on mixed layouts than on one.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _FlattenKeepingLayout.apply(x)


def check_norm(kind: str) -> None:
    if kind not in NORMS:
        raise GankitError(f"unknown norm '{kind}'; valid: {', '.join(NORMS)}")


def norm2d(kind: str, channels: int) -> nn.Module:
    check_norm(kind)
    return nn.BatchNorm2d(channels) if kind == "batch" else nn.Identity()


def norm1d(kind: str, features: int) -> nn.Module:
    check_norm(kind)
    return nn.BatchNorm1d(features) if kind == "batch" else nn.Identity()


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose gain and bias are looked up per class (de Vries et al. 2017; Miyato & Koyama 2018).

    With num_classes = 0 it is a plain BatchNorm; with norm 'none' it is the identity. Works on [N, C] and
    [N, C, H, W] inputs.
    """

    def __init__(self, features: int, num_classes: int, kind: str = "batch", dims: int = 2):
        super().__init__()
        check_norm(kind)
        self.enabled = kind == "batch"
        self.conditional = num_classes > 0 and self.enabled
        bn = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
        self.bn = bn(features, affine=not self.conditional) if self.enabled else nn.Identity()
        if self.conditional:
            self.gain = nn.Embedding(num_classes, features)
            self.bias = nn.Embedding(num_classes, features)
            nn.init.ones_(self.gain.weight)
            nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        x = self.bn(x)
        if self.conditional:
            if c is None:
                raise ValueError("a conditional generator needs class labels c")
            shape = (-1, x.shape[1]) + (1,) * (x.dim() - 2)
            x = x * self.gain(c).view(shape) + self.bias(c).view(shape)
        return x


def with_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018, https://arxiv.org/abs/1802.05957) on every conv and linear layer."""
    for name, child in module.named_children():
        if isinstance(child, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            setattr(module, name, spectral_norm(child))
        else:
            with_spectral_norm(child)
    return module


class _RowsOverSigma(torch.autograd.Function):
    """table[c] / sigma with sigma = u^T table v (u, v held fixed, as spectral_norm holds them). The backward
    writes the table's gradient in one pass: the rows' g / sigma, plus, through sigma, the rank-one
    -(sum g * table[c]) / sigma^2 u v^T, where autograd would take several passes over the whole table."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, c: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        sigma = torch.vdot(u, torch.mv(table, v))  # exactly as spectral_norm computes it
        rows = F.embedding(c, table)
        ctx.save_for_backward(c, u, v, sigma, rows)
        return rows / sigma

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        c, u, v, sigma, rows = ctx.saved_tensors
        g = g.to(rows.dtype)
        grad = torch.outer(u * (-(g * rows).sum() / sigma ** 2), v)
        grad.index_add_(0, c, g / sigma)
        return grad, None, None, None


def embedding_rows(embed: nn.Embedding, c: torch.Tensor) -> torch.Tensor:
    """embed(c). Under spectral normalisation it divides only the looked-up rows by sigma, (W / sigma)[c] ==
    W[c] / sigma, with the same power iteration: a 400 x 3136 table of clusters (40 a digit) then no longer
    costs full passes over the table in every D pass and its backward (a pass and its backward alone 4.4 ->
    2.1 ms, the default's step 7-8% faster: benchmarks/embedding_rows.py)."""
    chain = getattr(getattr(embed, "parametrizations", None), "weight", None)
    plain_lookup = embed.padding_idx is None and embed.max_norm is None
    if chain is None or len(chain) != 1 or not isinstance(chain[0], _SpectralNorm) or not plain_lookup:
        return embed(c)
    sn, table = chain[0], chain.original
    if sn.training:
        sn._power_method(table, sn.n_power_iterations)  # updates the u, v buffers in place, without gradient
    # cloned as spectral_norm clones them: the backward must not see later updates of the buffers
    u = sn._u.clone(memory_format=torch.contiguous_format)
    v = sn._v.clone(memory_format=torch.contiguous_format)
    return _RowsOverSigma.apply(table, c, u, v)


def pyramid(resolution: int) -> tuple[int, int]:
    """Side length -> (s0, k) with resolution = s0 * 2**k, s0 <= 7, k >= 1."""
    s0, k = resolution, 0
    while s0 > 7 and s0 % 2 == 0:
        s0, k = s0 // 2, k + 1
    if s0 > 7 or k == 0:
        raise GankitError(f"convolutional networks need a resolution s * 2^k with s <= 7 and k >= 1 "
                          f"(28, 32, 64, ...), got {resolution}")
    return s0, k


def packed(shape: tuple[int, ...], pack: int) -> tuple[int, ...]:
    """D's input shape when it sees `pack` samples stacked along the first (channel) axis."""
    return (shape[0] * pack, *shape[1:])


def dcgan_init(module: nn.Module) -> None:
    """Weights from N(0, 0.02), norm gains from N(1, 0.02), biases 0 (Radford et al. 2015, section 4)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.InstanceNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ClassHead(nn.Module):
    """How a discriminator uses labels on its final features h [N, F]:
    'projection' adds <embed(c), h> to the logit (Miyato & Koyama 2018, https://arxiv.org/abs/1802.05637);
    'acgan' adds an auxiliary classifier (Odena et al. 2017, https://arxiv.org/abs/1610.09585)."""

    def __init__(self, features: int, num_classes: int, mode: str):
        super().__init__()
        self.mode = mode
        self.logit = nn.Linear(features, 1)
        if mode == "projection":
            self.embed = nn.Embedding(num_classes, features)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        elif mode == "acgan":
            self.classes = nn.Linear(features, num_classes)

    def forward(self, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        logits = self.logit(h).squeeze(1)  # [N]
        if self.mode == "projection":
            if c is None:
                raise ValueError("a projection discriminator needs class labels c")
            logits = logits + (embedding_rows(self.embed, c) * h).sum(1)
        return logits

    def class_logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.classes(h)  # [N, num_classes]


CONDITIONAL_MODES = ("none", "projection", "acgan")


def check_conditional(mode: str, num_classes: int) -> None:
    if mode not in CONDITIONAL_MODES:
        raise GankitError(f"unknown conditional mode '{mode}'; valid: {', '.join(CONDITIONAL_MODES)}")
    if mode != "none" and num_classes < 2:
        raise GankitError(f"gan.conditional={mode} needs labelled data (class subfolders or a labelled dataset)")
