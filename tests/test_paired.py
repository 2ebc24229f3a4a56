"""The paired recipe (image-to-image): its data, networks, losses, fidelity metrics and a whole tiny run."""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from gankit.config import resolve
from gankit.data import Field, load_data
from gankit.data.paired import CENTRE_HOLE, HOLE_MAX, HOLE_MIN, downscale, draw_holes
from gankit.draws import Draws
from gankit.errors import GankitError
from gankit.metrics import ocr, pixels
from gankit.nets.translator import (PatchGAN, PatchGANOptions, SRGANDiscriminator, SRGANDOptions, SRResNet,
                                    SRResNetOptions, TranslatorSpec, UNet, UNetOptions)
from gankit.recipes import build_recipe
from gankit.recipes.paired import HOLE_FILL, pairing
from gankit.sampling import load_generator
from gankit.trainer import Trainer

from conftest import TINY

SMALL = {"mnist-inpaint": ["unet.width=8", "patchgan.width=8"],
         "mnist-sr": ["srresnet.width=8", "srresnet.blocks=1", "patchgan.width=8"],
         "sr-photos": ["srresnet.width=8", "srresnet.blocks=1", "srgan.width=8", "data.crop=32"]}


def test_holes_are_rectangles_of_the_promised_sizes_inside_the_image():
    masks = draw_holes(4000, 28, Draws.seeded(0))
    assert masks.shape == (4000, 1, 28, 28) and set(masks.unique().tolist()) == {0.0, 1.0}
    rows, cols = masks[:, 0].amax(2).sum(1), masks[:, 0].amax(1).sum(1)  # hole height and width
    assert torch.equal(masks[:, 0].sum((1, 2)), rows * cols)  # a filled rectangle
    assert rows.min() >= HOLE_MIN and rows.max() <= HOLE_MAX and cols.min() >= HOLE_MIN and cols.max() <= HOLE_MAX
    centre = torch.zeros(28, 28)
    start = (28 - CENTRE_HOLE) // 2
    centre[start:start + CENTRE_HOLE, start:start + CENTRE_HOLE] = 1
    share = (masks[:, 0] == centre).all(2).all(1).float().mean().item()
    assert 0.22 < share < 0.28  # one in four, give or take sampling noise (sd 0.007)
    assert torch.equal(draw_holes(8, 28, Draws.seeded(3)), draw_holes(8, 28, Draws.seeded(3)))


def test_downscale_keeps_flat_images_flat_and_quarters_the_side():
    flat = torch.full((2, 1, 28, 28), 77, dtype=torch.uint8)
    small = downscale(flat, 4)
    assert small.shape == (2, 1, 7, 7) and small.dtype == torch.uint8 and (small == 77).all()


def test_paired_datasets_have_the_fields_the_recipe_pairs():
    sr = load_data(resolve("mnist-sr", ["data.limit=16"]).data)
    assert pairing(sr.fields) == ("lr", "hr") and sr.fields["lr"].shape == (1, 7, 7)
    inpaint = load_data(resolve("mnist-inpaint", ["data.limit=16"]).data)
    assert pairing(inpaint.fields) == ("image", "mask")
    batch = inpaint.batch(torch.arange(4), Draws.seeded(0))
    assert batch["mask"].shape == (4, 1, 28, 28) and batch["image"].shape == (4, 1, 28, 28)
    with pytest.raises(GankitError, match="draws holes at random"):
        inpaint.batch(torch.arange(4))
    mnist = load_data(resolve("mnist-cgan", ["data.limit=16"]).data)
    with pytest.raises(GankitError, match=r"needs paired images.*image \(image\), label \(label\).*lr \+ hr"):
        pairing(mnist.fields)
    with pytest.raises(GankitError, match="needs paired images"):
        build_recipe(resolve("mnist-inpaint", ["data.name=mnist"]), mnist)


