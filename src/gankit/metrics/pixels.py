"""Pixel fidelity of outputs against targets: PSNR, SSIM (scikit-image's) and L1, per image and then averaged.

Images are uint8 [N, C, H, W]. `luma`: RGB becomes ITU-R BT.601 luma Y in [16, 235] as the super-resolution
literature measures it (MATLAB's rgb2ycbcr); one-channel images are used as they are. `border` pixels are cut
from every side first (SRGAN cuts the scale factor). `mask`: only pixels where the mask is 1 count (holes).
"""
from __future__ import annotations

import numpy as np
import torch

PEAK = 255.0
BT601 = torch.tensor([65.481, 128.553, 24.966]) / 255.0


def prepare(images: torch.Tensor, border: int, luma: bool) -> torch.Tensor:
    """uint8 [N, C, H, W] -> float64 [N, C', H - 2 border, W - 2 border] on the [0, 255] scale."""
    x = images.detach().cpu().double()
    if luma and x.shape[1] == 3:
        x = 16.0 + (x * BT601.double().view(1, 3, 1, 1)).sum(1, keepdim=True)
    if border:
        if 2 * border >= min(x.shape[-2:]):
            raise ValueError(f"a border of {border} px leaves nothing of {tuple(x.shape[-2:])} images")
        x = x[..., border:-border, border:-border]
    return x


def psnr(fake: torch.Tensor, target: torch.Tensor, border: int = 0, luma: bool = True,
         mask: torch.Tensor | None = None) -> float:
    """Mean over images of 10 log10(255^2 / MSE) in dB (MSE inside the mask when given). An exact image (MSE 0)
    counts as 100 dB rather than infinity, so that one perfect example cannot make the mean infinite."""
    a, b = prepare(fake, border, luma), prepare(target, border, luma)
    error = (a - b).pow(2)
    if mask is None:
        mse = error.flatten(1).mean(1)
    else:
        m = prepare(mask.float(), border, False)
        mse = (error * m).flatten(1).sum(1) / (m.flatten(1).sum(1) * error.shape[1]).clamp(min=1)
    values = 10 * torch.log10(PEAK ** 2 / mse.clamp(min=PEAK ** 2 * 1e-10))
    return float(values.mean())


def l1(fake: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean absolute error in [0, 1] units per image (inside the mask when given), averaged over images."""
    error = (fake.double() - target.double()).abs() / PEAK
    if mask is None:
        return float(error.flatten(1).mean(1).mean())
    m = mask.double()
    return float(((error * m).flatten(1).sum(1) / (m.flatten(1).sum(1) * error.shape[1]).clamp(min=1)).mean())


def ssim(fake: torch.Tensor, target: torch.Tensor, border: int = 0, luma: bool = True) -> float:
    """Mean SSIM over images (Wang et al. 2004: Gaussian window, sigma 1.5, population covariances), by
    scikit-image; colour images without `luma` average the channels."""
    from skimage.metrics import structural_similarity  # scipy comes with it: imported only when asked for

    a, b = prepare(fake, border, luma).numpy(), prepare(target, border, luma).numpy()
    values = [structural_similarity(x, y, data_range=PEAK, channel_axis=0, gaussian_weights=True, sigma=1.5,
                                    use_sample_covariance=False) for x, y in zip(a, b)]
    return float(np.mean(values))
