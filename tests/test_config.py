import re

import pytest
import yaml

from gankit.config import OptimGroup, config_from_dict, migrate_legacy, preset_names, resolve
from gankit.errors import GankitError


def test_presets_resolve_and_differ_from_defaults_only_by_their_delta():
    assert {"seed-mlp", "mnist-dcgan"} <= set(preset_names())
    cfg = resolve("seed-mlp")
    assert cfg.gan.net == "mlp" and cfg.train.batch_size == 128 and cfg.gan.z_dim == 100
    assert cfg.optim.G.lr == OptimGroup().lr and set(cfg.parts) == {"gan", "mlp"}


def test_default_preset_is_the_conditional_dcgan():
    cfg = resolve()
    assert cfg.preset == "mnist-cgan" and cfg.gan.conditional == "projection" and cfg.gan.loss == "hinge"
    assert cfg.train.steps == 10000 and cfg.train.minutes == 0  # a step budget: the same result on any machine
    assert cfg.gan.clusters == 40 and resolve("mnist-dcgan").gan.clusters == 100  # self-conditioned, no labels


def test_overrides_are_typed():
    cfg = resolve("seed-mlp", ["train.batch_size=32", "optim.G.lr=1e-3", "gan.reuse_fakes=false",
                               "mlp.g_hidden=[8, 16]"])
    assert cfg.train.batch_size == 32
    assert cfg.optim.G.lr == 1e-3 and isinstance(cfg.optim.G.lr, float)
    assert cfg.gan.reuse_fakes is False
    assert cfg.mlp.g_hidden == [8, 16]


def test_unknown_key_lists_the_valid_keys():
    with pytest.raises(GankitError, match=r"unknown config key 'train.batch'; valid keys: train.batch_size, .*"):
        resolve(None, ["train.batch=3"])
    with pytest.raises(GankitError, match=r"unknown config key 'trian.steps'; valid keys: preset, .*train"):
        resolve(None, ["trian.steps=3"])


def test_wrong_types_are_refused():
    with pytest.raises(GankitError, match="'train.batch_size' expects int, got 'big'"):
        resolve(None, ["train.batch_size=big"])
    with pytest.raises(GankitError, match="'gan.reuse_fakes' expects bool"):
        resolve(None, ["gan.reuse_fakes=3"])
    with pytest.raises(GankitError, match="expects int"):
        resolve(None, ["train.steps=2.5"])
    with pytest.raises(GankitError, match="is a section"):
        resolve(None, ["train=3"])
    with pytest.raises(GankitError, match="key=value"):
        resolve(None, ["train.steps"])


def test_unknown_preset_lists_presets():
    with pytest.raises(GankitError, match="unknown preset 'mnist-gan'; valid: .*mnist-dcgan.*seed-mlp"):
        resolve("mnist-gan")


def test_yaml_round_trip_and_strict_dict_building():
    cfg = resolve("seed-mlp", ["train.seed=7"])
    assert config_from_dict(yaml.safe_load(cfg.to_yaml())) == cfg
    with pytest.raises(GankitError, match="unknown config key 'gan.depth'"):
        config_from_dict({"gan": {"depth": 3}})
    with pytest.raises(GankitError, match="must be a mapping"):
        config_from_dict({"train": 3})


def test_preset_from_a_yaml_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("gan:\n  net: mlp\nmlp:\n  g_hidden: [8]\ntrain:\n  steps: 7\n")
    cfg = resolve(str(path))
    assert cfg.preset == "mine" and cfg.train.steps == 7 and cfg.gan.net == "mlp" and cfg.mlp.g_hidden == [8]


def test_presets_inherit_from_a_base(tmp_path):
    wgan = resolve("mnist-wgan")
    default = resolve("mnist-dcgan")
    assert wgan.dcgan.g_width == default.dcgan.g_width and wgan.train.precision == default.train.precision
    assert wgan.gan.loss == "wasserstein" and wgan.preset == "mnist-wgan"
    assert "WGAN" in wgan.description
    (tmp_path / "a.yaml").write_text(f"base: {tmp_path / 'b.yaml'}\n")
    (tmp_path / "b.yaml").write_text(f"base: {tmp_path / 'a.yaml'}\n")
    with pytest.raises(GankitError, match="cycle"):
        resolve(str(tmp_path / "a.yaml"))


def test_sections_follow_the_components():
    cfg = resolve("mnist-dcgan", ["gan.net=mlp", "mlp.g_hidden=[8]"])
    assert set(cfg.parts) == {"gan", "mlp"} and "dcgan" not in cfg.to_dict()
    # a section of the network chosen later on the same command line may come first
    assert resolve("mnist-dcgan", ["mlp.g_hidden=[8]", "gan.net=mlp"]).mlp.g_hidden == [8]
    with pytest.raises(GankitError, match="config section 'resnet' is not used by this config .*gan, dcgan"):
        resolve("mnist-dcgan", ["resnet.g_width=8"])
    with pytest.raises(GankitError, match="config section 'mlp' is not used"):
        config_from_dict({"mlp": {"g_hidden": [8]}})
    with pytest.raises(GankitError, match="unknown network 'nope'; valid: dcgan, mlp, resnet, stylegan2, toy-mlp"):
        resolve("mnist-dcgan", ["gan.net=nope"])
    with pytest.raises(GankitError, match="unknown recipe 'stylegan'; valid: cyclegan, gan"):
        resolve("mnist-dcgan", ["recipe=stylegan"])


