"""Self-conditioning on k-means clusters (gan.clusters): the clustering, the conditions, sampling and export."""
import pytest
import torch

from gankit.checkpoint import latest_checkpoint
from gankit.clusters import kmeans, nearest
from gankit.config import resolve
from gankit.draws import Draws
from gankit.errors import GankitError
from gankit.recipes.base import StepContext
from gankit.sampling import load_generator
from gankit.trainer import Trainer

from conftest import TINY

DCGAN = ["dcgan.g_width=8", "dcgan.d_width=8"]


def trainer(path, *extra, steps=4, resume=None):
    cfg = resolve("mnist-dcgan", TINY + DCGAN + [f"train.steps={steps}", "train.ckpt_every=3", *extra])
    return Trainer(cfg, path, resume=resume, progress=False)


def test_kmeans_finds_separated_blobs():
    g = torch.Generator().manual_seed(0)
    means = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = (means[:, None] + 0.5 * torch.randn(3, 200, 2, generator=g)).reshape(600, 2)
    centroids = kmeans(x, 3, torch.Generator().manual_seed(1))
    assigned = nearest(x, centroids).view(3, 200)
    assert all(len(row.unique()) == 1 for row in assigned)  # each blob is one cluster
    assert len(assigned[:, 0].unique()) == 3  # and the blobs are different clusters
    order = assigned[:, 0]
    assert torch.allclose(centroids[order], means, atol=0.15)


def test_nearest_is_the_argmin_of_the_distances():
    g = torch.Generator().manual_seed(0)
    x, centroids = torch.randn(5000, 7, generator=g), torch.randn(13, 7, generator=g)
    assert torch.equal(nearest(x, centroids), torch.cdist(x, centroids).argmin(1))


@pytest.mark.parametrize("conditional", ["none", "projection"])
def test_conditions_follow_the_clusters_of_the_data(tmp_path, conditional):
    t = trainer(tmp_path, f"gan.conditional={conditional}", "gan.clusters=3")
    recipe, data = t.recipe, t.data
    groups = 10 if conditional == "projection" else 1
    counts = recipe.G.cluster_counts
    assert counts.shape == (groups, 3) and counts.sum() == len(data) == 256
    if groups == 10:  # within each class: the class's examples
        assert counts.sum(1).tolist() == torch.bincount(data.labels, minlength=10).float().tolist()
    batch = data.batch(torch.arange(64))
    ctx = StepContext(torch.Generator().manual_seed(0))
    c_real, c_fake = recipe._labels(batch, 20000, ctx)
    # a real example's condition: its class and the nearest of that class's centroids
    x = batch["image"].reshape(64, -1)
    classes = batch["label"] if groups == 10 else torch.zeros(64, dtype=torch.long)
    brute = torch.stack([torch.cdist(x[i:i + 1], recipe.cluster_centroids[classes[i]]).argmin() for i in range(64)])
    assert torch.equal(c_real, classes * 3 + brute)
    # fakes draw clusters as often as the data holds them
    drawn = torch.bincount(c_fake, minlength=groups * 3).float().view(groups, 3)
    expected = counts / counts.sum(1, keepdim=True) * drawn.sum(1, keepdim=True)
    assert (drawn - expected).abs().max() < 0.05 * 20000 / groups
    assert (drawn[counts == 0] == 0).all()


def test_a_real_example_takes_its_nearest_centroid_in_fp32_under_bf16_autocast(tmp_path):
    """Two centroids 0.5 and 0.498 from a real digit: bf16 products (errors ~0.05 on |x|.c) could not tell them
    apart; the k-means fit measured in fp32, and so must the assignment."""
    t = trainer(tmp_path, "gan.conditional=projection", "gan.clusters=2")
    recipe = t.recipe
    batch = t.data.batch(torch.arange(1))
    x, cls = batch["image"].reshape(-1).float(), int(batch["label"][0])
    recipe.G.cluster_counts[cls] = 1.0
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        d = torch.randn(x.numel(), generator=g)
        d /= d.norm()
        recipe.cluster_centroids[cls] = torch.stack([x + 0.5 * d, x - 0.498 * d])  # the second is nearer
        with torch.autocast("cpu", dtype=torch.bfloat16):
            c_real, _ = recipe._labels(batch, 1, StepContext(torch.Generator().manual_seed(0)))
        assert c_real.tolist() == [cls * 2 + 1]


