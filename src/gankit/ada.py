"""Adaptive discriminator augmentation, ADA (Karras et al. 2020, "Training Generative Adversarial Networks with
Limited Data", https://arxiv.org/abs/2006.06676): every image D sees, real or fake, is augmented, each
augmentation applied with probability p, and p follows how sure D is about the training images.

The 'bgc' pipeline of the paper:
  blit       x-flip, rotation by a multiple of 90 degrees, integer translation (up to 1/8 of the side);
  geometric  isotropic scaling (log2-normal, std 0.2), rotation (uniform, applied before and after the
             anisotropic scaling, each with probability 1 - sqrt(1 - p)), anisotropic scaling (log2-normal, 0.2),
             fractional translation (normal, std 1/8 of the side);
  color      brightness (+ normal, std 0.2), contrast (x log2-normal, std 0.5), luma flip, hue rotation
             (uniform), saturation (x log2-normal, std 1).
Geometric ones compose into one affine map per image, applied by one differentiable bilinear resampling with
mirrored borders; colour ones into one 4 x 4 colour matrix (for grey images, its mean over the three outputs).
Left out: the paper's filter-based (anti-aliased) resampling and its image-space filtering and corruption
augmentations ('f', 'c' in 'bgcfnc').

p: every `interval` steps, r_t = E[sign(D(real))] over those steps; p moves by sign(r_t - target) times the
images of the interval / (`speed_kimg` x 1000), so that p can cross 0 -> 1 in `speed_kimg` thousand images
(the paper: target 0.6, 500k images). p is a buffer: checkpoints keep it, and resume repeats exactly.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .errors import GankitError

GROUPS = {"b": ("xflip", "rotate90", "xint"), "g": ("scale", "rotate", "aniso", "xfrac"),
          "c": ("brightness", "contrast", "lumaflip", "hue", "saturation")}


def parse_pipeline(name: str) -> tuple[str, ...]:
    """'bgc', 'bg', 'b', ... -> the augmentations, in the paper's order."""
    unknown = set(name) - set(GROUPS)
    if not name or unknown:
        raise GankitError(f"unknown ADA pipeline '{name}': combine b (blit), g (geometric) and c (colour), e.g. bgc")
    return tuple(op for group in "bgc" if group in name for op in GROUPS[group])


def eye(n: int, size: int, like: torch.Tensor) -> torch.Tensor:
    return torch.eye(size, dtype=like.dtype, device=like.device).repeat(n, 1, 1)


def scale2d(sx: torch.Tensor, sy: torch.Tensor) -> torch.Tensor:
    m = eye(len(sx), 3, sx)
    m[:, 0, 0], m[:, 1, 1] = sx, sy
    return m