def test_translator_networks_have_the_shapes_they_promise():
    x = torch.randn(3, 2, 28, 28)
    assert UNet(UNetOptions(width=8, depth=2, blocks=1), TranslatorSpec(2, 1, 28, 28))(x).shape == (3, 1, 28, 28)
    assert UNet(UNetOptions(width=4, depth=6), TranslatorSpec(1, 3, 64, 64))(torch.randn(2, 1, 64, 64)).shape == (2, 3, 64, 64)
    with pytest.raises(GankitError, match="unet.depth 3 needs a side divisible by 8"):
        UNet(UNetOptions(depth=3), TranslatorSpec(2, 1, 28, 28))
    up = SRResNet(SRResNetOptions(width=8, blocks=1), TranslatorSpec(1, 1, 7, 28))
    y = up(torch.randn(3, 1, 7, 7))
    assert y.shape == (3, 1, 28, 28) and y.abs().max() <= 1
    with pytest.raises(GankitError, match="power of 2"):
        SRResNet(SRResNetOptions(), TranslatorSpec(1, 1, 7, 21))
    patches = PatchGAN(PatchGANOptions(width=8, layers=2), 3, 28)
    assert patches(torch.randn(3, 3, 28, 28)).shape == (3, 1, 5, 5)
    assert len(patches.features(torch.randn(3, 3, 28, 28))) == 3
    assert SRGANDiscriminator(SRGANDOptions(width=8, stages=2), 2, 28)(torch.randn(3, 2, 28, 28)).shape == (3,)


