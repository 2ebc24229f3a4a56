"""The bundled MNIST classifier used as gankit's feature extractor on digit images.

A small CNN: two 3x3 conv + max-pool stages (32, 64 channels), a 128-unit feature layer, 10 logits.
Inputs are [N, 1, 28, 28] floats in [-1, 1] (the range of G's output). Trained by
scripts/train_mnist_classifier.py; the weights ship as gankit/metrics/assets/mnist_classifier.safetensors.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class MNISTNet(nn.Module):
    feature_dim = 128
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # [N, 32, 14, 14]
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # [N, 64, 7, 7]
            nn.Flatten(), nn.Dropout(0.25),
            nn.Linear(64 * 7 * 7, self.feature_dim), nn.ReLU(),            # [N, 128] features
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(self.feature_dim, self.num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (features [N, 128], logits [N, 10])."""
        features = self.body(x)
        return features, self.head(features)
