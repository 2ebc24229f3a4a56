"""The general core: phases touch only their optimizer's nets; a recipe with four nets and two optimizers and a
paired dataset with random crops train through the unmodified trainer and resume bit-exactly; the layers
import downwards only."""
import ast
import re
from pathlib import Path

import pytest
import torch
from PIL import Image

import toy_recipe  # noqa: F401  (registers the toy-cycle recipe and the toy-pairs dataset)
from gankit.checkpoint import latest_checkpoint
from gankit.config import DataConfig, config_from_dict, resolve
from gankit.data import load_data
from gankit.draws import Draws
from gankit.errors import GankitError
from gankit.recipes import Phase, StepContext
from gankit.sampling import load_generator
from gankit.trainer import Trainer

from conftest import TINY

SRC = Path(__file__).resolve().parent.parent / "src" / "gankit"
DCGAN = ["dcgan.g_width=8", "dcgan.d_width=8"]


def params(net):
    return [p.detach().clone() for p in net.parameters()]


def changed_nets(trainer, phase, batch, ctx):
    before = {name: params(net) for name, net in trainer.recipe.nets.items()}
    trainer.run_phase(phase, batch, ctx)
    return {name for name, net in trainer.recipe.nets.items()
            if any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters()))}


def first_batch(trainer):
    ctx = StepContext(trainer.noise, trainer.device, trainer.dist, step=0)
    return trainer.data.batch(trainer.sampler.next(), ctx), ctx


@pytest.mark.parametrize("preset", ["mnist-dcgan", "mnist-wgan"])
def test_a_phase_changes_only_the_nets_of_its_optimizer(tmp_path, preset):
    t = Trainer(resolve(preset, TINY + DCGAN), tmp_path, progress=False)
    batch, ctx = first_batch(t)
    r = t.recipe
    assert changed_nets(t, r.G_phase, batch, ctx) == {"G"}
    assert changed_nets(t, r.D_then_G, batch, ctx) == {"D"}  # builds G's graph for reuse, but steps D only
    assert changed_nets(t, r.G_phase, batch, ctx) == {"G"}  # the reused fakes
    assert changed_nets(t, r.D_only, batch, ctx) == {"D"}


def toy_config(steps, *extra):
    cfg = config_from_dict({"recipe": "toy-cycle", "data": {"name": "toy-pairs", "crop": 6},
                            "toy-cycle": {"reg_every": 4},
                            "train": {"batch_size": 8, "steps": steps, "log_every": 2, "sample_every": 1000,
                                      "ckpt_every": 5, "n_samples": 6, "ema_halflife_kimg": 0.01},
                            "eval": {"every": 0, "n_final": 0}})
    return resolve_extra(cfg, extra)


def resolve_extra(cfg, extra):
    from gankit.config import apply_overrides

    return config_from_dict(apply_overrides(cfg.to_dict(), list(extra)))


def test_four_nets_two_optimizers_train_and_resume_bit_exactly(tmp_path):
    whole = Trainer(toy_config(12), tmp_path / "whole", progress=False)
    whole.fit()
    Trainer(toy_config(7), tmp_path / "split", progress=False).fit()
    resumed = Trainer(toy_config(12), tmp_path / "split", resume=latest_checkpoint(tmp_path / "split"), progress=False)
    assert resumed.step == 7
    resumed.fit()
    a, b = whole.recipe.state_dict(), resumed.recipe.state_dict()
    assert set(a) == set(b) and "_extra_state" in a  # the recipe's image pool rides in the checkpoint
    assert torch.equal(a["_extra_state"]["pool"], b["_extra_state"]["pool"]) and len(a["_extra_state"]["pool"]) == 8
    assert all(torch.equal(a[k], b[k]) for k in a if k != "_extra_state")
    assert torch.equal(whole.emas["G_ab"].module[0].weight, resumed.emas["G_ab"].module[0].weight)
    for name in ("gen", "critic"):
        sa, sb = whole.opts[name].state_dict()["state"], resumed.opts[name].state_dict()["state"]
        assert all(torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) for i in sa)
    # each optimizer holds the parameters of both its nets; the lazily regularised one has scaled lr and betas
    nets = whole.recipe.nets
    count = lambda *names: sum(1 for n in names for _ in nets[n].parameters())  # noqa: E731
    assert len(whole.opts["gen"].param_groups[0]["params"]) == count("G_ab", "G_ba")
    assert len(whole.opts["critic"].param_groups[0]["params"]) == count("D_a", "D_b")
    critic = whole.opts["critic"].param_groups[0]
    assert critic["lr"] == pytest.approx(1e-3 * 4 / 5)
    assert critic["betas"] == pytest.approx((0.5 ** 0.8, 0.999 ** 0.8))
    assert whole.opts["gen"].param_groups[0]["lr"] == pytest.approx(1e-3)
    # and every phase touched only its optimizer's nets
    batch, ctx = first_batch(whole)
    assert changed_nets(whole, Phase("D", "critic", ("D_a", "D_b")), batch, ctx) == {"D_a", "D_b"}
    assert changed_nets(whole, Phase("G", "gen", ("G_ab", "G_ba")), batch, ctx) == {"G_ab", "G_ba"}


