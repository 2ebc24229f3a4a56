"""The bundled MNIST classifiers used as gankit's feature extractors on digit images.

MNISTNet, the main one: two 3x3 conv + max-pool stages (32, 64 channels), a 128-unit feature layer, 10 logits.
MNISTNetB, the second opinion: a different design (5x5 and 3x3 convolutions with batch normalisation, strided
downsampling, global average pooling, a 64-unit feature layer), trained from another seed.
Inputs are [N, 1, 28, 28] floats in [-1, 1] (the range of G's output). Both are trained by
scripts/train_mnist_classifier.py; the weights ship in gankit/metrics/assets/.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class MNISTNet(nn.Module):
    feature_dim = 128
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()
        # pooling before ReLU: max and ReLU commute exactly (ReLU is monotone), and ReLU then touches a quarter
        # of the values; the layer indices, hence the weights' names, are those of conv-ReLU-pool
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),    # [N, 32, 14, 14]
            nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),   # [N, 64, 7, 7]
            nn.Flatten(), nn.Dropout(0.25),
            nn.Linear(64 * 7 * 7, self.feature_dim), nn.ReLU(),            # [N, 128] features
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(self.feature_dim, self.num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (features [N, 128], logits [N, 10])."""
        features = self.body(x)
        return features, self.head(features)


class MNISTNetB(nn.Module):
    feature_dim = 64
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, kernel: int, stride: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

        self.body = nn.Sequential(
            *block(1, 24, 5, 1), *block(24, 48, 5, 2), *block(48, 64, 3, 2), *block(64, 96, 3, 1),  # [N, 96, 7, 7]
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(96, self.feature_dim), nn.ReLU(),                                            # [N, 64] features
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(self.feature_dim, self.num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (features [N, 64], logits [N, 10])."""
        features = self.body(x)
        return features, self.head(features)