def translate2d(tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    m = eye(len(tx), 3, tx)
    m[:, 0, 2], m[:, 1, 2] = tx, ty
    return m


def rotate2d(theta: torch.Tensor) -> torch.Tensor:
    m = eye(len(theta), 3, theta)
    m[:, 0, 0], m[:, 0, 1] = theta.cos(), -theta.sin()
    m[:, 1, 0], m[:, 1, 1] = theta.sin(), theta.cos()
    return m


def rotate3d(v: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Rotation by theta [N] about the unit axis v (3,), as 4 x 4 matrices (Rodrigues)."""
    n = len(theta)
    x, y, z = v
    k = torch.tensor([[0, -z, y], [z, 0, -x], [-y, x, 0]], dtype=theta.dtype, device=theta.device)
    s, c = theta.sin()[:, None, None], theta.cos()[:, None, None]
    r = torch.eye(3, dtype=theta.dtype, device=theta.device) + s * k + (1 - c) * (k @ k)
    m = eye(n, 4, theta)
    m[:, :3, :3] = r
    return m


class AdaptiveAugment(nn.Module):
    """The augmentation pipeline with its probability p (a buffer) and p's controller."""

    def __init__(self, pipeline: str = "bgc", target: float = 0.6, interval: int = 4, speed_kimg: float = 500.0,
                 initial_p: float = 0.0):
        super().__init__()
        self.ops = parse_pipeline(pipeline)
        self.target, self.interval, self.speed_kimg = target, interval, speed_kimg
        self.register_buffer("p", torch.tensor(float(initial_p)))
        self.register_buffer("sign_sum", torch.zeros((), dtype=torch.float64))  # sum of sign(D(real)) this interval
        self.register_buffer("sign_count", torch.zeros((), dtype=torch.long))

    # ------------------------------------------------------------ the controller

    @torch.no_grad()
    def observe(self, real_logits: torch.Tensor, dist=None) -> None:
        """Count the signs of D's logits on (augmented) real images; `dist` gathers them from every process."""
        signs = real_logits.detach().float().sign()
        if dist is not None:
            signs = dist.gather(signs)
        self.sign_sum += signs.sum().double()
        self.sign_count += signs.numel()

    @torch.no_grad()
    def adjust(self) -> float | None:
        """After an interval: move p by sign(r_t - target) x images seen / (speed_kimg x 1000); -> r_t."""
        if int(self.sign_count) == 0:
            return None
        r_t = float(self.sign_sum / self.sign_count)
        step = math.copysign(1.0, r_t - self.target) * int(self.sign_count) / (self.speed_kimg * 1000.0)
        self.p.copy_((self.p + step).clamp(0.0, 1.0))
        self.sign_sum.zero_()
        self.sign_count.zero_()
        return r_t

    # ------------------------------------------------------------ the augmentations

    def forward(self, x: torch.Tensor, rng, p: float | None = None) -> torch.Tensor:
        """x [N, C, H, W] in [-1, 1] (C = 1 or 3) augmented with probability p (default: the buffer's) per
        augmentation and image; `rng` draws per-image randomness (a StepContext or Draws: rand, randn)."""
        p = float(self.p) if p is None else p
        if p <= 0:
            return x
        n, c, h, w = x.shape
        if c not in (1, 3):
            raise GankitError(f"ADA augments grey or RGB images, not {c} channels")
        geometric = [op for op in self.ops if op in GROUPS["b"] + GROUPS["g"]]
        if geometric:
            x = self.resample(x, self.geometric_matrix(geometric, n, p, rng, h, x))
        colour = [op for op in self.ops if op in GROUPS["c"]]
        if colour:
            x = self.recolour(x, self.colour_matrix(colour, n, p, rng, x))
        return x

    @staticmethod
    def chosen(p: float, rng, n: int, like: torch.Tensor) -> torch.Tensor:
        """1 for the images an augmentation applies to (probability p), else 0."""
        return (rng.rand(n) < p).to(like.dtype).to(like.device)

    def geometric_matrix(self, ops, n: int, p: float, rng, side: int, like: torch.Tensor) -> torch.Tensor:
        """The inverse map (output -> input coordinates, normalised to [-1, 1]) of the chosen transforms [N, 3, 3]."""
        dev = lambda t: t.to(like.dtype).to(like.device)  # noqa: E731
        m = eye(n, 3, like)
        for op in ops:
            if op == "xflip":
                flip = torch.floor(dev(rng.rand(n)) * 2) * self.chosen(p, rng, n, like)
                m = m @ scale2d(1 - 2 * flip, torch.ones_like(flip))
            elif op == "rotate90":
                quarter = torch.floor(dev(rng.rand(n)) * 4) * self.chosen(p, rng, n, like)
                m = m @ rotate2d(-math.pi / 2 * quarter)
            elif op == "xint":  # whole pixels: normalised units are 2 / side per pixel
                t = (dev(rng.rand(n, 2)) * 2 - 1) * 0.125 * self.chosen(p, rng, n, like)[:, None]
                t = torch.round(t * side) * 2 / side
                m = m @ translate2d(-t[:, 0], -t[:, 1])
            elif op == "scale":
                s = torch.exp2(dev(rng.randn(n)) * 0.2 * self.chosen(p, rng, n, like))
                m = m @ scale2d(1 / s, 1 / s)
            elif op == "rotate":  # before the anisotropic scaling; "aniso" rotates again after it
                p_rot = 1 - math.sqrt(max(0.0, 1 - min(p, 1.0)))
                theta = (dev(rng.rand(n)) * 2 - 1) * math.pi * self.chosen(p_rot, rng, n, like)
                m = m @ rotate2d(-theta)
            elif op == "aniso":  # then the second rotation: each rotation has probability 1 - sqrt(1 - p)
                s = torch.exp2(dev(rng.randn(n)) * 0.2 * self.chosen(p, rng, n, like))
                m = m @ scale2d(1 / s, s)
                p_rot = 1 - math.sqrt(max(0.0, 1 - min(p, 1.0)))
                theta = (dev(rng.rand(n)) * 2 - 1) * math.pi * self.chosen(p_rot, rng, n, like)
                m = m @ rotate2d(-theta)
            elif op == "xfrac":
                t = dev(rng.randn(n, 2)) * 0.125 * 2 * self.chosen(p, rng, n, like)[:, None]
                m = m @ translate2d(-t[:, 0], -t[:, 1])
        return m

    @staticmethod
    def resample(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        grid = F.affine_grid(m[:, :2, :], list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    def colour_matrix(self, ops, n: int, p: float, rng, like: torch.Tensor) -> torch.Tensor:
        dev = lambda t: t.to(like.dtype).to(like.device)  # noqa: E731
        v = torch.tensor([1.0, 1.0, 1.0, 0.0], dtype=like.dtype, device=like.device) / math.sqrt(3)
        vv = torch.outer(v, v)
        m = eye(n, 4, like)
        for op in ops:
            if op == "brightness":
                b = dev(rng.randn(n)) * 0.2 * self.chosen(p, rng, n, like)
                t = eye(n, 4, like)
                t[:, :3, 3] = b[:, None]
                m = t @ m
            elif op == "contrast":
                c = torch.exp2(dev(rng.randn(n)) * 0.5 * self.chosen(p, rng, n, like))
                t = eye(n, 4, like)
                t[:, 0, 0], t[:, 1, 1], t[:, 2, 2] = c, c, c
                m = t @ m
            elif op == "lumaflip":  # a Householder reflection across the plane orthogonal to the luma axis
                i = torch.floor(dev(rng.rand(n)) * 2) * self.chosen(p, rng, n, like)
                m = (eye(n, 4, like) - 2 * vv * i[:, None, None]) @ m
            elif op == "hue":
                theta = (dev(rng.rand(n)) * 2 - 1) * math.pi * self.chosen(p, rng, n, like)
                m = rotate3d(v[:3], theta) @ m
            elif op == "saturation":
                s = torch.exp2(dev(rng.randn(n)) * 1.0 * self.chosen(p, rng, n, like))
                m = (vv + (eye(n, 4, like) - vv) * s[:, None, None]) @ m
        return m

    @staticmethod
    def recolour(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if c == 3:
            flat = x.reshape(n, 3, h * w)
            return (m[:, :3, :3] @ flat + m[:, :3, 3:]).reshape(n, 3, h, w)
        m = m[:, :3, :].mean(1)  # [N, 4]: a grey image is its own luma; average the three outputs' rows
        return x * m[:, :3].sum(1)[:, None, None, None] + m[:, 3][:, None, None, None]
