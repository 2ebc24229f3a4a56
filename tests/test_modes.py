import math

import numpy as np
import pytest
import torch

from gankit.config import DataConfig, resolve
from gankit.data import load_data
from gankit.data.toy import grid_means, mixture, ring_means
from gankit.metrics.modes import mixture_scores, stacked_digit_modes
from gankit.metrics.protocols import StackedMNISTProtocol
from gankit.sampling import load_generator, save_samples
from gankit.trainer import Trainer


def test_mixture_geometry():
    ring = ring_means()
    assert ring.shape == (8, 2) and torch.allclose(ring.norm(dim=1), torch.ones(8), atol=1e-6)
    assert torch.allclose(ring[2], torch.tensor([0.0, 1.0]), atol=1e-6)  # k * 2 pi / 8 for k = 2
    grid = grid_means()
    assert grid.shape == (25, 2) and set(grid[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


@pytest.mark.parametrize("means, sigma", [(ring_means(), 0.01), (grid_means(), 0.05)])
def test_real_samples_capture_every_mode(means, sigma):
    scores = mixture_scores(mixture(means, sigma, 2500, seed=1), means, sigma)
    assert scores["modes"] == len(means)
    # within 3 sigma of the mean in 2-D: 1 - exp(-9/2) = 98.89% in expectation
    assert scores["high_quality_pct"] == pytest.approx(100 * (1 - math.exp(-4.5)), abs=0.6)
    assert scores["reverse_kl"] < 0.02


def test_collapse_and_off_manifold_samples():
    means = ring_means()
    collapsed = means[3].repeat(2500, 1)
    scores = mixture_scores(collapsed, means, 0.01)
    assert scores["modes"] == 1 and scores["reverse_kl"] == pytest.approx(math.log(8))
    assert scores["high_quality_pct"] == 100.0
    origin = torch.zeros(100, 2)
    assert mixture_scores(origin, means, 0.01)["modes"] == 0
    assert mixture_scores(origin, means, 0.01)["high_quality_pct"] == 0.0


def test_stacked_digit_modes():
    every = np.array([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
    assert stacked_digit_modes(every) == {"modes": 1000, "kl_to_uniform": pytest.approx(0.0, abs=1e-12),
                                          "num_modes": 1000}
    one = stacked_digit_modes(np.zeros((50, 3), dtype=int))
    assert one["modes"] == 1 and one["kl_to_uniform"] == pytest.approx(math.log(1000))


def test_stacked_mnist_real_data_covers_all_modes():
    data = load_data(DataConfig(name="stacked-mnist", limit=26000))
    assert data.images.shape == (26000, 3, 28, 28) and data.images.dtype == torch.uint8
    scores = StackedMNISTProtocol().final({"fake": data.images}, 0, "real")
    assert scores["modes"] == 1000 and scores["kl_to_uniform"] < 0.05
    assert scores["modes_b"] == 1000 and scores["kl_to_uniform_b"] < 0.05  # the second classifier agrees on reals
    assert scores["kl_to_uniform_b"] != scores["kl_to_uniform"] and scores["card"]["second_extractor"] == "mnist-b"


def test_toy_run_writes_points(tmp_path):
    cfg = resolve("toy-ring", ["train.steps=20", "train.log_every=10", "train.n_samples=200", "eval.every=10",
                               "eval.n_cheap=500", "data.limit=2000"])
    trainer = Trainer(cfg, tmp_path, progress=False)
    result = trainer.fit()
    G = load_generator(tmp_path)
    # the final metrics score the exported generator's samples of the evaluation seed, through the same path
    again = mixture_scores(G.sample(2500, seed=cfg.eval.seed), trainer.data.info["means"], trainer.data.info["sigma"])
    assert result.metrics["card"]["n_samples"] == 2500
    assert {k: result.metrics[k] for k in again} == again
    points = G.sample(300, seed=0)
    assert points.dtype == torch.float32 and points.shape == (300, 2)
    save_samples(G, 300, tmp_path / "p.npz", seed=0)
    with np.load(tmp_path / "p.npz") as f:
        assert f["points"].shape == (300, 2) and f["points"].dtype == np.float32
        assert np.array_equal(f["points"], points.numpy())
    save_samples(G, 300, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_pack_needs_a_divisible_batch(tmp_path):
    from gankit.errors import GankitError

    cfg = resolve("toy-ring", ["train.batch_size=30", "data.limit=100"])
    with pytest.raises(GankitError, match="multiple of gan.pack"):
        Trainer(cfg, tmp_path, progress=False)


@pytest.mark.parametrize("penalty", ["gan.r1_gamma=1", "gan.gp_weight=10"])
def test_penalties_act_on_the_packed_inputs_that_D_judges(penalty):
    from gankit.losses import r1_penalty
    from gankit.recipes.base import StepContext
    from gankit.recipes.gan import GANRecipe

    cfg = resolve("toy-ring", ["gan.pack=4", "train.precision=fp32", "data.limit=400", penalty])
    data = load_data(cfg.data)
    recipe = GANRecipe(cfg, data)
    real = data.arrays["points"][:8]
    ctx = StepContext(torch.Generator().manual_seed(0), torch.device("cpu"))
    out = recipe.compute(recipe.D_only, {"points": real}, ctx)
    out["loss"].backward()  # the penalty's graph reaches D's weights
    assert all(p.grad is not None for p in recipe.D.parameters())
    if "r1" in penalty:
        # D sees 2 packs of 4 points (8 numbers each); R1 is the gradient norm per pack
        assert torch.allclose(out["r1"], r1_penalty(recipe.D, real.reshape(2, 8)))
    else:
        assert out["gp"].ndim == 0 and out["gp"] >= 0
