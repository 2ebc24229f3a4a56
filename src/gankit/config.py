"""Typed configuration: defaults in one place, presets as short YAML deltas, strict dotted overrides.

A config is resolved as   defaults  <-  preset file  <-  --set key=value ...   and every key and type is
checked on the way: an unknown key or a wrong type is a one-line error listing what is valid.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .errors import GankitError

DEFAULT_PRESET = "mnist-dcgan"


@dataclass
class DataConfig:
    name: str = "mnist"        # dataset registry name (`gankit list`)
    path: str = ""             # image folder for `folder`; cache folder for downloads ("" = ~/.cache/gankit)
    split: str = "train"       # train | test
    resolution: int = 0        # output side length in pixels; 0 keeps the dataset's own
    channels: int = 0          # 1 grayscale, 3 RGB; 0 keeps the dataset's own
    limit: int = 0             # keep only the first N examples (0 = all), for quick runs and tests
    mirror: str = ""           # base URL to download IDX files from ("" = the dataset's default)
    strict: bool = False       # folder: refuse unreadable files instead of skipping them with a count


@dataclass
class ModelConfig:
    net: str = "dcgan"                                              # network registry name
    z_dim: int = 100                                                # latent size
    g_width: int = 64                                               # dcgan: channels of G's last hidden layer
    d_width: int = 64                                               # dcgan: channels of D's first layer
    g_hidden: list[int] = field(default_factory=lambda: [256, 512, 1024])  # mlp: G hidden sizes
    d_hidden: list[int] = field(default_factory=lambda: [512, 256])         # mlp: D hidden sizes
    g_norm: str = "batch"                                           # batch | none
    d_norm: str = "batch"                                           # batch | none
    leak: float = 0.2                                               # LeakyReLU slope
    conditional: str = "none"                                       # none | projection (cBN G + projection D) | acgan
    g_spectral_norm: bool = False                                   # spectral normalisation on G's layers
    d_spectral_norm: bool = False                                   # spectral normalisation on D's layers
    pack: int = 1                                                   # PacGAN: D judges this many samples jointly


@dataclass
class LossConfig:
    name: str = "non-saturating"   # loss registry name (`gankit list`)
    gp_weight: float = 0.0         # WGAN-GP gradient penalty weight lambda (10 in the paper; 0 = off)
    r1_gamma: float = 0.0          # R1 penalty weight gamma: adds gamma/2 E||grad D(x)||^2 (0 = off)
    r1_every: int = 1              # lazy R1: apply every N steps, scaled by N
    clip: float = 0.0              # clip D's weights to [-clip, clip] after each D step (original WGAN; 0 = off)
    n_critic: int = 1              # D steps per G step
    critic_burst: int = 0          # D steps per G step for the first 25 G steps and every 500th (WGAN: 100; 0 = off)
    g_steps: int = 1               # G steps per G phase (PacGAN's DCGAN code runs 2, so that D does not win)
    augment: str = ""              # DiffAugment policy for every image D sees, e.g. "color,translation,cutout"
    acgan_weight: float = 1.0      # weight of the auxiliary classification loss (model.conditional=acgan)


@dataclass
class OptimConfig:
    name: str = "adam"         # adam | rmsprop (the original WGAN's optimizer)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    fused: bool = True         # one fused kernel per optimizer step where torch has it (else multi-tensor)
    decay_from: float = 1.0    # from this fraction of train.steps, learning rates fall linearly to 0 (1 = never)


@dataclass
class TrainConfig:
    batch_size: int = 64
    steps: int = 3000          # stop after this many steps ...
    minutes: float = 0.0       # ... or after this many minutes of training, whichever comes first (0 = no limit)
    seed: int = 0
    reuse_fakes: bool = True   # the G step reuses the D step's fakes instead of drawing new ones
    device: str = "auto"       # auto | cpu | cuda
    precision: str = "fp32"    # fp32 | bf16 (autocast; falls back to fp32 where unsupported) | auto
    channels_last: bool = False  # NHWC memory layout for convolutional nets (pays on GPUs)
    compile: bool = False      # torch.compile the networks (pays on long GPU runs; compiling takes a while)
    threads: int = 0           # CPU threads (0 = torch's default: one per core)
    log_every: int = 50        # steps per stats tick (stats.jsonl, progress bar)
    sample_every: int = 500    # steps per sample grid
    ckpt_every: int = 1000     # steps per training-state checkpoint
    keep_checkpoints: int = 3  # how many of the newest checkpoints to keep
    on_nan: str = "stop"       # NaN/Inf in losses or weights: stop | rollback (to the last checkpoint, half the lr)
    n_samples: int = 64        # images in the fixed-noise sample grid
    ema_halflife_kimg: float = 0.0  # generator EMA half-life in thousands of images (0 = no EMA)
    ema_rampup: float = 0.05   # half-life at most this x images seen (0 = no ramp-up)


@dataclass
class EvalConfig:
    extractor: str = "auto"    # feature extractor (`gankit list`); auto: mnist for MNIST data, none otherwise
    ref: str = "auto"          # reference data; auto: mnist-test for MNIST data
    every: int = 1000          # steps between cheap FIDs logged to stats.jsonl (0 = never)
    n_cheap: int = 2000        # samples per cheap FID
    n_final: int = 10000       # samples for the metrics at the end of training (0 = skip)
    seed: int = 0              # sampling seed of every evaluation


@dataclass
class Config:
    preset: str = ""
    description: str = ""
    recipe: str = "gan"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ---------------------------------------------------------------- strict building


def _type_name(typ: Any) -> str:
    return getattr(typ, "__name__", None) or str(typ).replace("typing.", "")


def _coerce(value: Any, typ: Any, key: str) -> Any:
    """Return `value` as `typ`, or raise a one-line error naming the key."""
    def bad() -> GankitError:
        return GankitError(f"config key '{key}' expects {_type_name(typ)}, got {value!r}")

    if typing.get_origin(typ) is list:
        (item_type,) = typing.get_args(typ)
        if not isinstance(value, (list, tuple)):
            raise bad()
        return [_coerce(v, item_type, key) for v in value]
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise bad()
    if typ is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad()
    if typ is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                return float(value)
            except ValueError:
                raise bad() from None
        raise bad()
    if typ is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad()
    raise TypeError(f"unsupported config type {typ} for {key}")


def _build(cls: type, data: Any, where: str = "") -> Any:
    if not isinstance(data, dict):
        raise GankitError(f"config section '{where.rstrip('.') or '<root>'}' must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        if key not in names:
            raise GankitError(f"unknown config key '{where}{key}'; valid keys: {', '.join(where + n for n in names)}")
        typ = hints[key]
        if dataclasses.is_dataclass(typ):
            kwargs[key] = _build(typ, value, f"{where}{key}.")
        else:
            kwargs[key] = _coerce(value, typ, where + key)
    return cls(**kwargs)


def _merge(base: dict, delta: dict) -> dict:
    out = dict(base)
    for key, value in delta.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def config_from_dict(data: dict) -> Config:
    """Strictly build a Config from a (possibly partial) nested dict over the typed defaults."""
    return _build(Config, _merge(Config().to_dict(), data))


# ---------------------------------------------------------------- presets and overrides


def preset_names() -> list[str]:
    folder = resources.files("gankit") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def preset_delta(name: str, seen: tuple[str, ...] = ()) -> dict:
    """The YAML delta of a packaged preset, or of a YAML file given by path.

    A preset may name another as `base:`; its delta is applied over the base's.
    """
    key = name  # what `base:` entries name, for finding cycles
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        text = Path(name).read_text()
        name = Path(name).stem
    else:
        if name not in preset_names():
            raise GankitError(f"unknown preset '{name}'; valid: {', '.join(preset_names())}")
        text = (resources.files("gankit") / "presets" / f"{name}.yaml").read_text()
    try:
        delta = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise GankitError(f"preset '{name}' is not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(delta, dict):
        raise GankitError(f"preset '{name}' must be a YAML mapping")
    base = delta.pop("base", None)
    if base is not None:
        if str(base) in (*seen, key):
            raise GankitError(f"preset '{name}' has a cycle of bases: {' -> '.join((*seen, key, str(base)))}")
        base_delta = preset_delta(str(base), (*seen, key))
        base_delta.pop("description", None)
        delta = _merge(base_delta, delta)
    delta["preset"] = name
    return delta


def parse_override(text: str) -> tuple[list[str], Any]:
    """'train.batch_size=128' -> (['train', 'batch_size'], 128)."""
    if "=" not in text:
        raise GankitError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    data = _merge({}, data)
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for i, part in enumerate(path):
            known = node if isinstance(node, dict) else {}
            if part not in known:
                where = ".".join(path[:i])
                valid = ", ".join((where + "." if where else "") + k for k in known)
                raise GankitError(f"unknown config key '{'.'.join(path)}'; valid keys: {valid}")
            if i == len(path) - 1:
                if isinstance(node[part], dict):
                    raise GankitError(f"config key '{'.'.join(path)}' is a section; set one of its keys")
                node[part] = value
            else:
                node = node[part]
    return data


def resolve(preset: str | None = None, overrides: list[str] = ()) -> Config:
    """defaults <- preset <- overrides, strictly checked."""
    merged = _merge(Config().to_dict(), preset_delta(preset or DEFAULT_PRESET))
    config_from_dict(merged)  # report preset errors before override errors
    return config_from_dict(apply_overrides(merged, list(overrides)))


def load_config_file(path: str | Path) -> Config:
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise GankitError(f"cannot read config {path}: {err}") from None
    return config_from_dict(data or {})
