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


def _kid_draws(n_a: int, n_b: int, subsets: int, subset_size: int, seed: int):
    """The subsets KID averages over: `subsets` pairs (rows of a, rows of b), each m rows without replacement."""
    m = min(subset_size, n_a, n_b)
    rng = np.random.default_rng(seed)
    for _ in range(subsets):
        yield rng.choice(n_a, m, replace=False), rng.choice(n_b, m, replace=False)


def _kernel_sums(m: int, d: int):
    """sum(x, y, skip_diagonal): the sum of k(x_i, y_j) = (x_i.y_j / d + 1)^3 over an m x m block, without the
    diagonal when asked. The dot products in float32 (a relative error near 1e-7 each, which moves MMD^2 by ~1e-6 of
    itself), the cubes and sums in float64: the kernel values are in the hundreds while MMD^2 is near zero, so float32
    sums would move it in the fourth digit. Two buffers serve every block (fresh ones cost their page faults)."""
    one, dots, cubes = torch.ones(()), torch.empty(m, m), torch.empty(m, m, dtype=torch.float64)

    def kernel_sum(x: torch.Tensor, y: torch.Tensor, skip_diagonal: bool) -> float:
        k = cubes.copy_(torch.addmm(one, x, y.T, alpha=1 / d, out=dots)).pow_(3)
        return k.sum(dtype=torch.float64).item() - (k.diagonal().sum(dtype=torch.float64).item() if skip_diagonal else 0)

    return kernel_sum


def kid_sums(features_a: np.ndarray, n_b: int, subsets: int = 100, subset_size: int = 1000,
             seed: int = 0) -> np.ndarray:
    """The kernel sums of a's own subsets in `kid` against n_b samples: they depend on a, not on b's values, so
    a fixed reference's can be computed once and passed back to `kid`."""
    a = torch.as_tensor(np.asarray(features_a), dtype=torch.float32)
    m = min(subset_size, len(a), n_b)
    kernel_sum = _kernel_sums(m, a.shape[1])
    sums = []
    for x_index, _ in _kid_draws(len(a), n_b, subsets, subset_size, seed):
        x = a[torch.from_numpy(x_index)]
        sums.append(kernel_sum(x, x, True))
    return np.array(sums)


