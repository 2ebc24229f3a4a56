import pytest
import yaml

from gankit.config import Config, config_from_dict, preset_names, resolve
from gankit.errors import GankitError


def test_presets_resolve_and_differ_from_defaults_only_by_their_delta():
    assert {"seed-mlp", "mnist-dcgan"} <= set(preset_names())
    cfg = resolve("seed-mlp")
    assert cfg.model.net == "mlp" and cfg.train.batch_size == 128 and cfg.model.z_dim == 100
    assert cfg.optim.lr_g == Config().optim.lr_g


def test_default_preset_is_mnist_dcgan():
    assert resolve().preset == "mnist-dcgan"


def test_overrides_are_typed():
    cfg = resolve("seed-mlp", ["train.batch_size=32", "optim.lr_g=1e-3", "train.reuse_fakes=false",
                               "model.g_hidden=[8, 16]"])
    assert cfg.train.batch_size == 32
    assert cfg.optim.lr_g == 1e-3 and isinstance(cfg.optim.lr_g, float)
    assert cfg.train.reuse_fakes is False
    assert cfg.model.g_hidden == [8, 16]


def test_unknown_key_lists_the_valid_keys():
    with pytest.raises(GankitError, match=r"unknown config key 'train.batch'; valid keys: train.batch_size, .*"):
        resolve(None, ["train.batch=3"])
    with pytest.raises(GankitError, match=r"unknown config key 'trian.steps'; valid keys: preset, .*train"):
        resolve(None, ["trian.steps=3"])


def test_wrong_types_are_refused():
    with pytest.raises(GankitError, match="'train.batch_size' expects int, got 'big'"):
        resolve(None, ["train.batch_size=big"])
    with pytest.raises(GankitError, match="'train.reuse_fakes' expects bool"):
        resolve(None, ["train.reuse_fakes=3"])
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
    with pytest.raises(GankitError, match="unknown config key 'model.depth'"):
        config_from_dict({"model": {"depth": 3}})
    with pytest.raises(GankitError, match="must be a mapping"):
        config_from_dict({"model": 3})


def test_preset_from_a_yaml_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("model:\n  net: mlp\ntrain:\n  steps: 7\n")
    cfg = resolve(str(path))
    assert cfg.preset == "mine" and cfg.train.steps == 7 and cfg.model.net == "mlp"


def test_presets_inherit_from_a_base(tmp_path):
    wgan = resolve("mnist-wgan")
    default = resolve("mnist-dcgan")
    assert wgan.model.g_width == default.model.g_width and wgan.train.precision == default.train.precision
    assert wgan.loss.name == "wasserstein" and wgan.preset == "mnist-wgan"
    assert "WGAN" in wgan.description
    (tmp_path / "a.yaml").write_text(f"base: {tmp_path / 'b.yaml'}\n")
    (tmp_path / "b.yaml").write_text(f"base: {tmp_path / 'a.yaml'}\n")
    with pytest.raises(GankitError, match="cycle"):
        resolve(str(tmp_path / "a.yaml"))
