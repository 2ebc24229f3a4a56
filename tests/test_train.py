import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.checkpoint import latest_checkpoint, load_state
from gankit.config import preset_names, resolve
from gankit.errors import GankitError
from gankit.sampling import load_generator, save_samples
from gankit.trainer import Trainer

from conftest import TINY

SMALL_MLP = ["mlp.g_hidden=[32, 32]", "mlp.d_hidden=[32]"]


def params(trainer):
    return {k: v.clone() for k, v in trainer.recipe.state_dict().items()}


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_trains_on_tiny_data(preset, tmp_path):
    full = resolve(preset)
    text = full.recipe == "textgan"
    if full.recipe == "paired":
        small = [f"{full.paired.generator}.width=8", f"{full.paired.discriminator}.width=8", "paired.warmup_steps=0"]
    elif full.recipe == "cyclegan":
        small = ["unet.width=4", "unet.blocks=1", "patchgan.width=4", "train.batch_size=8"]
    elif text:
        small = ["lstm.embed=8", "lstm.hidden=16", "cnn.embed=8", "cnn.filters=0.05", "textgan.pretrain_steps=4",
                 "textgan.d_pretrain_steps=2", "textgan.rollouts=2"]
    else:
        net = full.gan.net
        small = [f"{net}.g_width=8", f"{net}.d_width=8"] if net in ("dcgan", "stylegan2") else [f"{net}.g_hidden=[32]", f"{net}.d_hidden=[32]"]
    if full.data.per_class:  # the first 256 images hold about 25 of each digit
        small.append("data.per_class=5")
    cfg = resolve(preset, TINY + ["train.steps=10", "train.log_every=5", *small])
    result = Trainer(cfg, tmp_path, progress=False).fit()
    assert result.step == 10
    for name in ("config.yaml", "stats.jsonl", "samples.txt" if text else "samples.png", "curves.png", "generator.safetensors",
                 "generator.json", "report.html", "checkpoints/step-00000010.pt"):
        assert (tmp_path / name).is_file(), name
    records = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [5, 10]  # G trains in both ticks (n_critic is at most 5 steps)
    if text:  # MLE steps first, then (GANs) D beside G's adversarial phase
        assert "loss/mle" in records[0]
        assert full.textgan.mode == "mle" or {"loss/D", "D_real", "D_fake"} <= set(records[1])
    elif full.recipe == "paired" and full.paired.adversarial_weight == 0:  # a content-only baseline: G alone
        assert {"loss/content", "steps_per_s", "wall_s"} <= set(records[0]) and "loss/D" not in records[0]
    elif full.recipe == "cyclegan":  # both generators, both discriminators
        assert {"loss/D", "loss/G", "cycle", "D_a_real", "D_b_fake"} <= set(records[0])
    else:
        assert {"loss/D", "loss/G", "steps_per_s", "wall_s"} <= set(records[0])
        assert {"D(x)", "D(G(z))"} <= set(records[0]) or {"D_real", "D_fake"} <= set(records[0])
    assert all(np.isfinite(v) for r in records for v in r.values())


def run(tmp_path, steps, resume=None, extra=()):
    small = [] if any(e.startswith("gan.net=") for e in extra) else SMALL_MLP
    cfg = resolve("seed-mlp", TINY + small + [f"train.steps={steps}", "train.ckpt_every=300", *extra])
    trainer = Trainer(cfg, tmp_path, resume=resume, progress=False)
    trainer.fit()
    return trainer


