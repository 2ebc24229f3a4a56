"""The StyleGAN2 networks: shapes for every option, modulated convolution against a per-sample reference,
the truncation trick, minibatch standard deviation and the noise inputs."""
import math

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import GankitError
from gankit.nets import PairSpec, build_pair
from gankit.nets.stylegan2 import EqualLinear, MinibatchStd, ModulatedConv2d, StyleGAN2Options, random_noise

SMALL = dict(w_dim=16, mapping_layers=2, g_width=4, d_width=4, max_width=16)


def build(shape, num_classes=0, conditional="none", **options):
    return build_pair("stylegan2", StyleGAN2Options(**{**SMALL, **options}), PairSpec(20, shape, num_classes, conditional))


@pytest.mark.parametrize("shape, k", [((1, 28, 28), 2), ((1, 32, 32), 3), ((3, 32, 32), 3), ((3, 64, 64), 4)])
def test_shapes_at_every_resolution(shape, k):
    G, D = build(shape)
    z = torch.randn(6, 20)
    x = G(z)
    assert x.shape == (6, *shape) and D(x).shape == (6,)
    assert G.num_ws == 2 * k + 2 and len(G.synthesis.rgb) == k + 1
    assert G.mapping(z).shape == (6, 16)
    # channels double per halving of the side, from g_width at full resolution, capped at max_width
    assert [rgb.conv.weight.shape[1] for rgb in G.synthesis.rgb] == [min(16, 4 * 2 ** (k - i)) for i in range(k + 1)]
    assert G.synthesis.const.shape == (min(16, 4 * 2 ** k), shape[1] >> k, shape[1] >> k)


@pytest.mark.parametrize("option", [dict(w_dim=8), dict(mapping_layers=1), dict(mapping_layers=8), dict(g_width=2),
                                    dict(d_width=8), dict(max_width=4), dict(mbstd_group=1), dict(mbstd_group=3)])
def test_every_option_builds_and_runs(option):
    G, D = build((1, 32, 32), **option)
    x = G(torch.randn(6, 20))
    assert x.shape == (6, 1, 32, 32) and D(x).shape == (6,)
    depth = sum(1 for _ in G.mapping.layers)
    assert depth == option.get("mapping_layers", 2) and G.mapping.w_avg.shape == (option.get("w_dim", 16),)
    assert D.dense.weight.shape[0] == min(option.get("max_width", 16), option.get("d_width", 4) * 8)


def test_modulated_convolution_equals_a_per_sample_convolution_with_demodulated_weights():
    torch.manual_seed(0)
    conv = ModulatedConv2d(5, 7, 3, w_dim=6)
    with torch.no_grad():
        conv.affine.bias.normal_()  # styles far from 1, so that modulation matters
    x, w = torch.randn(4, 5, 9, 9), torch.randn(4, 6)
    styles = conv.affine(w)
    reference = []
    for n in range(4):  # the paper's definition, one sample at a time
        weight = conv.weight * conv.scale * styles[n][None, :, None, None]             # w'_oik = s_i w_oik
        weight = weight / (weight.square().sum((1, 2, 3), keepdim=True) + 1e-8).sqrt()  # w''_oik
        assert torch.allclose(weight.square().sum((1, 2, 3)), torch.ones(7), atol=1e-5)  # unit norm per output
        reference.append(F.conv2d(x[n:n + 1], weight, padding=1))
    assert torch.allclose(conv(x, w), torch.cat(reference), atol=1e-5)
    plain = ModulatedConv2d(5, 7, 1, w_dim=6, demodulate=False)  # toRGB's: modulation only
    s = plain.affine(w)
    expected = torch.stack([F.conv2d(x[n:n + 1], plain.weight * plain.scale * s[n][None, :, None, None])[0]
                            for n in range(4)])
    assert torch.allclose(plain(x, w), expected, atol=1e-5)
    assert ModulatedConv2d(5, 7, 3, 6, up=True)(x, w).shape == (4, 7, 18, 18)


def test_equalised_layers_keep_unit_variance_and_scale_the_mapping_rate():
    torch.manual_seed(0)
    layer = EqualLinear(512, 256)
    assert layer(torch.randn(2000, 512)).std().item() == pytest.approx(1.0, abs=0.05)
    slow = EqualLinear(512, 256, lr_mul=0.01)
    assert slow.weight.std().item() == pytest.approx(100.0, rel=0.05)  # stored / lr_mul, used x lr_mul / sqrt(fan_in)
    assert slow(torch.randn(2000, 512)).std().item() == pytest.approx(1.0, abs=0.05)


