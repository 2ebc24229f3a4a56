"""The bundled font classifier: which design of gankit's bundled fonts drew a glyph -- hei, kai or ming.

It judges glyph translators on held-out characters: the share of translated glyphs it reads as the target
font. The fourth bundled font, droid (Droid Sans Fallback), is the hei design: WenQuanYi Micro Hei derives from
it and their glyphs differ by 0.1% of a pixel's range on average, so the classifier counts it as hei. A small CNN: four 3x3 conv + max-pool stages (32, 64, 128, 128 channels) on [N, 1, 64, 64] floats in
[-1, 1], global average pooling to 128 features, 3 logits. Trained by scripts/train_font_classifier.py on the
training characters only; the weights ship as gankit/metrics/assets/font_classifier.safetensors.
"""
from __future__ import annotations

import torch
import torch.nn as nn

FONTS = ("hei", "kai", "ming")   # the logits' order
SAME_DESIGN = {"droid": "hei"}   # bundled fonts that are another's design


def font_class(font: str) -> int | None:
    """The logit index of a bundled font's design; None for fonts the classifier does not know."""
    font = SAME_DESIGN.get(font, font)
    return FONTS.index(font) if font in FONTS else None


def stage(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


class FontNet(nn.Module):
    feature_dim = 128
    num_classes = len(FONTS)

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(*stage(1, 32), *stage(32, 64), *stage(64, 128), *stage(128, self.feature_dim),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())   # [N, 128] features
        self.head = nn.Linear(self.feature_dim, self.num_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (features [N, 128], logits [N, 3])."""
        features = self.body(x)
        return features, self.head(features)