def test_resume_is_exact(tmp_path):
    extra = ["train.ema_halflife_kimg=1"]
    whole = run(tmp_path / "whole", 2000, extra=extra)
    run(tmp_path / "split", 1000, extra=extra)
    resumed = run(tmp_path / "split", 2000, resume=latest_checkpoint(tmp_path / "split"), extra=extra)
    ema_a, ema_b = whole.emas["G"].state_dict(), resumed.emas["G"].state_dict()
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)
    assert resumed.step == whole.step == 2000
    a, b = params(whole), params(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    for name in whole.opts:
        sa, sb = whole.opts[name].state_dict()["state"], resumed.opts[name].state_dict()["state"]
        assert all(torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"]) for i in sa)
    assert torch.equal(whole.fixed["z"], resumed.fixed["z"])


def test_resume_is_exact_with_batchnorm_and_fresh_noise(tmp_path):
    extra = ["gan.net=dcgan", "dcgan.g_width=8", "dcgan.d_width=8", "dcgan.g_norm=batch", "dcgan.d_norm=batch",
             "gan.reuse_fakes=false"]
    whole = run(tmp_path / "whole", 60, extra=extra)
    run(tmp_path / "split", 25, extra=extra)
    resumed = run(tmp_path / "split", 60, resume=latest_checkpoint(tmp_path / "split"), extra=extra)
    a, b = params(whole), params(resumed)
    assert any("running_mean" in k for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_a_changed_config(tmp_path):
    run(tmp_path, 3)
    cfg = resolve("seed-mlp", TINY + SMALL_MLP + ["train.steps=6", "optim.G.lr=0.1"])
    with pytest.raises(GankitError, match="config differs in optim.G.lr"):
        Trainer(cfg, tmp_path, resume=latest_checkpoint(tmp_path), progress=False)


def test_corrupt_and_foreign_checkpoints_are_refused(tmp_path):
    run(tmp_path, 3)
    data = latest_checkpoint(tmp_path).read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(GankitError, match="corrupt"):
        load_state(tmp_path / "cut.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(GankitError, match="not a gankit training state"):
        load_state(tmp_path / "foreign.pt")


def test_a_pickled_object_in_a_checkpoint_never_runs(tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (exec, ("open(%r, 'w').write('ran')" % str(tmp_path / "pwned"),))

    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"format": 1, "config": Boom()}, f)
    with pytest.raises(GankitError):
        load_state(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()


def test_samples_files_and_fixed_noise_grid(tmp_path):
    trainer = run(tmp_path, 3)
    G = load_generator(tmp_path)
    images = G.sample(10, seed=3)
    assert images.shape == (10, 1, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(images, G.sample(10, seed=3)) and not torch.equal(images, G.sample(10, seed=4))
    save_samples(G, 10, tmp_path / "s.npz", seed=3, batch_size=4)  # streamed in batches: the same samples
    with np.load(tmp_path / "s.npz") as f:
        assert f["images"].shape == (10, 28, 28, 1) and f["images"].dtype == np.uint8
        assert np.array_equal(f["images"], images.permute(0, 2, 3, 1).numpy())
    save_samples(G, 10, tmp_path / "s.png", seed=3)
    assert Image.open(tmp_path / "s.png").size == (2 * (4 * 30 + 2), 2 * (3 * 30 + 2))  # 4 x 3 cells of 30 px, doubled
    with pytest.raises(GankitError, match="use a .png"):
        save_samples(G, 10, tmp_path / "s.jpg")
    # the exported generator reproduces the trainer's fixed-noise grid, through the one `generate` path
    expected = trainer.sample_fixed()["fake"]
    assert torch.equal(G(trainer.fixed)["fake"], expected)


def test_cheap_fid_best_generator_final_metrics_and_report(tmp_path):
    cfg = resolve("seed-mlp", TINY + SMALL_MLP + ["train.steps=6", "eval.every=2", "eval.n_cheap=200",
                                                 "eval.n_final=300", "train.ema_halflife_kimg=0.5"])
    result = Trainer(cfg, tmp_path, progress=False).fit()
    records = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    fids = [r["fid"] for r in records]
    assert len(fids) == 3 and all(f > 0 for f in fids)
    best = json.loads((tmp_path / "generator-best.json").read_text())
    assert best["fid"] == pytest.approx(min(fids), abs=1e-3)
    assert load_generator(tmp_path / "generator-best.safetensors").sample(2).shape == (2, 1, 28, 28)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["card"]["n_samples"] == 300 and metrics == {"step": 6, **result.metrics}
    page = (tmp_path / "report.html").read_text()
    assert "Final metrics" in page and "data:image/png;base64," in page and "ema_halflife_kimg: 0.5" in page


def test_data_without_a_reference_skips_metrics(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(40):
        Image.new("L", (8, 8), i * 6).save(folder / f"{i}.png")
    cfg = resolve("seed-mlp", ["data.name=folder", f"data.path={folder}", "data.resolution=8", "data.channels=1",
                               "train.batch_size=8", "train.steps=3", "train.n_samples=4"] + SMALL_MLP)
    result = Trainer(cfg, tmp_path / "run", progress=False).fit()
    assert result.metrics is None and not (tmp_path / "run" / "metrics.json").exists()


def test_tensorboard_gets_the_logged_scalars_and_grids(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run(tmp_path, 4, extra=["train.log_every=2", "train.sample_every=2"])
    logged = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    events = event_accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    d_loss = events.Scalars("loss/D")
    assert [e.step for e in d_loss] == [row["step"] for row in logged]
    assert d_loss[-1].value == pytest.approx(logged[-1]["loss/D"], rel=1e-4)
    assert "samples" in events.Tags()["images"]


def test_linear_learning_rate_decay(tmp_path):
    from gankit.config import OptimConfig
    from gankit.trainer import lr_factor

    cfg = OptimConfig(decay_from=0.5)
    assert [lr_factor(cfg, step, 100) for step in (0, 49, 50, 75, 99, 100)] == pytest.approx([1, 1, 1, 0.5, 0.02, 0])
    assert lr_factor(OptimConfig(), 99, 100) == 1  # decay_from=1: constant
    trainer = Trainer(resolve("seed-mlp", TINY + SMALL_MLP + ["train.steps=20", "optim.decay_from=0.5"]), tmp_path,
                      progress=False)
    trainer.fit()
    # the last step (19) ran at (1 - (19 - 10) / 10) of the configured rates
    assert trainer.opts["G"].param_groups[0]["lr"] == pytest.approx(trainer.cfg.optim.G.lr * 0.1)
    assert trainer.opts["D"].param_groups[0]["lr"] == pytest.approx(trainer.cfg.optim.D.lr * 0.1)
    with pytest.raises(GankitError, match="'optim.decay_from' must be between 0 and 1, got 1.5"):
        Trainer(resolve("seed-mlp", TINY + ["optim.decay_from=1.5"]), tmp_path / "bad", progress=False)


@pytest.mark.parametrize("key", ["log_every", "sample_every", "ckpt_every"])
def test_intervals_below_one_step_are_refused(tmp_path, key):
    with pytest.raises(GankitError, match=f"'train.{key}' must be at least 1, got 0"):
        Trainer(resolve("seed-mlp", TINY + [f"train.{key}=0"]), tmp_path, progress=False)


LEGACY = Path(__file__).parent / "fixtures" / "legacy"  # written by gankit 0.1 before sections followed components
LEGACY_SETTINGS = ["data.limit=256", "train.batch_size=32", "train.log_every=1", "train.n_samples=4", "eval.every=0",
                   "eval.n_final=0", "mlp.g_hidden=[8]", "mlp.d_hidden=[8]", "train.ema_halflife_kimg=1",
                   "train.precision=fp32"]


def test_exports_and_checkpoints_of_gankit_0_1_load_and_resume(tmp_path):
    G = load_generator(LEGACY / "generator.safetensors")
    with np.load(LEGACY / "expected.npz") as f:
        assert torch.equal(G.sample(4, seed=0), torch.from_numpy(f["samples"]))  # what gankit 0.1 drew
    run = tmp_path / "run" / "checkpoints"
    run.mkdir(parents=True)
    shutil.copy(LEGACY / "step-00000002.pt", run)
    cfg = resolve("seed-mlp", LEGACY_SETTINGS + ["train.steps=4"])  # the preset's description changed since: allowed
    resumed = Trainer(cfg, tmp_path / "run", resume=run / "step-00000002.pt", progress=False)
    assert resumed.step == 2
    resumed.fit()
    # the same two steps again, with a stop (and a checkpoint of today's format) between them: resuming is exact.
    # (Training from scratch is not compared: the old checkpoint's first steps ran on another CPU, whose float
    # kernels may round differently.)
    again = Trainer(resolve("seed-mlp", LEGACY_SETTINGS + ["train.steps=3"]), tmp_path / "again",
                    resume=run / "step-00000002.pt", progress=False)
    again.fit()
    again = Trainer(cfg, tmp_path / "again", resume=latest_checkpoint(tmp_path / "again"), progress=False)
    assert again.step == 3
    again.fit()
    a, b = params(again), params(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    ema_a, ema_b = again.emas["G"].state_dict(), resumed.emas["G"].state_dict()
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)


def test_stats_average_each_key_over_the_steps_that_reported_it(tmp_path, monkeypatch):
    """Lazy regularisers and ADA's r_t report every few steps; their logged mean is over those steps only."""
    cfg = resolve("seed-mlp", TINY + SMALL_MLP + ["train.steps=8", "train.log_every=4", "eval.every=0"])
    trainer = Trainer(cfg, tmp_path, progress=False)

    def fake_step():
        trainer.step += 1
        logs = {"every": torch.tensor(float(trainer.step))}
        if trainer.step % 4 == 1:  # steps 1 and 5: one report per tick
            logs["sometimes"] = torch.tensor(10.0 * trainer.step)
        return logs

    monkeypatch.setattr(trainer, "train_step", fake_step)
    trainer.fit()
    records = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert [(r["step"], r["every"], r["sometimes"]) for r in records] == [(4, 2.5, 10.0), (8, 6.5, 50.0)]


CHURN = """
import resource, sys, torch
from gankit.trainer import keep_freed_memory
print(keep_freed_memory())
def churn():  # a training step's pattern: a few buffers of some MB, made and freed again
    for _ in range(50):
        buffers = [torch.ones(1 << 20) for _ in range(4)]
        del buffers
churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_freed_buffers_are_reused_not_faulted_in_again_each_step():
    out = subprocess.run([sys.executable, "-c", CHURN], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) < 1000  # glibc's defaults: ~200,000 page faults here (4 MB buffers returned and refaulted)


def load_step_floor():
    spec = importlib.util.spec_from_file_location("step_floor", Path(__file__).parents[1] / "benchmarks" / "step_floor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_the_tutorials_step_is_the_one_written_out_by_hand(precision, tmp_path):
    """seed-mlp's trainer step is the tutorial's algorithm and nothing else (benchmarks/step_floor.py times the
    two): D on real and detached fakes, then G through the same fakes against the updated D, bit for bit."""
    floor = load_step_floor()
    cfg = resolve("seed-mlp", floor.QUIET + ["train.steps=100", "train.device=cpu", f"train.precision={precision}"])
    ours, hand = Trainer(cfg, tmp_path / "ours", progress=False), Trainer(cfg, tmp_path / "hand", progress=False)
    assert floor.same_state(ours, hand)
    for _ in range(3):
        ours.train_step()
        floor.hand_step(hand)
    assert floor.same_state(ours, hand)
    hand.opts["G"].param_groups[0]["lr"] *= 2  # and the comparison sees a difference where there is one
    ours.train_step()
    floor.hand_step(hand)
    assert not floor.same_state(ours, hand)