def test_translator_outputs_grid_and_export(tmp_path):
    trainer = Trainer(toy_config(3), tmp_path, progress=False)
    trainer.fit()
    # held-out inputs stay whole (8 px): random crops (6 px) are a training augmentation
    assert set(trainer.fixed) == {"a", "b"} and trainer.fixed["a"].shape == (6, 3, 8, 8)
    grid = Image.open(tmp_path / "samples.png")
    # 6 strips of input | fake | target (3 images of 8 px side by side, scaled 8x) in one column
    assert grid.size == (8 * (3 * 8 + 2 + 2), 8 * (6 * (8 + 2) + 2))
    pipeline = load_generator(tmp_path)
    assert sorted(pipeline.nets) == ["G_ab", "G_ba"]
    out = pipeline(trainer.fixed)
    assert torch.equal(out["fake"], trainer.sample_fixed()["fake"]) and out["fake"].dtype == torch.uint8
    pixels = torch.randint(0, 256, (2, 3, 6, 6), dtype=torch.uint8)
    assert pipeline({"a": pixels})["input"].tolist() == pixels.tolist()  # uint8 inputs are taken as pixels
    with pytest.raises(GankitError, match="translates inputs; it does not sample from noise"):
        pipeline.sample(4)
    # the ONNX export follows generate: the translator's input in, its outputs out
    onnxruntime = pytest.importorskip("onnxruntime")
    from gankit.export import export

    session = onnxruntime.InferenceSession(str(export(tmp_path, "onnx")), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["a"]
    assert [o.name for o in session.get_outputs()] == ["input", "fake"]
    x = torch.rand(3, 3, 6, 6) * 2 - 1
    _, fake = session.run(None, {"a": x.numpy()})
    assert torch.allclose(torch.from_numpy(fake), pipeline.generate({"a": x})["fake"], atol=1e-5)


def test_paired_fields_get_the_same_random_crop():
    data = load_data(DataConfig(name="toy-pairs", crop=5))
    assert data.fields["a"].shape == (3, 5, 5) and data.fields["b"].kind == "image"
    index = torch.arange(10)
    batch = data.batch(index, Draws.seeded(3))
    offsets = Draws.seeded(3).randint(0, 8 - 5 + 1, 10, 2)
    whole = data.arrays
    for i in range(10):
        top, left = offsets[i].tolist()
        for key in ("a", "b"):
            expected = whole[key][i, :, top:top + 5, left:left + 5].float() * (2 / 255) - 1
            assert torch.allclose(batch[key][i], expected)
    assert len({tuple(o) for o in offsets.tolist()}) > 1  # examples get crops of their own
    assert not torch.equal(batch["a"], data.batch(index, Draws.seeded(4))["a"])
    with pytest.raises(GankitError, match="needs the trainer's draws"):
        data.batch(index)
    with pytest.raises(GankitError, match="data.crop \\(9\\) is larger than the images"):
        load_data(DataConfig(name="toy-pairs", crop=9))
    assert len(data.split("test")) == 16


def test_unknown_phases_and_optimizers_are_errors(tmp_path):
    t = Trainer(resolve("mnist-dcgan", TINY + DCGAN), tmp_path, progress=False)
    batch, ctx = first_batch(t)
    with pytest.raises(GankitError, match="recipe GANRecipe has no phase 'E'; valid: D, Dreg, G"):
        t.recipe.compute(Phase("E", "D", ("D",)), batch, ctx)
    with pytest.raises(GankitError, match="phase 'G' names optimizer 'H'; the recipe declares G, D"):
        t.run_phase(Phase("G", "H", ("G",)), batch, ctx)


def test_the_trainer_sampling_and_export_never_name_a_network():
    for name in ("trainer.py", "sampling.py", "export.py"):
        text = (SRC / name).read_text()
        assert not re.search(r"""["'][GD]["']""", text), name
        assert "data.key" not in text, name


# lower layers never import upper ones (a cycle once hid behind imports inside functions)
LAYERS = {"metrics": {"sampling", "report", "trainer", "cli", "bench", "export"},
          "report": {"metrics", "sampling", "trainer", "cli", "bench"},
          "data": {"metrics", "recipes", "sampling", "report", "trainer", "cli", "bench"},
          "nets": {"recipes", "data", "metrics", "sampling", "report", "trainer", "cli", "bench"},
          "recipes": {"metrics", "sampling", "report", "trainer", "cli", "bench"},
          "sampling": {"trainer", "cli", "bench", "metrics"},
          "trainer": {"cli", "bench"}, "export": {"trainer", "cli", "bench"}, "apply": {"trainer", "cli", "bench"}}


def imported_modules(path: Path) -> set[str]:
    """Top-level gankit modules that a file imports, at any depth of the file (functions included)."""
    package = path.relative_to(SRC).parts[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1])
            parts = base + (node.module.split(".") if node.module else [])
            if parts:
                out.add(parts[0])
            else:
                out.update(alias.name for alias in node.names)
    return out


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_layers_import_downwards_only(layer):
    files = [SRC / f"{layer}.py"] if (SRC / f"{layer}.py").exists() else sorted((SRC / layer).rglob("*.py"))
    for path in files:
        bad = imported_modules(path) & LAYERS[layer]
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_a_recipe_that_declares_what_it_lacks_is_a_clear_error(tmp_path, monkeypatch):
    from gankit.recipes import OptimSpec
    from gankit.recipes.gan import GANRecipe

    cfg = resolve("mnist-dcgan", TINY + DCGAN)
    monkeypatch.setattr(GANRecipe, "optimizers", lambda self: {"G": OptimSpec(("G", "E"), 1e-3)})
    with pytest.raises(GankitError, match="optimizer 'G' names nets the recipe does not have: E \\(it has G, D\\)"):
        Trainer(cfg, tmp_path, progress=False)
    monkeypatch.setattr(GANRecipe, "optimizers", lambda self: {"H": self.group("H", ("G",))})
    with pytest.raises(GankitError, match="optimizer 'H' is not declared in GANRecipe.OPTIMIZERS \\(G, D\\)"):
        Trainer(cfg, tmp_path, progress=False)