def test_truncation_pulls_w_towards_its_average():
    G, _ = build((1, 32, 32))
    with torch.no_grad():
        G.mapping.w_avg.normal_()
    z = torch.randn(5, 20)
    at_average = G(z, truncation=0.0, noise=None)
    assert torch.allclose(at_average, at_average[:1].expand_as(at_average))  # psi 0: every sample is w_avg's image
    w = G.mapping(z)
    assert torch.allclose(G.truncate(w, 0.7), G.mapping.w_avg + 0.7 * (w - G.mapping.w_avg), atol=1e-6)
    assert torch.equal(G(z, truncation=1.0, noise=None), G(z, noise=None))


def test_noise_inputs_vary_images_only_through_their_learned_strength():
    G, _ = build((1, 28, 28))
    z = torch.randn(3, 20)
    assert torch.equal(G(z), G(z, noise=random_noise))  # strengths start at 0
    with torch.no_grad():
        for layer in (G.synthesis.first, *G.synthesis.ups, *G.synthesis.convs):
            layer.noise_strength.fill_(0.5)
    assert not torch.allclose(G(z, noise=random_noise), G(z, noise=random_noise))
    assert torch.equal(G(z), G(z)) and not torch.allclose(G(z), G(z, noise=random_noise))  # fixed noise by default
    assert [layer.noise_const.shape[-1] for layer in G.synthesis.convs] == [14, 28]
    fixed = lambda shape, device: torch.ones(shape, device=device)  # noqa: E731  (a caller's own noise)
    assert torch.equal(G(z, noise=fixed), G(z, noise=fixed))


def test_minibatch_std_appends_the_mean_deviation_of_each_group():
    x = torch.arange(2 * 8 * 1 * 2 * 2, dtype=torch.float).view(8, 2, 2, 2) ** 1.5
    out = MinibatchStd(group=4)(x)
    assert out.shape == (8, 3, 2, 2) and torch.equal(out[:, :2], x)
    for j in range(2):  # group j holds samples 4j ... 4j + 3
        group = x[4 * j:4 * j + 4]
        expected = (group.var(0, unbiased=False) + 1e-8).sqrt().mean()
        assert torch.allclose(out[4 * j:4 * j + 4, 2], expected.expand(4, 2, 2))
    assert MinibatchStd(group=4)(torch.randn(6, 2, 3, 3)).shape == (6, 3, 3, 3)  # 6 is no multiple of 4: groups of 2


def test_conditional_stylegan2_uses_labels():
    G, D = build((1, 28, 28), 10, "projection")
    z = torch.randn(1, 20).repeat(2, 1)
    x = G(z, torch.tensor([1, 7]), noise=None)
    assert not torch.allclose(x[0], x[1]) and D(x, torch.tensor([1, 7])).shape == (2,)
    with pytest.raises(ValueError, match="needs class labels"):
        G(z)
    with pytest.raises(GankitError, match="needs labelled data"):
        build((1, 28, 28), 0, "projection")
    _, D = build((1, 28, 28), 10, "acgan")
    logits, classes = D.forward_with_classes(x)
    assert logits.shape == (2,) and classes.shape == (2, 10)
    assert math.isfinite(D(x).sum().item())


def test_stylegan2_training_resumes_exactly_with_ada_p_w_avg_path_length_and_ema(tmp_path):
    from conftest import TINY
    from gankit.checkpoint import latest_checkpoint
    from gankit.config import resolve
    from gankit.trainer import Trainer

    def run(folder, steps, resume=None):
        cfg = resolve("mnist-stylegan2", TINY + [
            f"train.steps={steps}", "train.ckpt_every=4", "train.batch_size=8", "stylegan2.g_width=4",
            "stylegan2.d_width=4", "stylegan2.max_width=8", "stylegan2.w_dim=8", "gan.ada=bgc", "gan.ada_kimg=0.02",
            "gan.ada_interval=2", "gan.r1_every=2", "gan.pl_every=2", "train.ema_halflife_kimg=0.1"])
        trainer = Trainer(cfg, folder, resume=resume, progress=False)
        trainer.fit()
        return trainer

    whole = run(tmp_path / "whole", 8)
    run(tmp_path / "split", 4)
    resumed = run(tmp_path / "split", 8, resume=latest_checkpoint(tmp_path / "split"))
    a, b = whole.recipe.state_dict(), resumed.recipe.state_dict()
    assert float(a["ada.p"]) > 0 and a["nets.G.mapping.w_avg"].abs().sum() > 0 and float(a["pl_mean"]) > 0
    assert all(torch.equal(a[k], b[k]) for k in a)
    ema_a, ema_b = whole.emas["G"].state_dict(), resumed.emas["G"].state_dict()
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)
    assert torch.equal(ema_a["mapping.w_avg"], a["nets.G.mapping.w_avg"])  # the exported G carries the mean w
    # lazy regularisation scales the optimizers: G every 2 (path length) and D every 2 (R1): rate x 2/3
    for name in ("G", "D"):
        group = whole.opts[name].param_groups[0]
        assert group["lr"] == pytest.approx(2.5e-3 * 2 / 3) and group["betas"][1] == pytest.approx(0.99 ** (2 / 3))