def test_optimizers_are_keyed_by_name():
    cfg = resolve("mnist-wgan-gp", ["optim.D.beta2=0.99"])
    assert (cfg.optim.G.lr, cfg.optim.D.lr) == (8e-4, 1e-4)
    assert (cfg.optim.G.beta1, cfg.optim.G.beta2, cfg.optim.D.beta2) == (0.0, 0.9, 0.99)
    with pytest.raises(GankitError, match="unknown config key 'optim.E.lr'; valid keys: .*optim.G, optim.D"):
        resolve(None, ["optim.E.lr=1"])


@pytest.mark.parametrize("old, new", [("model.net=mlp", "gan.net"), ("optim.lr_g=1e-3", "optim.G.lr"),
                                      ("loss.r1_gamma=1", "gan.r1_gamma"), ("train.reuse_fakes=false", "gan.reuse_fakes"),
                                      ("model.g_width=8", "dcgan.g_width")])
def test_old_keys_say_where_they_moved(old, new):
    with pytest.raises(GankitError, match=f"moved.*{new}"):
        resolve(None, [old])


def test_configs_saved_before_the_sections_moved_are_migrated():
    old = {"recipe": "gan", "model": {"net": "mlp", "z_dim": 64, "g_width": 64, "g_hidden": [8], "pack": 2},
           "loss": {"name": "hinge", "r1_gamma": 1.0}, "train": {"reuse_fakes": False, "steps": 9},
           "optim": {"lr_g": 1e-3, "lr_d": 2e-3, "beta1": 0.0, "beta2": 0.9, "name": "adam"}}
    new = migrate_legacy(old)
    assert new["gan"] == {"loss": "hinge", "r1_gamma": 1.0, "net": "mlp", "z_dim": 64, "pack": 2, "reuse_fakes": False}
    assert new["mlp"] == {"g_hidden": [8]}  # g_width is not an mlp option: dropped
    assert new["optim"] == {"name": "adam", "G": {"beta1": 0.0, "beta2": 0.9, "lr": 1e-3},
                            "D": {"beta1": 0.0, "beta2": 0.9, "lr": 2e-3}}
    cfg = config_from_dict(old)
    assert cfg.gan.loss == "hinge" and cfg.mlp.g_hidden == [8] and cfg.optim.D.lr == 2e-3 and cfg.train.steps == 9


def test_an_unused_section_names_the_key_that_would_choose_it():
    with pytest.raises(GankitError, match=r"choose it first \(--set gan.net=resnet\) or drop it"):
        resolve("seed-mlp", ["resnet.g_width=8"])


@pytest.mark.parametrize("override, message", [
    ("train.minutes=nan", "'train.minutes' must be a finite number, got 'nan'"),
    ("train.minutes=-5", "'train.minutes' must be at least 0, got -5.0"),
    ("train.seed=99999999999999999999999", "'train.seed' must be between 0 and 4294967295, got 99999999999999999999999"),
    ("train.steps=99999999999999999999", "'train.steps' must be between 0 and 1000000000, got 99999999999999999999"),
    ("optim.G.lr=-1e-3", "'optim.G.lr' must be between 0 and 10, got -0.001"),
    ("optim.D.beta1=2", "'optim.D.beta1' must be at least 0 and below 1, got 2.0"),
    ("gan.z_dim=-3", "'gan.z_dim' must be between 1 and 4096, got -3"),
    ("dcgan.g_width=0", "'dcgan.g_width' must be between 1 and 1024, got 0"),
    ("train.batch_size=1", "'train.batch_size' must be between 2 and 65536, got 1"),
    ("data.resolution=100000", "'data.resolution' must be 0 or between 4 and 1024, got 100000"),
    ("data.channels=2", "'data.channels' must be one of 0, 1, 3, got 2"),
    ("train.threads=-1", "'train.threads' must be between 0 and 1024, got -1"),
    ("eval.n_final=1", "'eval.n_final' must be 0 or between 2 and 1000000, got 1"),
    ("train.on_nan=retry", "'train.on_nan' must be one of stop, rollback, got 'retry'"),
    ("gan.conditional=cgan", "'gan.conditional' must be one of none, projection, acgan, got 'cgan'"),
])
def test_values_are_range_checked_when_the_config_is_resolved(override, message):
    with pytest.raises(GankitError, match=re.escape(f"config key {message}")):
        resolve(None, [override])


def test_a_huge_value_is_echoed_short():
    with pytest.raises(GankitError) as err:
        resolve(None, ["train.steps=" + "x" * 100_000])
    assert len(str(err.value)) < 200 and "'xxx" in str(err.value)


def test_nested_aliases_are_refused_before_they_expand(tmp_path):
    levels = "".join(f"  l{i + 1}: &l{i + 1} [{', '.join([f'*l{i}'] * 9)}]\n" for i in range(8))
    (tmp_path / "laughs.yaml").write_text("description:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + levels)
    with pytest.raises(GankitError, match="preset 'laughs' expands to 490,329,066 values through its aliases"):
        resolve(str(tmp_path / "laughs.yaml"))
    with pytest.raises(GankitError, match="config key 'description' expects str, got {'l0': \\['x', 'x'"):
        resolve(None, ["description={l0: &a [x, x], l1: [*a, *a]}"])  # a few aliases are fine, and echoed short


def test_every_preset_has_a_step_budget_not_a_time_budget():
    for name in preset_names():  # a time budget would give a slower machine a worse model
        cfg = resolve(name)
        assert cfg.train.minutes == 0 and cfg.train.steps > 0, name


def test_a_missing_preset_file_is_named_as_a_file(tmp_path):
    with pytest.raises(GankitError, match=r"preset file .*nope.yaml does not exist \(packaged presets: cyclegan-digits, "):
        resolve(str(tmp_path / "nope.yaml"))
