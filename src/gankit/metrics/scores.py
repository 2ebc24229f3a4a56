"""Quality scores as pure functions of feature arrays (numpy, float64 inside).

FID        Heusel et al. 2017, https://arxiv.org/abs/1706.08500
KID        Binkowski et al. 2018, https://arxiv.org/abs/1801.01401 (unbiased MMD^2, cubic polynomial kernel)
IS         Salimans et al. 2016, https://arxiv.org/abs/1606.03498 (here with the bundled classifier's logits)
P / R      Kynkaanniemi et al. 2019, https://arxiv.org/abs/1904.06991 (k = 3)
D / C      Naeem et al. 2020, https://arxiv.org/abs/2002.09797 (k = 5)
"""
from __future__ import annotations

import numpy as np
import torch


def mean_cov(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    return x.mean(0), np.cov(x, rowvar=False)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """|mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)).

    tr((C1 C2)^(1/2)) = tr((C1^(1/2) C2 C1^(1/2))^(1/2)): the inner matrix is symmetric PSD, so its
    square root comes from a symmetric eigendecomposition, with no complex parts to discard.
    """
    root1 = _sqrt_psd(cov1)
    inner = root1 @ cov2 @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt, 0.0))


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    return frechet_distance(*mean_cov(features_a), *mean_cov(features_b))


def kid(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, averaged over random subsets: (mean, std)."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    m = min(subset_size, len(a), len(b))
    d = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx = (x @ x.T / d + 1) ** 3
        k_yy = (y @ y.T / d + 1) ** 3
        k_xy = (x @ y.T / d + 1) ** 3
        off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(off_diagonal - 2 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(1, keepdims=True)


def classifier_score(logits: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Inception-style score exp(E_x KL(p(y|x) || p(y))) over `splits` equal parts: (mean, std)."""
    p = _softmax(logits)
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(marginal + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def _pairwise(a: np.ndarray, b: np.ndarray) -> torch.Tensor:
    return torch.cdist(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64))


def knn_radii(features: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    radii = []
    for start in range(0, len(features), chunk):
        d = _pairwise(features[start:start + chunk], features)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # k + 1: the point itself is at distance 0
    return torch.cat(radii).numpy()


def _inside_counts(points: np.ndarray, centres: np.ndarray, radii: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """For each point, how many balls B(centre_i, radius_i) contain it."""
    r = torch.as_tensor(radii, dtype=torch.float64)
    counts = []
    for start in range(0, len(points), chunk):
        counts.append((_pairwise(points[start:start + chunk], centres) <= r).sum(1))
    return torch.cat(counts).numpy()


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision (fakes inside the real manifold) and recall (reals inside the fake manifold)."""
    precision = (_inside_counts(fake, real, knn_radii(real, k)) > 0).mean()
    recall = (_inside_counts(real, fake, knn_radii(fake, k)) > 0).mean()
    return float(precision), float(recall)


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density: mean number of real k-NN balls holding each fake, over k. Coverage: reals whose ball holds a fake."""
    radii = knn_radii(real, k)
    density = _inside_counts(fake, real, radii).sum() / (k * len(fake))
    r = torch.as_tensor(radii, dtype=torch.float64)
    nearest_fake = torch.cat([_pairwise(real[s:s + 2048], fake).min(1).values for s in range(0, len(real), 2048)])
    coverage = (nearest_fake <= r).double().mean().item()
    return float(density), float(coverage)


def class_histogram(logits: np.ndarray, num_classes: int) -> dict:
    """Predicted-class counts, how many classes appear, and KL(histogram || uniform) in nats."""
    counts = np.bincount(np.asarray(logits).argmax(1), minlength=num_classes)
    p = counts / counts.sum()
    nonzero = p > 0
    kl = float((p[nonzero] * np.log(p[nonzero] * num_classes)).sum())
    return {"counts": counts.tolist(), "classes_covered": int(nonzero.sum()), "kl_to_uniform": kl}


def label_accuracy(logits: np.ndarray, labels: np.ndarray) -> dict:
    """Classifier accuracy on samples generated for requested labels: overall and per label."""
    predicted = np.asarray(logits).argmax(1)
    labels = np.asarray(labels)
    per_label = {int(c): float((predicted[labels == c] == c).mean()) for c in np.unique(labels)}
    return {"accuracy": float((predicted == labels).mean()), "per_label": per_label}
