"""Adaptive discriminator augmentation: each augmentation's effect, p's controller, determinism, gradients."""
import pytest
import torch

from gankit.ada import AdaptiveAugment, parse_pipeline
from gankit.draws import Draws
from gankit.errors import GankitError


def only(*ops, p=1.0):
    ada = AdaptiveAugment("bgc", initial_p=p)
    ada.ops = ops
    return ada


def images(n=16, c=1, side=8):
    return torch.rand(n, c, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_p_zero_leaves_images_alone_and_pipelines_are_checked():
    x = images()
    assert AdaptiveAugment("bgc")(x, Draws.seeded(0)) is x
    assert parse_pipeline("bgc") == ("xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac",
                                     "brightness", "contrast", "lumaflip", "hue", "saturation")
    assert parse_pipeline("cb") == parse_pipeline("bc")
    for bad in ("", "bgx", "f"):
        with pytest.raises(GankitError, match="unknown ADA pipeline"):
            parse_pipeline(bad)
    with pytest.raises(GankitError, match="grey or RGB"):
        AdaptiveAugment("b", initial_p=1.0)(torch.zeros(2, 2, 8, 8), Draws.seeded(0))


def test_blit_moves_whole_pixels():
    x = images()
    out = only("xflip")(x, Draws.seeded(0))
    flipped = [torch.allclose(o, i.flip(-1), atol=1e-5) for o, i in zip(out, x)]
    kept = [torch.allclose(o, i, atol=1e-5) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and 3 <= sum(flipped) <= 13
    out = only("rotate90")(x, Draws.seeded(1))
    turns = [[torch.allclose(o, torch.rot90(i, q, (-2, -1)), atol=1e-5) for q in range(4)] for o, i in zip(out, x)]
    assert all(any(t) for t in turns) and len({t.index(True) for t in turns}) == 4
    out = only("xint")(x, Draws.seeded(2))  # up to 1/8 of 8 px: one pixel; the interior is a shifted copy
    for o, i in zip(out, x):
        assert any(torch.allclose(o[:, 1:-1, 1:-1], i[:, 1 + dy:7 + dy, 1 + dx:7 + dx], atol=1e-5)
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_colour_on_grey_images():
    x = images()
    out = only("brightness")(x, Draws.seeded(0))
    shift = (out - x).flatten(1)
    assert torch.allclose(shift, shift[:, :1].expand_as(shift), atol=1e-6) and shift[:, 0].std() > 0.05
    out = only("contrast")(x, Draws.seeded(0))
    ratio = (out / x).flatten(1)
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio), atol=1e-4) and (ratio[:, 0] > 0).all()
    out = only("lumaflip")(x, Draws.seeded(0))  # the luma reflection of a grey image is its negative
    assert all(torch.allclose(o, i) or torch.allclose(o, -i) for o, i in zip(out, x))
    for op in ("hue", "saturation"):  # rotations about, and scalings off, the luma axis leave grey alone
        assert torch.allclose(only(op)(x, Draws.seeded(0)), x, atol=1e-5)


def test_hue_and_saturation_keep_an_rgb_image_luma():
    x = images(c=3)
    for op in ("hue", "saturation"):
        out = only(op)(x, Draws.seeded(0))
        assert torch.allclose(out.mean(1), x.mean(1), atol=1e-5) and not torch.allclose(out, x, atol=1e-3)


def test_the_full_pipeline_repeats_with_the_same_draws_and_passes_gradients():
    x = images(c=3).requires_grad_(True)
    ada = AdaptiveAugment("bgc", initial_p=0.8)
    out = ada(x, Draws.seeded(5))
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert torch.equal(out, ada(x, Draws.seeded(5))) and not torch.equal(out, ada(x, Draws.seeded(6)))
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_p_follows_the_sign_of_d_on_real_images():
    ada = AdaptiveAugment("bgc", target=0.6, speed_kimg=1.0)  # p crosses 0 -> 1 in 1,000 images
    assert ada.adjust() is None
    ada.observe(torch.tensor([3.0, 1.0, 2.0, -1.0]))  # r_t = (1 + 1 + 1 - 1) / 4 = 0.5 < 0.6: D unsure, p stays 0
    assert ada.adjust() == pytest.approx(0.5) and float(ada.p) == 0.0
    for _ in range(3):
        ada.observe(torch.ones(100))  # r_t = 1: overfitting, p rises by 100 / 1000 per interval
        assert ada.adjust() == 1.0
    assert float(ada.p) == pytest.approx(0.3) and int(ada.sign_count) == 0
    ada.observe(-torch.ones(50))
    ada.adjust()
    assert float(ada.p) == pytest.approx(0.25)
    state = ada.state_dict()
    assert {"p", "sign_sum", "sign_count"} <= set(state)


def test_the_curves_show_p(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from unittest import mock

    import matplotlib.axes

    from gankit.report import plot_curves

    records = [{"step": s, "loss/D": 1.0, "loss/G": 1.0, "D(x)": 0.6, "D(G(z))": 0.4, "ada_p": s / 100} for s in range(10)]
    with mock.patch("matplotlib.axes.Axes.twinx", wraps=matplotlib.axes.Axes.twinx, autospec=True) as twin:
        assert plot_curves(records, tmp_path / "curves.png").is_file()
    assert twin.call_count == 1
    plot_curves([{k: v for k, v in r.items() if k != "ada_p"} for r in records], tmp_path / "plain.png")
    assert twin.call_count == 1  # no second axis without ADA