def test_style_options_need_a_style_based_generator():
    from conftest import TINY
    from gankit.config import resolve
    from gankit.data import load_data
    from gankit.recipes import build_recipe

    cfg = resolve("mnist-dcgan", TINY + ["gan.style_mixing=0.9"])
    with pytest.raises(GankitError, match="need a style-based generator"):
        build_recipe(cfg, load_data(cfg.data))
    cfg = resolve("toy-grid", ["gan.ada=bgc"])
    with pytest.raises(GankitError, match="gan.ada augments images"):
        build_recipe(cfg, load_data(cfg.data))
    for extra, message in ((["gan.ada=xyz"], "unknown ADA pipeline"), (["gan.ada=bgc", "gan.pack=2"], "gan.pack=1")):
        cfg = resolve("mnist-stylegan2", TINY + extra)
        with pytest.raises(GankitError, match=message):
            build_recipe(cfg, load_data(cfg.data))


def tiny_run(folder, steps=2, extra=()):
    from conftest import TINY
    from gankit.config import resolve
    from gankit.trainer import Trainer

    cfg = resolve("mnist-stylegan2", TINY + [f"train.steps={steps}", "train.batch_size=8", "stylegan2.g_width=4",
                                             "stylegan2.d_width=4", "stylegan2.max_width=8", "stylegan2.w_dim=8",
                                             *extra])
    Trainer(cfg, folder, progress=False).fit()
    return folder


def test_sample_truncation_from_the_command_line(tmp_path, capsys):
    import numpy as np

    from gankit.cli import main

    run = tiny_run(tmp_path / "run")
    outs = {}
    for psi in ("1", "0.5", "0"):
        out = tmp_path / f"psi{psi}.npz"
        assert main(["sample", str(run), "--n", "6", "--out", str(out), "--truncation", psi]) == 0
        outs[psi] = np.load(out)["images"]
    assert np.array_equal(outs["1"], np.load(str(tmp_path / "psi1.npz"))["images"])
    assert not np.array_equal(outs["0.5"], outs["1"])
    assert all(np.array_equal(outs["0"][0], image) for image in outs["0"])  # psi 0: the image of w_avg, six times
    capsys.readouterr()
    for psi, message in (("3", "between 0 and 2"), ("nan", "between 0 and 2")):
        assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "bad.png"), "--truncation", psi]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and not (tmp_path / "bad.png").exists()


def test_truncation_is_refused_for_other_generators(tmp_path, capsys):
    from conftest import TINY
    from gankit.cli import main
    from gankit.config import resolve
    from gankit.trainer import Trainer

    cfg = resolve("seed-mlp", TINY + ["train.steps=1"])
    Trainer(cfg, tmp_path / "mlp", progress=False).fit()
    assert main(["sample", str(tmp_path / "mlp"), "--out", str(tmp_path / "g.png"), "--truncation", "0.7"]) == 2
    assert "needs a style-based generator" in capsys.readouterr().err


def test_latent_walks_loop_and_the_mixing_grid_takes_styles_by_range(tmp_path, capsys):
    from PIL import Image

    from gankit.cli import main
    from gankit.latent import layer_ranges, slerp
    from gankit.sampling import load_generator

    run = tiny_run(tmp_path / "run")
    gif = tmp_path / "walk.gif"
    assert main(["interpolate", str(run), "--out", str(gif), "--walks", "3", "--keys", "3", "--steps", "4"]) == 0
    with Image.open(gif) as picture:
        assert picture.n_frames == 12 and picture.info["loop"] == 0 and picture.size[0] > 3 * 64
    G = load_generator(run).nets["G"]
    assert layer_ranges(G) == {"coarse": [0, 1, 2], "middle": [3, 4], "fine": [5, 6, 7]}  # 4-8, 16, 32 px
    mix = tmp_path / "mix.png"
    assert main(["mix", str(run), "--out", str(mix), "--cols", "4", "--rows", "2"]) == 0
    assert "coarse: 4px, 8px; middle: 16px; fine: 32px" in capsys.readouterr().out
    with Image.open(mix) as picture:  # 5 columns (B, then 4 A) x 7 rows (A, then 2 per range), 34 px cells x 2
        assert picture.size == ((5 * 34 + 2) * 2, (7 * 34 + 2) * 2)
    a, b = torch.randn(4, 8), torch.randn(4, 8)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    u, v = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    assert torch.allclose(slerp(u, v, 0.5).norm(), torch.tensor(3.0))  # along the circle, not the chord


