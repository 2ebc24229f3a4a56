"""The cyclegan recipe (unpaired image-to-image): its data, the history pool, its losses, exact resume with the
pools, and `gankit translate` both ways."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.checkpoint import latest_checkpoint
from gankit.config import DataConfig, resolve
from gankit.data import load_data
from gankit.data.unpaired import MNIST_BOX, held_out_digits, small_digits
from gankit.draws import Draws
from gankit.errors import GankitError
from gankit.recipes import build_recipe
from gankit.recipes.base import StepContext
from gankit.trainer import Trainer

from conftest import TINY

SMALL = ["train.batch_size=8", "unet.width=4", "unet.depth=2", "unet.blocks=1", "patchgan.width=4", "patchgan.layers=2"]


def test_digit_styles_meet_each_mnist_digit_with_a_random_8x8_digit():
    train, test = (load_data(DataConfig(name="digit-styles", split=s)) for s in ("train", "test"))
    assert len(train) == 60000 and len(train.b) == 1438 and len(test) == 10000 and len(test.b) == 359
    assert train.fields["a"].shape == train.fields["b"].shape == (1, 28, 28)
    images, labels = small_digits()
    assert images.shape == (1797, 1, 28, 28) and images.max() == 255 and images[:, :, 0, 0].max() < 64  # ink is high
    index = torch.arange(16)
    first, again = (train.batch(index, Draws.seeded(3)) for _ in range(2))
    assert torch.equal(first["b"], again["b"])  # drawn from the trainer's generator: repeatable
    assert not torch.equal(first["b"], train.batch(index, Draws.seeded(4))["b"])
    with pytest.raises(GankitError, match="needs the trainer's draws"):
        train.batch(index)
    aligned = test.batch(torch.tensor([0, 359, 360]))  # the test split cycles B beside A
    assert torch.equal(aligned["b"][0], aligned["b"][1]) and torch.equal(aligned["b_label"][:2], test.b.arrays["b_label"][[0, 0]])


def test_digit_styles_put_the_8x8_digits_in_mnists_box_and_its_judge_reads_them():
    boxed, labels = small_digits(MNIST_BOX)
    b = load_data(DataConfig(name="digit-styles", split="test")).b.arrays["b"]
    margin = (28 - MNIST_BOX) // 2
    assert boxed[:, :, :margin].max() == boxed[:, :, -margin:].max() == boxed[..., :margin].max() == 0
    assert boxed[:, :, margin:-margin, margin:-margin].max() == 255 and small_digits()[0][..., :margin].max() > 0
    assert torch.equal(b, boxed[torch.from_numpy(held_out_digits(len(labels)))])
    from gankit.metrics.features import get_extractor
    truth = load_data(DataConfig(name="digit-styles", split="test")).b.arrays["b_label"].numpy()
    for judge in ("digits8-boxed", "digits8-boxed-b"):  # the judge, and the coach cyclegan.coach_b may use
        assert (get_extractor(judge)(b)["logits"].argmax(1) == truth).mean() >= 0.99
    with pytest.raises(GankitError, match="box of 8 to 28 pixels, not 40"):
        small_digits(40)


def test_glyph_styles_train_on_different_characters_and_test_on_true_pairs():
    paired = load_data(DataConfig(name="glyphs", split="test"))
    test = load_data(DataConfig(name="glyph-styles", split="test"))
    index = torch.arange(len(test))
    batch = test.batch(index)
    assert torch.equal(batch["b"], paired.batch(index)["b"]) and torch.equal(batch["a"], paired.batch(index)["a"])
    train = load_data(DataConfig(name="glyph-styles"))
    chosen = torch.arange(200)
    drawn = train.batch(chosen, Draws.seeded(0))
    true_b = load_data(DataConfig(name="glyphs")).batch(chosen)["b"]
    same = (drawn["b"] == true_b).flatten(1).all(1)
    assert same.float().mean() < 0.05  # almost never the same character
    with pytest.raises(GankitError, match="does not crop"):
        load_data(DataConfig(name="glyph-styles", crop=32))


def test_the_history_pool_fills_then_answers_half_the_time_with_stored_images():
    data = load_data(DataConfig(name="digit-styles", limit=64))
    recipe = build_recipe(resolve("cyclegan-digits", TINY + SMALL + ["cyclegan.pool_size=4"]), data)
    ctx = StepContext(torch.Generator().manual_seed(0))
    first = torch.arange(3.0).view(3, 1, 1, 1).expand(3, 1, 28, 28)
    assert torch.equal(recipe.from_pool("a", first, ctx), first) and int(recipe.pool_a_count) == 3
    second = (10 + torch.arange(400.0)).view(400, 1, 1, 1).expand(400, 1, 28, 28)
    out = recipe.from_pool("a", second, ctx)
    swapped = (out[:, 0, 0, 0] != second[:, 0, 0, 0])
    assert int(recipe.pool_a_count) == 4 and torch.equal(out[0], second[0])  # the 4th fills the pool
    assert 0.4 < swapped[1:].float().mean() < 0.6  # then about half come from the pool
    stored = set(recipe.pool_a[:, 0, 0, 0].tolist())
    assert stored <= set(range(3)) | set(second[:, 0, 0, 0].tolist()) and int(recipe.pool_b_count) == 0


def test_the_generator_loss_is_adversarial_plus_cycle_plus_identity():
    data = load_data(DataConfig(name="digit-styles", limit=64))
    for cycle, identity in ((10.0, 0.5), (0.0, 0.5), (4.0, 0.0)):
        recipe = build_recipe(resolve("cyclegan-digits", TINY + SMALL + [f"cyclegan.lambda_cycle={cycle}",
                                                                             f"cyclegan.identity={identity}"]), data)
        batch = data.batch(torch.arange(8), Draws.seeded(0))
        out = recipe.phase_G(recipe.G_phase, batch, StepContext(torch.Generator().manual_seed(0)))
        expected = out["adversarial"] + cycle * out["cycle"] + cycle * identity * out.get("identity", 0.0) + \
            out["semantic"]  # the preset's semantic loss, weight 1
        assert out["loss"].item() == pytest.approx(float(expected), rel=1e-5)
        assert ("identity" in out) == (identity > 0)


def test_the_semantic_loss_asks_each_source_classifier_to_read_the_translation_as_the_source():
    data = load_data(DataConfig(name="digit-styles", limit=64))
    semantic = ["cyclegan.semantic=2.5", "cyclegan.identity=0"]
    recipe = build_recipe(resolve("cyclegan-digits", TINY + SMALL + semantic), data)
    batch = data.batch(torch.arange(8), Draws.seeded(0))
    out = recipe.phase_G(recipe.G_phase, batch, StepContext(torch.Generator().manual_seed(0)))
    expected = out["adversarial"] + 10.0 * out["cycle"] + 2.5 * out["semantic"]
    assert out["loss"].item() == pytest.approx(float(expected), rel=1e-5)
    # closed form: a translation equal to its source costs the classifier's own uncertainty, -log max softmax
    from gankit.data.base import to_uint8
    from gankit.metrics.features import get_extractor

    a = batch["a"]  # floats in [-1, 1], as G's images
    logits = torch.from_numpy(get_extractor("mnist")(to_uint8(a))["logits"])
    own = (torch.logsumexp(logits, 1) - logits.max(1).values).mean()
    assert recipe.semantic_loss(a, a, "a", "b").item() == pytest.approx(own.item(), rel=1e-4, abs=1e-6)
    assert recipe.semantic_loss(a, a.flip(0), "a", "b") > own + 1  # another digit in place of each: costly
    # the classifiers are frozen and outside the checkpoint; their gradients reach G only
    out["loss"].backward()
    assert not any(k.startswith("classifiers") for k in recipe.state_dict())
    assert all(p.grad is None for net in recipe.classifiers.values() for p in net.parameters())
    assert recipe.nets["G_ab"].parameters().__next__().grad is not None
    for bad, message in (("classifier_a=fonts", "reads 1 x 64 x 64 images"), ("classifier_b=nope", "nope"),
                         ("classifier_b=inception", "not a bundled classifier"), ("augment=flip", "unknown DiffAugment"),
                         ("coach_b=digits8-boxed", "coach must be another network"),
                         ("coach_a=fonts", "coach_a: 'fonts' reads 1 x 64 x 64")):
        with pytest.raises(GankitError, match=message):
            build_recipe(resolve("cyclegan-digits", TINY + SMALL + semantic + [f"cyclegan.{bad}"]), data)
    with pytest.raises(GankitError, match="set cyclegan.semantic > 0"):
        build_recipe(resolve("cyclegan-digits", TINY + SMALL + ["cyclegan.semantic=0", "cyclegan.coach_b=mnist"]), data)


def test_a_coach_adds_the_target_classifiers_reading_of_the_translation():
    """cyclegan.coach_b: a second 8x8 classifier must also read G_ab(a) as the MNIST classifier read a."""
    from gankit.nets.classifiers import bundled_classifier

    data = load_data(DataConfig(name="digit-styles", limit=64))
    recipe = build_recipe(resolve("cyclegan-digits", TINY + SMALL + ["cyclegan.coach_b=digits8-boxed-b"]), data)
    plain = build_recipe(resolve("cyclegan-digits", TINY + SMALL), data)
    a = data.batch(torch.arange(8), Draws.seeded(0))["a"]
    translated = a.roll(1, dims=-1)
    with torch.no_grad():
        reading = bundled_classifier("mnist")[0](a)[1].argmax(1)
        coach = torch.nn.functional.cross_entropy(bundled_classifier("digits8-boxed-b")[0](translated)[1], reading)
    expected = plain.semantic_loss(a, translated, "a", "b") + coach
    assert recipe.semantic_loss(a, translated, "a", "b").item() == pytest.approx(expected.item(), rel=1e-5)
    assert recipe.semantic_loss(a, translated, "b", "a") == plain.semantic_loss(a, translated, "b", "a")  # no coach_a
    assert not any(k.startswith("coaches") for k in recipe.state_dict())
    # a coach that is the evaluation's judge of its direction is refused before training
    from gankit.metrics.protocols import make_protocol

    judged = resolve("cyclegan-digits", TINY + SMALL + ["cyclegan.classifier_b=digits8-boxed-b",
                                                        "cyclegan.coach_b=digits8-boxed"])
    with pytest.raises(GankitError, match="'digits8-boxed' judges translations into domain b"):
        make_protocol(judged, data, build_recipe(judged, data))
    coached = resolve("cyclegan-digits-coached", TINY + SMALL)
    assert make_protocol(coached, data, recipe).coaches == {"b": "digits8-boxed-b"}  # the card names it


def run(folder, steps, resume=None, preset="cyclegan-digits", extra=()):
    cfg = resolve(preset, TINY + SMALL + [f"train.steps={steps}", "train.ckpt_every=3", "cyclegan.pool_size=6", *extra])
    trainer = Trainer(cfg, folder, resume=resume, progress=False)
    trainer.fit()
    return trainer


def test_resume_is_exact_with_the_history_pools(tmp_path):
    constant = ["optim.decay_from=1",  # a decay's schedule depends on train.steps, which the split run changes
                "cyclegan.augment=translation,cutout", "cyclegan.semantic=1", "cyclegan.identity=0.5"]  # random augmentations repeat too
    whole = run(tmp_path / "whole", 6, extra=constant)
    run(tmp_path / "split", 3, extra=constant)
    resumed = run(tmp_path / "split", 6, resume=latest_checkpoint(tmp_path / "split"), extra=constant)
    a, b = whole.recipe.state_dict(), resumed.recipe.state_dict()
    assert {"pool_a", "pool_b", "pool_a_count"} <= set(a) and int(a["pool_a_count"]) == 6  # full after 6 x 8 images
    assert all(torch.equal(a[k], b[k]) for k in a)
    records = [json.loads(line) for line in (tmp_path / "whole" / "stats.jsonl").read_text().splitlines()]
    assert {"loss/G", "loss/D", "cycle", "identity", "semantic", "D_a_real"} <= set(records[-1])


def test_translate_goes_both_ways_and_eval_scores_labels(tmp_path, capsys):
    from gankit.cli import main

    run_dir = tmp_path / "run"
    run(run_dir, 2, extra=["eval.n_final=40"])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"accuracy_a2b", "accuracy_b2a", "label_accuracy", "fid_a2b", "fid_b2a"} <= set(metrics)
    assert np.asarray(Image.open(run_dir / "samples.png")).shape[1] > 6 * 28  # strips a | fake b | rec a | b | ...
    digit = tmp_path / "digit.png"
    Image.fromarray(np.zeros((40, 40), np.uint8)).save(digit)
    for direction in ("a2b", "b2a"):
        out = tmp_path / direction
        assert main(["translate", str(run_dir), str(digit), "--direction", direction, "--out", str(out)]) == 0
        assert np.asarray(Image.open(out / "digit.png")).shape == (28, 28)
    capsys.readouterr()
    cases = [(["--text", "永", "--out", str(tmp_path / "l.png")], "--text needs a font-transfer model"),
             ([str(digit), "--direction", "b2a", "--out", str(tmp_path / "b2a")], "already exists")]
    for argv, message in cases:
        assert main(["translate", str(run_dir), *argv]) == 2, argv
        err = capsys.readouterr().err
        assert message in err, (argv, err)
    with pytest.raises(SystemExit):
        main(["translate", str(run_dir), str(digit), "--direction", "c2d", "--out", str(tmp_path / "x")])
    assert "invalid choice: 'c2d'" in capsys.readouterr().err
    assert main(["eval", str(run_dir), "--n", "20", "--json"]) == 0
    assert "label_accuracy" in json.loads(capsys.readouterr().out)
    import onnxruntime

    from gankit.export import export_onnx
    from gankit.sampling import load_generator

    session = onnxruntime.InferenceSession(str(export_onnx(run_dir, tmp_path / "g.onnx")))
    assert [i.name for i in session.get_inputs()] == ["a", "b"]  # the inputs, not echoed back as outputs
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"a": x.numpy(), "b": x.numpy()})))
    want = load_generator(run_dir).generate({"a": x, "b": x})
    assert set(got) == {"fake_b", "rec_a", "fake_a", "rec_b"}
    assert all(np.allclose(got[k], want[k].numpy(), atol=1e-4) for k in got)


def test_a_paired_model_translates_one_way_only(tmp_path, capsys):
    from gankit.cli import main

    run_dir = tmp_path / "paired"
    Trainer(resolve("glyphs-kai", TINY + ["unet.width=4", "unet.depth=2", "patchgan.width=4", "train.steps=1",
                                          "train.batch_size=8"]), run_dir, progress=False).fit()
    glyph = tmp_path / "g.png"
    Image.fromarray(np.full((64, 64), 255, np.uint8)).save(glyph)
    assert main(["translate", str(run_dir), str(glyph), "--direction", "b2a", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--direction b2a: this model translates a2b only" in err and err.count("\n") == 1


def test_domains_that_cannot_be_translated_are_refused_in_one_line():
    from gankit.data import Field
    from gankit.sampling import Fields

    cfg = resolve("cyclegan-digits", TINY + SMALL + ["cyclegan.identity=0.5"])
    cases = [({"image": Field("image", (1, 28, 28))}, "needs two image domains, fields a and b"),
             ({"a": Field("image", (1, 28, 28)), "b": Field("image", (1, 32, 32))}, "domains of one size"),
             ({"a": Field("image", (1, 28, 28)), "b": Field("image", (3, 28, 28))}, "set cyclegan.identity=0")]
    for fields, message in cases:
        with pytest.raises(GankitError, match=message):
            build_recipe(cfg, Fields(fields, name="mine"))
    build_recipe(resolve("cyclegan-digits", TINY + SMALL + ["cyclegan.identity=0", "cyclegan.semantic=0"]),
                 Fields({"a": Field("image", (1, 28, 28)), "b": Field("image", (3, 28, 28))}))  # grey <-> colour
