import numpy as np
import pytest
import torch

from gankit.config import resolve
from gankit.errors import GankitError
from gankit.sampling import load_generator, save_samples
from gankit.trainer import Trainer

from conftest import TINY

DCGAN = ["gan.net=dcgan", "dcgan.g_width=8", "dcgan.d_width=8"]


def trainer(tmp_path, *extra, steps=4):
    small = [] if any(e.startswith("gan.net=") for e in extra) else DCGAN
    cfg = resolve("mnist-hinge-sn", TINY + small + [f"train.steps={steps}", *extra])  # a plain GAN: no clusters
    return Trainer(cfg, tmp_path, progress=False)


def phase_names(t, steps):
    return [[p.name for p in t.recipe.schedule(s)] for s in range(steps)]


def test_n_critic_and_lazy_r1_schedules(tmp_path):
    t = trainer(tmp_path, "gan.n_critic=3", "gan.r1_gamma=1", "gan.r1_every=2")
    assert phase_names(t, 4) == [["D", "Dreg"], ["D"], ["D", "Dreg", "G"], ["D"]]


def test_g_steps_repeat_the_g_phase_with_fresh_noise(tmp_path):
    t = trainer(tmp_path, "gan.g_steps=2")
    assert phase_names(t, 2) == [["D", "G", "G"], ["D", "G", "G"]]
    G = t.recipe.nets["G"]
    before = [p.detach().clone() for p in G.parameters()]
    calls = []
    G.register_forward_hook(lambda module, args, out: calls.append(args[0].clone()))
    t.train_step()
    assert len(calls) == 2  # the D phase's fakes serve the first G phase; the second draws its own
    assert not torch.equal(calls[0], calls[1])
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))


@pytest.mark.parametrize("n_critic", [1, 3])
def test_critic_bursts_follow_the_wgan_papers_loop(tmp_path, n_critic):
    t = trainer(tmp_path, f"gan.n_critic={n_critic}", "gan.critic_burst=7")
    expected, step = [], 0  # the paper's loop: Diters D steps, then one G step
    for g in range(1600):
        step += 7 if g < 25 or g % 500 == 0 else n_critic
        expected.append(step - 1)
    g_steps = [s for s in range(expected[-1] + 1) if t.recipe.schedule(s)[-1].name == "G"]
    assert g_steps == expected


def test_negative_critic_bursts_are_refused(tmp_path):
    with pytest.raises(GankitError, match="'gan.critic_burst' must be between 0 and 10000, got -1"):
        trainer(tmp_path, "gan.critic_burst=-1")


@pytest.mark.parametrize("key, valid", [("n_critic", "between 1 and 1000"), ("g_steps", "between 1 and 100"),
                                        ("r1_every", "at least 1"), ("pack", "between 1 and 64")])
def test_step_counts_below_one_are_refused(tmp_path, key, valid):
    with pytest.raises(GankitError, match=f"config key 'gan.{key}' must be {valid}, got 0"):
        trainer(tmp_path, f"gan.{key}=0")


@pytest.mark.parametrize("extra", [
    ["gan.loss=wasserstein", "gan.clip=0.01", "gan.n_critic=2", "dcgan.d_norm=none"],
    ["gan.loss=wasserstein", "gan.gp_weight=10", "dcgan.d_norm=none"],
    ["gan.loss=hinge", "dcgan.d_spectral_norm=true", "dcgan.d_norm=none"],
    ["gan.loss=least-squares"],
    ["gan.loss=minimax", "gan.reuse_fakes=false"],
    ["gan.r1_gamma=5", "gan.r1_every=2"],
    ["gan.augment=color,translation,cutout"],
    ["gan.conditional=projection"],
    ["gan.conditional=acgan"],
    ["gan.net=resnet", "data.resolution=32", "resnet.d_spectral_norm=true", "resnet.g_width=8", "resnet.d_width=8"],
])
def test_every_loss_penalty_and_mode_trains(tmp_path, extra):
    result = trainer(tmp_path, *extra).fit()
    records = [__import__("json").loads(line) for line in result.stats.read_text().splitlines()]
    assert result.step == 4 and all(np.isfinite(v) for r in records for v in r.values())
    if "gan.gp_weight=10" in extra:
        assert "gp" in records[-1] and "D_real" in records[-1]
    if "gan.conditional=acgan" in extra:
        assert "aux" in records[-1]


def test_weight_clipping_holds_after_every_d_step(tmp_path):
    t = trainer(tmp_path, "gan.loss=wasserstein", "gan.clip=0.01", "dcgan.d_norm=none")
    for _ in range(3):
        t.train_step()
        assert max(p.abs().max().item() for p in t.recipe.nets["D"].parameters()) <= 0.01 + 1e-9


def test_conditional_sampling_returns_the_requested_labels(tmp_path):
    t = trainer(tmp_path, "gan.conditional=projection")
    t.fit()
    G = load_generator(tmp_path)
    images, labels = G.sample_with_labels(12, seed=0, label=7)
    assert images.shape == (12, 1, 28, 28) and labels.tolist() == [7] * 12
    _, rows = G.sample_with_labels(16, per_row=4)
    assert rows.tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4
    save_samples(G, 12, tmp_path / "s.npz", seed=0, label=7)
    with np.load(tmp_path / "s.npz") as f:
        assert f["labels"].tolist() == [7] * 12
        assert np.array_equal(f["images"], images.permute(0, 2, 3, 1).numpy())
    assert t.fixed["c"][:8].tolist() == [0] * 4 + [1] * 4  # the fixed 4x4 grid holds one class per row
    with pytest.raises(Exception, match="out of range"):
        G.sample(2, label=10)


def test_unconditional_model_refuses_a_label(tmp_path):
    trainer(tmp_path).fit()
    with pytest.raises(Exception, match="needs a conditional model"):
        load_generator(tmp_path).sample(2, label=3)


@pytest.mark.parametrize("extra, option, key, weight", [
    (["gan.loss=wasserstein", "gan.gp_weight=10"], "gp_weight", "gp", 10),
    (["gan.r1_gamma=5"], "r1_gamma", "r1", 2.5),  # gamma / 2
    (["gan.conditional=acgan", "gan.acgan_weight=0.3"], "acgan_weight", "aux", 0.3),
])
def test_each_penalty_enters_the_d_loss_with_its_weight(tmp_path, extra, option, key, weight):
    from gankit.recipes import StepContext

    t = trainer(tmp_path, *extra)
    recipe = t.recipe.eval()  # no spectral-norm power iteration between the two losses compared
    batch = t.data.batch(t.sampler.next())

    def d_phase():
        return recipe.compute(recipe.D_only, batch, StepContext(torch.Generator().manual_seed(0), t.device))

    out = d_phase()
    setattr(recipe.options, option, 0.0)
    without = d_phase()
    assert key not in without or option == "acgan_weight"
    assert (out["loss"] - without["loss"]).item() == pytest.approx(weight * out[key].item(), rel=1e-4)


def test_lazy_r1_is_scaled_by_its_interval(tmp_path):
    from gankit.recipes import StepContext

    t = trainer(tmp_path, "gan.r1_gamma=5", "gan.r1_every=4")
    batch = t.data.batch(t.sampler.next())
    out = t.recipe.eval().compute(t.recipe.D_reg, batch, StepContext(torch.Generator().manual_seed(0), t.device))
    assert out["loss"].item() == pytest.approx(0.5 * 5 * 4 * out["r1"].item(), rel=1e-6) and out["r1"] > 0