def test_clustered_models_sample_export_and_reload(tmp_path):
    t = trainer(tmp_path / "u", "gan.clusters=4")
    t.fit()
    G = load_generator(tmp_path / "u")
    assert torch.equal(G.nets["G"].cluster_counts, t.recipe.G.cluster_counts)
    assert not G.conditional  # unconditional to its user: no --label
    with pytest.raises(GankitError, match="needs a conditional model"):
        G.sample(2, label=3)
    assert G.sample(6, seed=1).shape == (6, 1, 28, 28)
    assert torch.equal(G.sample(6, seed=1), G.sample(6, seed=1))
    t = trainer(tmp_path / "c", "gan.conditional=projection", "gan.clusters=2")
    t.fit()
    images, labels = load_generator(tmp_path / "c").sample_with_labels(8, seed=0, label=7)
    assert labels.tolist() == [7] * 8  # the user's label is the class, not the (class, cluster) condition
    inputs = t.recipe.noise_inputs(1000, Draws.seeded(0), torch.full((1000,), 7))
    conditions = t.recipe._draw_conditions(t.recipe.G, inputs["c"], inputs["u"])
    assert set(conditions.tolist()) == {14, 15}  # both clusters of class 7, and only those


def test_resume_with_clusters_is_exact(tmp_path):
    whole = trainer(tmp_path / "whole", "gan.clusters=3", steps=6)
    whole.fit()
    trainer(tmp_path / "split", "gan.clusters=3", steps=3).fit()
    resumed = trainer(tmp_path / "split", "gan.clusters=3", steps=6, resume=latest_checkpoint(tmp_path / "split"))
    resumed.fit()
    a, b = whole.recipe.state_dict(), resumed.recipe.state_dict()
    assert "cluster_centroids" in a and "nets.G.cluster_counts" in a
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_uniform_draw_picks_clusters_by_their_shares_and_never_an_empty_one(tmp_path):
    t = trainer(tmp_path, "gan.clusters=4")
    G = t.recipe.G
    G.cluster_counts.copy_(torch.tensor([[0.0, 3.0, 0.0, 1.0]]))
    u = torch.tensor([0.0, 0.5, 0.7499999, 0.75, 0.9999999])
    assert t.recipe._draw_conditions(G, torch.zeros(5, dtype=torch.long), u).tolist() == [1, 1, 1, 3, 3]


def test_small_classes_get_one_cluster_per_example(tmp_path):
    with pytest.warns(UserWarning, match=r"fewer examples than gan.clusters=40 \(class 0: 30, class 1: 35, .*class 9: 26\)"):
        t = trainer(tmp_path, "gan.conditional=projection", "gan.clusters=40", "data.limit=256")
    counts = t.recipe.G.cluster_counts
    assert counts[0, :30].tolist() == [1.0] * 30 and counts[0, 30:].sum() == 0
    batch = t.data.batch(torch.arange(256))
    c_real, c_fake = t.recipe._labels(batch, 5000, StepContext(torch.Generator().manual_seed(0)))
    assert (counts.flatten()[c_real] > 0).all() and (counts.flatten()[c_fake] > 0).all()  # never an empty cluster
    assert len(c_real[batch["label"] == 0].unique()) == 30  # each example of class 0 is its own cluster


def test_a_class_without_examples_does_not_stop_training(tmp_path):
    with pytest.warns(UserWarning, match="class 2: 0"):  # the first 5 digits are 5, 0, 4, 1, 9
        t = trainer(tmp_path, "gan.conditional=projection", "gan.clusters=2", "data.limit=5", "train.batch_size=4",
                    steps=2)
    t.fit()
    assert t.recipe.G.cluster_counts.sum(1).tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 0, 1]


@pytest.mark.parametrize("extra, message", [
    (["gan.conditional=acgan", "gan.clusters=3"], "not acgan"),
    (["gan.pack=2", "gan.clusters=3"], "gan.pack=1"),
    (["gan.clusters=-1"], "gan.clusters"),
    (["gan.clusters=1001"], "gan.clusters"),
])
def test_bad_cluster_settings_are_refused(tmp_path, extra, message):
    with pytest.raises(GankitError, match=message):
        trainer(tmp_path, *extra)
    assert not (tmp_path / "stats.jsonl").exists()