def kid(features_a: np.ndarray, features_b: np.ndarray, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0, sums_a: np.ndarray | None = None) -> tuple[float, float]:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, averaged over random subsets: (mean, std).
    sums_a: `kid_sums(features_a, len(features_b), subsets, subset_size, seed)`, when known already."""
    a = torch.as_tensor(np.asarray(features_a), dtype=torch.float32)
    b = torch.as_tensor(np.asarray(features_b), dtype=torch.float32)
    m = min(subset_size, len(a), len(b))
    kernel_sum = _kernel_sums(m, a.shape[1])
    values = []
    for i, (x_index, y_index) in enumerate(_kid_draws(len(a), len(b), subsets, subset_size, seed)):
        x, y = a[torch.from_numpy(x_index)], b[torch.from_numpy(y_index)]
        xx = sums_a[i] if sums_a is not None else kernel_sum(x, x, True)
        off_diagonal = (xx + kernel_sum(y, y, True)) / (m * (m - 1))
        values.append(off_diagonal - 2 * kernel_sum(x, y, False) / (m * m))
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


# rows of a distance table at a time: 256 rows by 10,000 columns (10 MB) stay in the CPU's cache from the product
# through the comparisons, where 2,048 rows (80 MB) went out to memory and back (a fifth of the time more)
CHUNK = 256


def _augmented(x: torch.Tensor, left: bool) -> torch.Tensor:
    """Rows [-2x, |x|^2, 1] (left) or [x, 1, |x|^2] (right): their product is the squared distance matrix."""
    norm = x.pow(2).sum(-1, keepdim=True)
    ones = torch.ones_like(norm)
    return torch.cat([x.mul(-2), norm, ones] if left else [x, ones, norm], -1)


def _distance_chunks(a: np.ndarray, b: np.ndarray):
    """(start, Euclidean distances [chunk, len(b)]) for chunks of a's rows, all written into one buffer that each
    chunk overwrites. The arithmetic is torch.cdist's own (one product of augmented matrices: equal bit for bit, at
    any number of rows); the buffer is not: a fresh matrix per chunk costs its page faults."""
    left = _augmented(torch.as_tensor(np.asarray(a), dtype=torch.float32), True)
    right = _augmented(torch.as_tensor(np.asarray(b), dtype=torch.float32), False).mT
    buffer = torch.empty(min(CHUNK, len(left)), right.shape[1])
    for start in range(0, len(left), CHUNK):
        rows = left[start:start + CHUNK]
        distances = buffer[:len(rows)]
        torch.mm(rows, right, out=distances)
        yield start, distances.clamp_min_(0).sqrt_()


def knn_radii(features: np.ndarray, ks: tuple[int, ...]) -> dict[int, np.ndarray]:
    """For each k: distance from each point to its k-th nearest other point of the same set."""
    nearest = torch.cat([d.topk(max(ks) + 1, dim=1, largest=False).values  # column 0: the point itself
                         for _, d in _distance_chunks(features, features)])
    return {k: nearest[:, k].numpy() for k in ks}


def manifold_scores(real: np.ndarray, fake: np.ndarray, k_pr: int = 3, k_dc: int = 5,
                    real_radii: dict[int, np.ndarray] | None = None) -> dict[str, float]:
    """Precision, recall (k-NN balls, k_pr) and density, coverage (k_dc), from one pass over real-fake distances.

    precision: share of fakes inside some real ball;   recall: share of reals inside some fake ball;
    density: real balls holding each fake, averaged, over k_dc;   coverage: share of real balls holding a fake.
    real_radii: the reals' k-NN radii (`knn_radii(real, (k_pr, k_dc))`) when they are known already.
    """
    real_radii = real_radii or knn_radii(real, (k_pr, k_dc))
    fake_radii = torch.as_tensor(knn_radii(fake, (k_pr,))[k_pr]).unsqueeze(0)
    fake_in_real = torch.zeros(len(fake), dtype=torch.bool)
    balls_per_fake = torch.zeros(len(fake), dtype=torch.float64)
    mask, inside = torch.empty(0, dtype=torch.bool), torch.empty(0)  # reused: fresh ones per chunk cost page faults
    real_in_fake, covered = [], []
    for start, d in _distance_chunks(real, fake):  # [chunk of reals, fakes]
        r_pr = torch.as_tensor(real_radii[k_pr][start:start + len(d)]).unsqueeze(1)
        r_dc = torch.as_tensor(real_radii[k_dc][start:start + len(d)]).unsqueeze(1)
        fake_in_real |= torch.le(d, r_pr, out=mask.resize_(d.shape)).any(0)
        real_in_fake.append(torch.le(d, fake_radii, out=mask).any(1))
        # counted as float 0/1 written by the comparison itself: summing a bool mask is ~6x slower here (exact:
        # the counts stay far below 2^24)
        balls_per_fake += torch.le(d, r_dc, out=inside.resize_(d.shape)).sum(0)
        covered.append(d.min(1).values <= r_dc.squeeze(1))
    return {"precision": fake_in_real.double().mean().item(),
            "recall": torch.cat(real_in_fake).double().mean().item(),
            "density": (balls_per_fake.sum() / (k_dc * len(fake))).item(),
            "coverage": torch.cat(covered).double().mean().item()}


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> tuple[float, float]:
    """Improved precision (fakes inside the real manifold) and recall (reals inside the fake manifold)."""
    out = manifold_scores(real, fake, k_pr=k, k_dc=k)
    return out["precision"], out["recall"]


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Density (about 1 when fakes match reals) and coverage (share of real neighbourhoods reached)."""
    out = manifold_scores(real, fake, k_pr=k, k_dc=k)
    return out["density"], out["coverage"]


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
