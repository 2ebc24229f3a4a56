import json

import torch

from gankit.config import resolve
from gankit.health import HealthMonitor, diversity
from gankit.trainer import Trainer

from conftest import TINY

SMALL = TINY + ["mlp.g_hidden=[32]", "mlp.d_hidden=[32]", "train.ckpt_every=4", "train.log_every=2"]


def poison(trainer):
    with torch.no_grad():
        next(trainer.recipe.nets["G"].parameters()).fill_(float("nan"))


def test_nan_stops_the_run_and_keeps_the_good_checkpoints(tmp_path):
    trainer = Trainer(resolve("seed-mlp", SMALL + ["train.steps=8"]), tmp_path, progress=False)
    trainer.fit()
    good = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    poison(trainer)
    trainer.cfg.train.steps = 16
    result = trainer.fit()
    assert result.failed is not None and "NaN/Inf in" in result.failed and "weights of G" in result.failed
    assert result.step == 10  # stopped at the first tick after the damage
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == good
    events = [json.loads(line) for line in (tmp_path / "health.jsonl").read_text().splitlines()]
    assert events[-1]["kind"] == "non-finite" and events[-1]["fatal"] and "learning rate" in events[-1]["advice"]


def test_nan_with_rollback_resumes_from_the_last_checkpoint_at_half_the_rate(tmp_path):
    trainer = Trainer(resolve("seed-mlp", SMALL + ["train.steps=8", "train.on_nan=rollback"]), tmp_path,
                      progress=False)
    trainer.fit()
    poison(trainer)
    trainer.cfg.train.steps = 16
    result = trainer.fit()
    assert result.failed is None and result.step == 16 and trainer.rollbacks == 1
    assert trainer.opts["G"].param_groups[0]["lr"] == trainer.cfg.optim.G.lr * 0.5
    assert all(torch.isfinite(p).all() for p in trainer.recipe.parameters())
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "health.jsonl").read_text().splitlines()]
    assert kinds == ["non-finite", "rollback"]


def test_discriminator_overpowering_needs_a_sustained_window():
    monitor = HealthMonitor(window=3)
    strong = {"D(x)": 0.999, "D(G(z))": 0.0005}
    assert monitor.check(1, strong, {}) == [] and monitor.check(2, strong, {}) == []
    monitor.check(3, {"D(x)": 0.7, "D(G(z))": 0.3}, {})  # a normal tick resets the window
    assert monitor.check(4, strong, {}) == [] and monitor.check(5, strong, {}) == []
    events = monitor.check(6, strong, {})
    assert [e.kind for e in events] == ["d-overpowers"] and "optim.D.lr" in events[0].advice
    assert monitor.check(7, strong, {}) == []  # reported once


def test_collapse_of_fixed_noise_samples_and_of_classes():
    monitor = HealthMonitor()
    varied = torch.randn(16, 1, 8, 8)
    assert monitor.check_samples(1, varied) == []
    collapsed = varied[:1].repeat(16, 1, 1, 1) + 0.01 * torch.randn(16, 1, 8, 8)
    assert diversity(collapsed) < 0.1 * diversity(varied)
    events = monitor.check_samples(2, collapsed)
    assert [e.kind for e in events] == ["collapse"] and "lost diversity" in events[0].message
    fresh = HealthMonitor()
    assert [e.kind for e in fresh.check(3, {"classes_covered": 2}, {})] == ["collapse"]
    assert fresh.check(4, {"classes_covered": 10}, {}) == []


def test_each_rollback_halves_the_configured_rate_once(tmp_path):
    trainer = Trainer(resolve("seed-mlp", SMALL + ["train.steps=8", "train.on_nan=rollback"]), tmp_path,
                      progress=False)
    trainer.fit()
    assert trainer.rollback()
    trainer.save_checkpoint()  # this checkpoint's optimizer already holds the halved rate
    assert trainer.rollback()
    assert trainer.opts["G"].param_groups[0]["lr"] == trainer.cfg.optim.G.lr * 0.25
    assert trainer.opts["D"].param_groups[0]["lr"] == trainer.cfg.optim.D.lr * 0.25