def test_walks_of_other_gans_and_bad_requests(tmp_path, capsys):
    from conftest import TINY
    from gankit.cli import main
    from gankit.config import resolve
    from gankit.trainer import Trainer

    Trainer(resolve("seed-mlp", TINY + ["train.steps=1"]), tmp_path / "mlp", progress=False).fit()
    gif = tmp_path / "mlp.gif"
    assert main(["interpolate", str(tmp_path / "mlp"), "--out", str(gif), "--keys", "2", "--steps", "2"]) == 0
    capsys.readouterr()
    cases = [(["interpolate", str(tmp_path / "mlp"), "--out", str(gif)], "already exists"),
             (["interpolate", str(tmp_path / "mlp"), "--out", str(tmp_path / "w.png")], "ending in .gif"),
             (["interpolate", str(tmp_path / "mlp"), "--out", str(tmp_path / "w.gif"), "--keys", "1"], "--keys >= 2"),
             (["interpolate", str(tmp_path / "mlp"), "--out", str(tmp_path / "w.gif"), "--steps", "1000"], "at most 2000"),
             (["interpolate", str(tmp_path / "mlp"), "--out", str(tmp_path / "w.gif"), "--walks", "0"], "--walks"),
             (["interpolate", str(tmp_path / "mlp"), "--out", str(tmp_path / "w.gif"), "--fps", "0"], "--fps"),
             (["mix", str(tmp_path / "mlp"), "--out", str(tmp_path / "m.png")], "needs a style-based generator"),
             (["interpolate", str(tmp_path / "mlp"), "--out", str(tmp_path / "w.gif"), "--truncation", "0.5"],
              "needs a style-based generator")]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
    assert not (tmp_path / "w.gif").exists() and not (tmp_path / "m.png").exists()


def test_truncation_curve_script_scores_each_psi_with_the_same_latents(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    run = tiny_run(tmp_path / "run")
    script = Path(__file__).resolve().parents[1] / "scripts" / "truncation_curve.py"
    done = subprocess.run([sys.executable, str(script), str(run), str(run), "--out", str(tmp_path / "t.png"),
                           "--psi", "1", "0", "--n", "40"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert [r["psi"] for r in rows] == [0.0, 1.0, 0.0, 1.0] and rows[0]["fid"] == rows[2]["fid"]  # repeatable
    assert rows[0]["card"]["n_samples"] == 40 and "| 0 |" in (tmp_path / "t.md").read_text()


def test_tanh_output_bounds_the_image_and_the_linear_output_is_the_same_before_it():
    torch.manual_seed(0)
    linear, _ = build((1, 32, 32))
    bounded, _ = build((1, 32, 32), tanh_output=True)
    bounded.load_state_dict(linear.state_dict())
    z = torch.randn(8, 20)
    raw = linear(z)
    assert raw.abs().max() > 1  # the paper's linear output leaves the data range at initialisation
    assert torch.allclose(bounded(z), torch.tanh(raw), atol=1e-6)


def test_mapping_lr_mul_scales_the_mapping_network_s_stored_weights_not_its_function():
    torch.manual_seed(0)
    slow, _ = build((1, 32, 32), mapping_lr_mul=0.01)
    torch.manual_seed(0)
    fast, _ = build((1, 32, 32), mapping_lr_mul=1.0)
    layer_slow, layer_fast = slow.mapping.layers[0], fast.mapping.layers[0]
    # weights are stored N(0, 1) / lr_mul and used times lr_mul / sqrt(fan_in): same function at initialisation
    assert torch.allclose(layer_slow.weight * 0.01, layer_fast.weight)
    z = torch.randn(4, 20)
    assert torch.allclose(slow.mapping(z), fast.mapping(z), atol=1e-5)