def test_psnr_l1_and_ssim_against_closed_forms_and_scikit_image():
    target = torch.full((2, 1, 20, 20), 100, dtype=torch.uint8)
    fake = target.clone()
    fake[0] += 10                    # MSE 100 everywhere: 10 log10(255^2 / 100) dB
    assert pixels.psnr(fake[:1], target[:1]) == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert pixels.psnr(target, target) == pytest.approx(100.0)  # exact images count as 100 dB, not infinity
    assert pixels.l1(fake, target) == pytest.approx((10 / 255) / 2)
    mask = torch.zeros(2, 1, 20, 20)
    mask[:, :, :5, :5] = 1
    fake[1, :, :5, :5] += 20         # only inside the hole of the second image
    assert pixels.l1(fake, target, mask) == pytest.approx((10 / 255 + 20 / 255) / 2)
    assert pixels.psnr(fake[1:], target[1:], border=5) == pytest.approx(100.0)  # the border cut removes the change
    grey = torch.full((1, 3, 12, 12), 200, dtype=torch.uint8)
    assert pixels.prepare(grey, 0, luma=True).flatten()[0].item() == pytest.approx(16 + 219 * 200 / 255)
    a = torch.randint(0, 256, (3, 1, 24, 24), dtype=torch.uint8)
    b = (a.int() + torch.randint(-30, 30, a.shape)).clamp(0, 255).to(torch.uint8)
    expected = sum(structural_similarity(x[0].double().numpy(), y[0].double().numpy(), data_range=255,
                                         gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
                   for x, y in zip(a, b)) / 3
    assert pixels.ssim(b, a) == pytest.approx(expected)
    assert pixels.ssim(a, a) == pytest.approx(1.0)


def test_inpainting_keeps_the_known_pixels_and_measures_content_inside_the_holes():
    cfg = resolve("mnist-inpaint", TINY + SMALL["mnist-inpaint"])
    data = load_data(cfg.data)
    recipe = build_recipe(cfg, data)
    batch = data.batch(torch.arange(8), Draws.seeded(1))
    out = recipe.generate(recipe.nets, batch)
    keep = batch["mask"] == 0
    assert torch.equal(out["fake"][keep.expand_as(out["fake"])], batch["image"][keep.expand_as(out["fake"])])
    assert (out["input"][~keep] == HOLE_FILL).all() and torch.equal(out["target"], batch["image"])
    expected = ((out["fake"] - batch["image"]).abs() * batch["mask"]).sum() / batch["mask"].sum()
    assert recipe.content(out["fake"], batch["image"], None, batch["mask"]).item() == pytest.approx(expected.item())


def test_warm_up_and_content_only_runs_train_g_alone():
    data = load_data(resolve("mnist-sr", ["data.limit=16"]).data)
    recipe = build_recipe(resolve("mnist-sr", ["paired.warmup_steps=5", *SMALL["mnist-sr"]]), data)
    assert [p.name for p in recipe.schedule(4)] == ["content"] and [p.name for p in recipe.schedule(5)] == ["D", "G"]
    baseline = build_recipe(resolve("mnist-sr", ["paired.adversarial_weight=0", *SMALL["mnist-sr"]]), data)
    assert [p.name for p in baseline.schedule(100)] == ["content"]


@pytest.mark.parametrize("preset", ["mnist-inpaint", "mnist-sr", "sr-photos"])
def test_a_tiny_paired_run_trains_evaluates_and_reloads(preset, tmp_path):
    n = 5 if preset == "sr-photos" else 64  # the five held-out photos
    cfg = resolve(preset, TINY + SMALL[preset] + ["train.steps=6", "eval.every=3", f"eval.n_cheap={n}",
                                                  f"eval.n_final={n}", "paired.warmup_steps=2"])
    Trainer(cfg, tmp_path, progress=False).fit()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    key = "hole_psnr" if preset == "mnist-inpaint" else "psnr"
    assert math.isfinite(metrics[key]) and metrics["card"]["n_samples"] == n
    if preset != "mnist-inpaint":
        assert 0 < metrics["ssim"] <= 1 and metrics["card"]["border_px"] == 4
    else:
        assert 0 <= metrics["label_accuracy"] <= 1 and metrics["fid"] > 0
    stats = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert key in stats[-1] and (tmp_path / "generator-best.safetensors").is_file()
    pipeline = load_generator(tmp_path)
    first = pipeline.draw(5, seed=0)
    side = 296 if preset == "sr-photos" else 28
    assert first["fake"].shape == (5, 3 if preset == "sr-photos" else 1, side, side)
    assert first["fake"].dtype == torch.uint8
    assert torch.equal(first["fake"], pipeline.draw(5, seed=0)["fake"])


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """A tiny trained model of each kind (3 steps: the commands' plumbing, not the quality, is under test)."""
    runs = {}
    for preset in ("mnist-inpaint", "mnist-sr", "sr-photos"):
        folder = tmp_path_factory.mktemp(preset)
        Trainer(resolve(preset, TINY + SMALL[preset] + ["train.steps=3"]), folder, progress=False).fit()
        runs[preset] = folder
    return runs


def write_png(path, array):
    from PIL import Image

    Image.fromarray(array).save(path)
    return path


class NearestX4(torch.nn.Module):
    """A stand-in generator without weights: nearest-neighbour x4."""

    def forward(self, x):
        return torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest")


def test_upscale_command_tiles_any_size_without_seams(tiny_runs, tmp_path, capsys):
    from gankit.apply import upscale
    from gankit.cli import main

    rng = np.random.default_rng(0)
    small = write_png(tmp_path / "small.png", rng.integers(0, 256, (19, 30), dtype=np.uint8))
    assert main(["upscale", str(tiny_runs["mnist-sr"]), str(small), "--out", str(tmp_path / "big.png")]) == 0
    assert "upscaled 30x19 to 120x76 in" in capsys.readouterr().out
    assert Image.open(tmp_path / "big.png").size == (120, 76)
    # blending only mixes overlapping tiles: a picture that is one tile gives exactly the generator's output
    pipeline = load_generator(tiny_runs["mnist-sr"])
    tile = torch.from_numpy(rng.integers(0, 256, (1, 7, 7), dtype=np.uint8))
    assert torch.equal(upscale(pipeline, tile), pipeline({"lr": tile[None]})["fake"][0])
    # with a generator that commutes with shifting (nearest-neighbour x4), tiling and blending must give exactly
    # what the generator gives on the whole picture: a seam or a missed pixel would show as a difference
    pipeline.nets["G"] = NearestX4()
    picture = torch.from_numpy(rng.integers(0, 256, (1, 23, 41), dtype=np.uint8))
    assert torch.equal(upscale(pipeline, picture), picture.repeat_interleave(4, 1).repeat_interleave(4, 2))
    tiny = upscale(pipeline, picture[:, :3, :5])  # smaller than a tile: padded, then cut back
    assert torch.equal(tiny, picture[:, :3, :5].repeat_interleave(4, 1).repeat_interleave(4, 2))


def test_upscale_of_colour_photos_keeps_colour_and_accepts_grey(tiny_runs, tmp_path, capsys):
    from gankit.cli import main

    rng = np.random.default_rng(2)
    photo = write_png(tmp_path / "photo.png", rng.integers(0, 256, (37, 50, 3), dtype=np.uint8))
    grey = write_png(tmp_path / "grey.png", rng.integers(0, 256, (37, 50), dtype=np.uint8))
    for source in (photo, grey):
        out = tmp_path / f"{source.stem}-x4.png"
        assert main(["upscale", str(tiny_runs["sr-photos"]), str(source), "--out", str(out)]) == 0
        assert "upscaled 50x37 to 200x148 in" in capsys.readouterr().out
        result = Image.open(out)
        assert result.size == (200, 148) and result.mode == "RGB"


def test_inpaint_command_changes_only_the_holes(tiny_runs, tmp_path, capsys):
    from gankit.cli import main

    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    hole = np.zeros((40, 40), dtype=np.uint8)
    hole[10:25, 5:20] = 255
    write_png(tmp_path / "in.png", image)
    write_png(tmp_path / "mask.png", hole)
    out = tmp_path / "out.png"
    assert main(["inpaint", str(tiny_runs["mnist-inpaint"]), str(tmp_path / "in.png"), "--mask",
                 str(tmp_path / "mask.png"), "--out", str(out)]) == 0
    assert "filled 225 pixels of a 40x40 image" in capsys.readouterr().out
    result = np.asarray(Image.open(out))
    assert (result[hole == 0] == image[hole == 0]).all()


def test_apply_commands_refuse_bad_input_in_one_line(tiny_runs, tmp_path, capsys):
    from gankit.cli import main

    write_png(tmp_path / "in.png", np.zeros((28, 28), np.uint8))
    write_png(tmp_path / "small-mask.png", np.full((10, 10), 255, np.uint8))
    write_png(tmp_path / "empty-mask.png", np.zeros((28, 28), np.uint8))
    write_png(tmp_path / "rgba.png", np.zeros((28, 28, 4), np.uint8))
    (tmp_path / "text.png").write_text("not an image")
    inpaint, sr = str(tiny_runs["mnist-inpaint"]), str(tiny_runs["mnist-sr"])
    cases = [
        (["inpaint", inpaint, str(tmp_path / "missing.png"), "--mask", str(tmp_path / "in.png"), "--out", "o.png"],
         "image .*missing.png does not exist"),
        (["inpaint", inpaint, str(tmp_path / "in.png"), "--mask", str(tmp_path / "small-mask.png"), "--out", "o.png"],
         "the mask is 10x10 but the image is 28x28"),
        (["inpaint", inpaint, str(tmp_path / "in.png"), "--mask", str(tmp_path / "empty-mask.png"), "--out", "o.png"],
         "the mask marks no hole"),
        (["inpaint", inpaint, str(tmp_path / "rgba.png"), "--mask", str(tmp_path / "in.png"), "--out", "o.png"],
         "has an alpha channel"),
        (["upscale", sr, str(tmp_path / "text.png"), "--out", str(tmp_path / "o.png")], "cannot read image"),
        (["upscale", inpaint, str(tmp_path / "in.png"), "--out", str(tmp_path / "o.png")], "does not upscale"),
        (["upscale", sr, str(tmp_path / "in.png"), "--out", str(tmp_path / "in.png")], "is one of the inputs"),
        (["upscale", sr, str(tmp_path / "in.png"), "--out", str(tmp_path / "o.txt")], "must be a file name ending in .png or .jpg"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert re.search(message, err) and err.count("\n") == 1, (argv, err)
    assert np.asarray(Image.open(tmp_path / "in.png")).shape == (28, 28)  # the input was not overwritten


def test_untrained_baselines_are_measured_by_the_same_protocols():
    from gankit.bench.quality import untrained_baselines

    rows = {r["preset"]: r for r in untrained_baselines("paired", ["data.limit=256", "eval.n_final=64"])}
    bicubic, mean_fill = rows["bicubic, digits (no training)"], rows["mean fill, digits (no training)"]
    assert bicubic["card"]["border_px"] == 4 and bicubic["card"]["n_samples"] == 64
    assert 10 < bicubic["psnr"] < 40 and 0 < bicubic["ssim"] < 1
    assert 5 < mean_fill["hole_psnr"] < 30 and 0 < mean_fill["hole_l1"] < 1 and mean_fill["fid"] > 0
    # the source glyph copied: a hei glyph is not read as kai, and is far from the kai glyph in pixels
    copied = rows["source font copied (no training)"]
    assert copied["font_accuracy"] < 0.05 and copied["card"]["font"] == "kai" and copied["l1"] > 0.1
    if ocr.available():  # the source glyphs are real characters: the OCR model reads nearly all of them
        assert copied["ocr_accuracy"] > 0.9 and "PP-OCRv4" in copied["card"]["ocr"]
    assert untrained_baselines("mnist", []) == []


def test_bundled_glyphs_split_by_character_and_drop_what_a_font_lacks(tmp_path):
    from gankit.config import DataConfig
    from gankit.data.glyphs import N_CHARACTERS, bundled_glyphs, common_characters, open_font, render_font

    bundled = bundled_glyphs()
    assert bundled["glyphs"].shape == (4, N_CHARACTERS, 64, 64) and bundled["present"].all()
    assert [str(c) for c in bundled["chars"]] == common_characters() and "永" in common_characters()
    train, test = (load_data(DataConfig(name="glyphs", fonts="hei,kai", split=s)) for s in ("train", "test"))
    assert len(test) == round(0.2 * N_CHARACTERS) and len(train) + len(test) == N_CHARACTERS
    assert not set(train.info["chars"]) & set(test.info["chars"])  # no held-out character is ever trained on
    assert train.fields["a"].shape == (1, 64, 64) and pairing(train.fields) == ("a", "b")
    assert [chr(int(c)) for c in test.arrays["text"][:5, 0]] == test.info["chars"][:5]
    # a font file is rendered on demand; a glyph it lacks (here: every CJK one, in a Latin font) is dropped
    import matplotlib

    latin = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")  # ships with matplotlib
    glyphs, present = render_font(open_font(latin), ["A", "永", "\U0010fffd"])
    assert present.tolist() == [True, False, False] and glyphs.shape == (3, 64, 64)
    with pytest.raises(GankitError, match="share none of the"):
        load_data(DataConfig(name="glyphs", fonts=f"hei,{latin}"))
    for fonts, message in (("hei", "must name two fonts"), ("hei,comic", "unknown font 'comic'"),
                           (f"hei,{tmp_path}/none.ttf", "does not exist")):
        with pytest.raises(GankitError, match=message):
            load_data(DataConfig(name="glyphs", fonts=fonts))
    (tmp_path / "bad.ttf").write_bytes(b"not a font")
    with pytest.raises(GankitError, match="cannot read font"):
        load_data(DataConfig(name="glyphs", fonts=f"hei,{tmp_path}/bad.ttf"))


def test_translate_writes_text_and_images_and_refuses_bad_input(tmp_path, capsys):
    from gankit.cli import main

    run = tmp_path / "run"
    Trainer(resolve("glyphs-kai", TINY + ["unet.width=4", "unet.depth=2", "patchgan.width=4", "train.steps=2",
                                          "train.batch_size=8"]), run, progress=False).fit()
    line = tmp_path / "line.png"
    assert main(["translate", str(run), "--text", "永和 九年", "--out", str(line)]) == 0
    assert "wrote 5 characters" in capsys.readouterr().out
    picture = np.asarray(Image.open(line))
    assert picture.shape == (64, 5 * 64) and (picture[:, 2 * 64:3 * 64] == 255).all()  # the space stays blank
    assert np.asarray(Image.open(tmp_path / "line-compare.png")).shape == (2 * 64 + 8, 5 * 64)
    write_png(tmp_path / "glyph.png", np.full((100, 100), 255, np.uint8))
    assert main(["translate", str(run), str(tmp_path / "glyph.png"), "--out", str(tmp_path / "out")]) == 0
    assert np.asarray(Image.open(tmp_path / "out" / "glyph.png")).shape == (64, 64)
    capsys.readouterr()
    fresh = str(tmp_path / "fresh.png")
    (tmp_path / "other").mkdir()
    write_png(tmp_path / "other" / "glyph.png", np.zeros((8, 8), np.uint8))
    cases = [(["translate", str(run), "--text", "永\U00020000", "--out", fresh], "is not among the 3,755 characters"),
             (["translate", str(run), "--text", "   ", "--out", fresh], "--text is empty"),
             (["translate", str(run), "--text", "永" * 501, "--out", fresh], "at most 500"),
             (["translate", str(run), "--out", fresh], "give --text TEXT or one or more images"),
             (["translate", str(run), str(tmp_path / "nope.png"), "--out", str(tmp_path / "o")], "does not exist"),
             (["translate", str(run), str(tmp_path / "glyph.png"), "--out", str(line)], "is a file"),
             (["translate", str(run), "--text", "永", "--out", str(line)], "already exists"),
             (["translate", str(run), str(tmp_path / "glyph.png"), "--out", str(tmp_path / "out")], "already exists"),
             (["translate", str(run), str(tmp_path / "glyph.png"), str(tmp_path / "other" / "glyph.png"), "--out",
               str(tmp_path / "o2")], "to the same file")]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)


def test_eval_of_a_translator_uses_its_own_protocol(tiny_runs, capsys):
    from gankit.cli import main

    assert main(["eval", str(tiny_runs["mnist-sr"]), "--n", "32", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"psnr", "ssim", "l1"} <= set(result) and result["card"]["n_samples"] == 32
    assert main(["eval", str(tiny_runs["mnist-inpaint"]), "--n", "32", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"hole_psnr", "hole_l1", "label_accuracy", "fid"} <= set(result)


def test_results_are_never_overwritten_without_asking(tiny_runs, tmp_path, capsys):
    from gankit.cli import main

    write_png(tmp_path / "in.png", np.zeros((9, 9), np.uint8))
    out = write_png(tmp_path / "mine.png", np.full((5, 5), 77, np.uint8))  # a result the user keeps
    argv = ["upscale", str(tiny_runs["mnist-sr"]), str(tmp_path / "in.png"), "--out", str(out)]
    assert main(argv) == 2 and "already exists" in capsys.readouterr().err
    assert (np.asarray(Image.open(out)) == 77).all()
    assert main(argv + ["--overwrite"]) == 0 and np.asarray(Image.open(out)).shape == (36, 36)


def test_the_font_classifier_reads_held_out_glyphs_by_design():
    from gankit.config import DataConfig
    from gankit.metrics.features import get_extractor
    from gankit.nets.font_net import FONTS, font_class

    fonts = get_extractor("fonts")
    assert json.loads((Path(__file__).parents[1] / "src/gankit/metrics/assets/font_classifier.json").read_text()
                      )["sha256"] == fonts.checksum
    assert font_class("droid") == font_class("hei") == 0 and font_class("kai") == 1 and font_class("x.ttf") is None
    for source, target in (("hei", "kai"), ("ming", "droid")):
        held_out = load_data(DataConfig(name="glyphs", fonts=f"{source},{target}", split="test", limit=200))
        for key, font in (("a", source), ("b", target)):
            read = fonts(torch.from_numpy(np.asarray(held_out.arrays[key])))["logits"].argmax(1)
            assert (read == font_class(font)).mean() > 0.95, (font, FONTS)
    # a blank page or noise is not confidently any font; the network answers in the logits' order
    assert fonts(torch.full((2, 1, 64, 64), 255, dtype=torch.uint8))["logits"].shape == (2, len(FONTS))


def test_sr_photos_pairs_crops_with_their_downscaled_inputs_and_holds_out_whole_photos(monkeypatch):
    from gankit.config import DataConfig
    from gankit.data import photos

    train = load_data(DataConfig(name="sr-photos", crop=64))
    assert train.fields == {"lr": Field("image", (3, 16, 16)), "hr": Field("image", (3, 64, 64))}
    assert pairing(train.fields) == ("lr", "hr") and len(train) > 1000
    batch = train.batch(torch.arange(8), Draws.seeded(0))
    assert batch["hr"].shape == (8, 3, 64, 64) and batch["lr"].shape == (8, 3, 16, 16)
    hr = batch["hr"].add(1).mul(127.5).round().to(torch.uint8)
    assert torch.equal(batch["lr"].add(1).mul(127.5).round().to(torch.uint8), downscale(hr, 4))
    test = load_data(DataConfig(name="sr-photos", split="test", crop=64))  # random crops are for training only
    assert test.fields["hr"].shape == (3, 296, 296) and test.fields["lr"].shape == (3, 74, 74)
    assert test.info["names"] == ["china", "flower", "astronaut", "chelsea", "coffee"] and test.info["scale"] == 4
    for crop, message in ((30, "multiple of 4"), (132, "multiple of 4 from 16 to 128")):
        with pytest.raises(GankitError, match=message):
            load_data(DataConfig(name="sr-photos", crop=crop))
    with pytest.raises(GankitError, match="leave data.resolution at 0"):
        load_data(DataConfig(name="sr-photos", resolution=64))
    real_find_spec = photos.importlib.util.find_spec
    monkeypatch.setattr(photos.importlib.util, "find_spec", lambda name: None if name == "sklearn" else
                        real_find_spec(name))
    with pytest.raises(GankitError, match=re.escape("pip install 'gankit[photos]'")):
        load_data(DataConfig(name="sr-photos", split="test"))


def test_ocr_reads_real_glyphs_and_not_blank_pages():
    pytest.importorskip("rapidocr_onnxruntime")
    from gankit.config import DataConfig

    held_out = load_data(DataConfig(name="glyphs", fonts="ming,kai", split="test", limit=40))
    chars = held_out.info["chars"]
    assert ocr.accuracy(held_out.arrays["b"], chars) > 0.9
    blank = torch.full((3, 1, 64, 64), 255, dtype=torch.uint8)
    assert ocr.accuracy(blank, chars[:3]) == 0.0
    assert ocr.accuracy(held_out.arrays["b"][:4].flip(-1), chars[:4]) < 1  # mirrored characters are misread


def test_bench_merge_refuses_missing_or_foreign_files(tmp_path, capsys):
    from gankit.cli import main

    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "toy.json").write_text(json.dumps({"suite": "toy", "seeds": 1, "runs": []}))
    for name, message in (("none.json", "cannot read"), ("bad.json", "cannot read"), ("toy.json", "suite 'paired'")):
        assert main(["bench", "quality", "--suite", "paired", "--merge", str(tmp_path / name), "--out",
                     str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_bench_merge_refuses_a_seed_counted_twice(tmp_path, capsys):
    from gankit.cli import main

    row = {"preset": "glyphs-kai", "seed": 1, "steps": 10, "train_s": 1.0}
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps({"suite": "paired", "seeds": 1, "runs": [row]}))
    assert main(["bench", "quality", "--suite", "paired", "--merge", str(tmp_path / "a.json"),
                 str(tmp_path / "b.json"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "glyphs-kai seed 1 is in more than one file" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_bench_merge_keeps_the_machine_of_each_row(tmp_path):
    from gankit.cli import main

    for name, machine, seed in (("a.json", "CPU A, 1 CPU threads", 0), ("b.json", "CPU B, 2 CPU threads", 1)):
        row = {"preset": "glyphs-kai", "seed": seed, "steps": 10, "train_s": 1.0}
        (tmp_path / name).write_text(json.dumps({"suite": "paired", "seeds": 1, "machine": machine, "runs": [row]}))
    args = ["bench", "quality", "--suite", "paired", "--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert main(args + ["--out", str(tmp_path / "two")]) == 0
    merged = json.loads((tmp_path / "two" / "quality-paired.json").read_text())
    assert [r["machine"] for r in merged["runs"]] == ["CPU A, 1 CPU threads", "CPU B, 2 CPU threads"]
    assert merged["machine"] == "measured on several: CPU A, 1 CPU threads: glyphs-kai; CPU B, 2 CPU threads: glyphs-kai"
    assert merged["machine"] in (tmp_path / "two" / "quality-paired.md").read_text()
    assert main(args[:-1] + ["--out", str(tmp_path / "one")]) == 0  # one machine: named as it is
    assert json.loads((tmp_path / "one" / "quality-paired.json").read_text())["machine"] == "CPU A, 1 CPU threads"


def test_bench_first_seed_picks_the_seeds_and_is_bounded(tmp_path, monkeypatch, capsys):
    from gankit.bench import quality as bench_quality
    from gankit.cli import main

    trained = []
    monkeypatch.setattr(bench_quality, "run_one", lambda preset, seed, *a: trained.append(seed) or
                        {"preset": preset, "seed": seed, "steps": 1, "train_s": 0.0})
    assert main(["bench", "quality", "--suite", "ada", "--presets", "mnist-stylegan2-500", "--first-seed", "3",
                 "--seeds", "2", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")]) == 0
    assert trained == [3, 4]
    assert [r["seed"] for r in json.loads((tmp_path / "out" / "quality-ada.json").read_text())["runs"]] == [3, 4]
    capsys.readouterr()
    assert main(["bench", "quality", "--suite", "ada", "--first-seed", "-1", "--out", str(tmp_path / "o2")]) == 2
    assert "--first-seed must be between 0" in capsys.readouterr().err and not (tmp_path / "o2").exists()


def test_bench_quality_refuses_a_preset_whose_data_the_suite_does_not_evaluate(tmp_path, capsys):
    from gankit.cli import main

    args = ["bench", "quality", "--suite", "mnist", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")]
    assert main(args + ["--presets", "mnist-cgan", "toy-ring"]) == 2  # refused before mnist-cgan trains
    err = capsys.readouterr().err
    assert "toy-ring trains on 'ring' data; the mnist suite evaluates mnist" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
