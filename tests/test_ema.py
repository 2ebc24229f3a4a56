import pytest
import torch

from gankit.ema import EMA, ema_beta


def test_half_life_halves_the_old_weight():
    beta = ema_beta(batch_size=64, halflife_kimg=10, images_seen=10**9, rampup=0.05)
    assert beta ** (10_000 / 64) == pytest.approx(0.5, rel=1e-9)


def test_ramp_up_caps_the_half_life_early_on():
    early = ema_beta(batch_size=64, halflife_kimg=10, images_seen=6400, rampup=0.05)  # half-life 320 images
    assert early == pytest.approx(0.5 ** (64 / 320))
    assert ema_beta(64, 10, 0, 0.05) == 0.0  # nothing seen yet: copy the weights


def test_update_is_a_lerp_and_buffers_are_copied():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = EMA(net)
    before = [p.clone() for p in ema.module.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
        net[1].running_mean.fill_(7.0)
    ema.update(net, beta=0.9)
    for old, new, source in zip(before, ema.module.parameters(), net.parameters()):
        assert torch.allclose(new, 0.9 * old + 0.1 * source)
    assert torch.equal(ema.module[1].running_mean, torch.full((2,), 7.0))
    assert not any(p.requires_grad for p in ema.module.parameters())
