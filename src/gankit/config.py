"""Typed configuration: defaults in one place, presets as short YAML deltas, strict dotted overrides.

A config is resolved as   defaults  <-  preset file  <-  --set key=value ...   and every key and type is
checked on the way: an unknown key or a wrong type is a one-line error listing what is valid.

The config follows the components. Four sections are always there (`data`, `optim`, `train`, `eval`); the
recipe named by `recipe` brings its own section (`gan:` for the gan recipe) and names the network families
it builds, each with a section of its own (`dcgan:`, `mlp:`, ...); the recipe's optimizers are keyed by name
under `optim` (`optim.G.lr`, `optim.D.beta1`). A section of a component that the config does not use is an
error, so that a setting never silently does nothing.
"""
from __future__ import annotations

import dataclasses
import math
import reprlib
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import GankitError, summary

DEFAULT_PRESET = "mnist-cgan"
DEFAULT_RECIPE = "gan"


SEED_MAX = 2**32 - 1  # the largest seed: every generator a seed feeds (torch, numpy) takes it


def ranged(default: Any, *, low: float | None = None, high: float | None = None, below: float | None = None,
           choices: tuple | None = None, zero_ok: bool = False) -> Any:
    """A config field with its valid values (for lists: of every item), checked whenever a config is built.

    low/high: inclusive bounds; below: exclusive upper bound; zero_ok: 0 (meaning off or keep) is valid too.
    """
    meta = {k: v for k, v in {"low": low, "high": high, "below": below, "choices": choices, "zero_ok": zero_ok}.items()
            if v is not None and v is not False}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    name: str = "mnist"        # dataset registry name (`gankit list`)
    path: str = ""             # image folder for `folder`; cache folder for downloads ("" = ~/.cache/gankit)
    split: str = "train"       # train | test
    resolution: int = ranged(0, low=4, high=1024, zero_ok=True)  # output side in pixels; 0 keeps the dataset's own
    channels: int = ranged(0, choices=(0, 1, 3))  # 1 grayscale, 3 RGB; 0 keeps the dataset's own
    limit: int = ranged(0, low=0)  # keep only the first N examples (0 = all), for quick runs and tests
    per_class: int = ranged(0, low=0)  # train split: keep N examples of each class (0 = all), chosen by subset_seed
    subset_seed: int = ranged(0, low=0, high=SEED_MAX)  # which examples per_class keeps (a seeded draw without replacement)
    mirror: str = ""           # base URL to download IDX files from ("" = the dataset's default)
    strict: bool = False       # folder: refuse unreadable files instead of skipping them with a count
    crop: int = ranged(0, low=1, high=1024, zero_ok=True)  # random square crops of this side (0 = whole images)
    fonts: str = ""            # glyphs: SOURCE,TARGET fonts, bundled (hei, kai, ming, droid) or .ttf/.otf/.ttc files
    script: str = ranged("traditional", choices=("traditional", "simplified"))  # tang-poems: which characters


@dataclass
class OptimGroup:
    """One optimizer of the recipe (`optim.G`, `optim.D`, ...)."""

    lr: float = ranged(2e-4, low=0, high=10)
    beta1: float = ranged(0.5, low=0, below=1)    # Adam's betas (RMSprop ignores them)
    beta2: float = ranged(0.999, low=0, below=1)


@dataclass
class OptimConfig:
    name: str = ranged("adam", choices=("adam", "rmsprop"))  # rmsprop: the original WGAN's; for every optimizer
    fused: bool = True         # one fused kernel per optimizer step where torch has it (else multi-tensor)
    decay_from: float = ranged(1.0, low=0, high=1)  # from this fraction of train.steps, rates fall linearly to 0 (1 = never)
    groups: dict[str, OptimGroup] = field(default_factory=dict)  # the recipe's optimizers by name: optim.G.lr

    def __getattr__(self, name: str) -> OptimGroup:
        groups = self.__dict__.get("groups", {})
        if name in groups:
            return groups[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        fixed = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "groups"}
        return {**fixed, **{name: dataclasses.asdict(group) for name, group in self.groups.items()}}


@dataclass
class TrainConfig:
    batch_size: int = ranged(64, low=2, high=65536)
    steps: int = ranged(3000, low=0, high=10**9)  # stop after this many steps ...
    minutes: float = ranged(0.0, low=0)  # ... or after this many minutes of training, whichever first (0 = no limit)
    seed: int = ranged(0, low=0, high=SEED_MAX)
    device: str = "auto"       # auto | cpu | cuda
    precision: str = ranged("fp32", choices=("fp32", "bf16", "auto"))  # bf16: autocast, fp32 where unsupported
    channels_last: bool = False  # NHWC memory layout for convolutional nets (pays on GPUs)
    compile: bool = False      # torch.compile the networks (pays on long GPU runs; compiling takes a while)
    threads: int = ranged(0, low=0, high=1024)  # CPU threads (0 = torch's default: one per core)
    log_every: int = ranged(50, low=1)       # steps per stats tick (stats.jsonl, progress bar)
    sample_every: int = ranged(500, low=1)   # steps per sample grid (more than train.steps: only at the ends)
    ckpt_every: int = ranged(1000, low=1)    # steps per training-state checkpoint
    keep_checkpoints: int = ranged(3, low=1)  # how many of the newest checkpoints to keep
    on_nan: str = ranged("stop", choices=("stop", "rollback"))  # NaN/Inf: stop, or back to the last checkpoint at half lr
    n_samples: int = ranged(64, low=1, high=10000)  # samples in the fixed-input sample grid
    ema_halflife_kimg: float = ranged(0.0, low=0)  # EMA half-life of the averaged nets (G), thousands of images (0 = none)
    ema_rampup: float = ranged(0.05, low=0)  # half-life at most this x images seen (0 = no ramp-up)


@dataclass
class EvalConfig:
    protocol: str = "auto"     # how runs are measured (`gankit list`); auto: the one the dataset and recipe call for
    extractor: str = "auto"    # feature extractor (`gankit list`); auto: mnist for MNIST data, none otherwise
    ref: str = "auto"          # reference data; auto: mnist-test for MNIST data
    every: int = ranged(1000, low=0)           # steps between cheap scores logged to stats.jsonl (0 = never)
    n_cheap: int = ranged(2000, low=2, high=1_000_000)  # samples per cheap score
    n_final: int = ranged(10000, low=2, high=1_000_000, zero_ok=True)  # samples for the final metrics (0 = skip)
    seed: int = ranged(0, low=0, high=SEED_MAX)  # sampling seed of every evaluation


FIXED_SECTIONS = {"data": DataConfig, "optim": OptimConfig, "train": TrainConfig, "eval": EvalConfig}


@dataclass
class Config:
    """A resolved config. `cfg.train.steps` for the fixed sections; `cfg.gan.loss`, `cfg.dcgan.g_width` for the
    sections of the recipe and its networks (`cfg.options` is the recipe's own)."""

    preset: str = ""
    description: str = ""
    recipe: str = DEFAULT_RECIPE
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    parts: dict[str, Any] = field(default_factory=dict)  # section name -> typed options of the recipe and its nets

    def __getattr__(self, name: str) -> Any:
        parts = self.__dict__.get("parts", {})
        if name in parts:
            return parts[name]
        raise AttributeError(name)

    @property
    def options(self) -> Any:
        """The recipe's own options section."""
        return self.parts[self.recipe]

    def to_dict(self) -> dict[str, Any]:
        return {"preset": self.preset, "description": self.description, "recipe": self.recipe,
                "data": dataclasses.asdict(self.data),
                **{name: dataclasses.asdict(part) for name, part in self.parts.items()},
                "optim": self.optim.to_dict(), "train": dataclasses.asdict(self.train),
                "eval": dataclasses.asdict(self.eval)}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ---------------------------------------------------------------- the sections a config uses


def _components():
    """The recipe and network registries, filled (their modules import this one, so import them late)."""
    from . import nets, recipes  # noqa: F401  (registers the components)
    from .registry import NETWORKS, RECIPES

    return RECIPES, NETWORKS


def component_sections(data: dict) -> tuple[str, dict[str, type], dict[str, OptimGroup]]:
    """(recipe name, section name -> options class, optimizer name -> default group) for a (partial) config dict.

    The recipe section is read from `data` (over its defaults) to learn which network families it builds.
    """
    RECIPES, _ = _components()
    recipe = data.get("recipe", DEFAULT_RECIPE)
    if not isinstance(recipe, str):
        raise GankitError(f"config key 'recipe' expects str, got {recipe!r}")
    cls = RECIPES.get(recipe)
    own = data.get(recipe, {})
    options = _build(cls.Options, _merge(dataclasses.asdict(cls.Options()), own if isinstance(own, dict) else {}),
                     f"{recipe}.")
    sections = {recipe: cls.Options, **cls.sections(options)}
    return recipe, sections, dict(cls.OPTIMIZERS)


def default_dict(data: dict | None = None) -> dict:
    """The full default config as a dict, with the sections of the components that `data` selects."""
    recipe, sections, groups = component_sections(data or {})
    optim = OptimConfig(groups={name: dataclasses.replace(group) for name, group in groups.items()})
    out = Config(recipe=recipe, optim=optim).to_dict()
    parts = {name: dataclasses.asdict(cls()) for name, cls in sections.items()}
    return {k: out[k] for k in ("preset", "description", "recipe", "data")} | parts | {
        k: out[k] for k in ("optim", "train", "eval")}


# Keys of the configs before sections followed components (gankit 0.1 run folders, exports and presets).
MOVED = {"model.net": "gan.net", "model.z_dim": "gan.z_dim", "model.conditional": "gan.conditional",
         "model.pack": "gan.pack", "loss.name": "gan.loss", "train.reuse_fakes": "gan.reuse_fakes",
         "optim.lr_g": "optim.G.lr", "optim.lr_d": "optim.D.lr", "optim.beta1": "optim.G.beta1 and optim.D.beta1",
         "optim.beta2": "optim.G.beta2 and optim.D.beta2"}
MOVED_TO_NET = ("g_width", "d_width", "g_hidden", "d_hidden", "g_norm", "d_norm", "leak", "g_spectral_norm",
                "d_spectral_norm")


def moved_hint(key: str) -> str:
    if key in MOVED:
        return f" (it moved: now {MOVED[key]})"
    section, _, name = key.partition(".")
    if section == "loss":
        return f" (it moved: now gan.{name})"
    if section == "model" and name in MOVED_TO_NET:
        return f" (it moved into the network's own section, e.g. dcgan.{name} or mlp.{name})"
    return ""


def migrate_legacy(data: dict) -> dict:
    """A whole config saved before sections followed components (top-level `model` and `loss`) in today's keys."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    model, loss = data.pop("model", {}), data.pop("loss", {})
    optim, train = data.setdefault("optim", {}), data.setdefault("train", {})
    gan = {"loss": loss.pop("name", "non-saturating"), **loss}
    for key in ("net", "z_dim", "conditional", "pack"):
        if key in model:
            gan[key] = model.pop(key)
    if "reuse_fakes" in train:
        gan["reuse_fakes"] = train.pop("reuse_fakes")
    net = gan.get("net", "dcgan")
    _, networks = _components()
    allowed = {f.name for f in dataclasses.fields(networks.options(net))}
    data["gan"] = gan
    data[net] = {k: v for k, v in model.items() if k in allowed}
    for name, lr_key in (("G", "lr_g"), ("D", "lr_d")):
        group = {key: optim[key] for key in ("beta1", "beta2") if key in optim}
        if lr_key in optim:
            group["lr"] = optim[lr_key]
        optim[name] = group
    for key in ("lr_g", "lr_d", "beta1", "beta2"):
        optim.pop(key, None)
    return data


def is_legacy(data: dict) -> bool:
    return isinstance(data.get("model"), dict) and isinstance(data.get("loss"), dict)


# ---------------------------------------------------------------- strict building


def _type_name(typ: Any) -> str:
    return getattr(typ, "__name__", None) or str(typ).replace("typing.", "")


BRIEF = reprlib.Repr()
BRIEF.maxlevel, BRIEF.maxstring, BRIEF.maxother, BRIEF.maxlong = 3, 80, 80, 40


def short(value: Any, limit: int = 60) -> str:
    """A value as it may appear in an error message: its repr, cut to `limit` characters."""
    text = BRIEF.repr(value)  # bounded however large or deep the value is
    return text if len(text) <= limit else text[:limit] + "..."


def _coerce(value: Any, typ: Any, key: str) -> Any:
    """Return `value` as `typ`, or raise a one-line error naming the key."""
    def bad() -> GankitError:
        return GankitError(f"config key '{key}' expects {_type_name(typ)}, got {short(value)}")

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
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                number = float(value)
            except ValueError:
                raise bad() from None
        if number is None:
            raise bad()
        if not math.isfinite(number):
            raise GankitError(f"config key '{key}' must be a finite number, got {short(value)}")
        return number
    if typ is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad()
    raise TypeError(f"unsupported config type {typ} for {key}")


def describe_range(meta: dict) -> str:
    if "choices" in meta:
        return "one of " + ", ".join(str(c) for c in meta["choices"])
    low, high, below = (meta.get(k) for k in ("low", "high", "below"))
    num = lambda v: f"{int(v)}" if float(v).is_integer() else f"{v:g}"  # noqa: E731
    if low is not None and high is not None:
        text = f"between {num(low)} and {num(high)}"
    elif low is not None and below is not None:
        text = f"at least {num(low)} and below {num(below)}"
    elif low is not None:
        text = f"at least {num(low)}"
    else:
        text = f"at most {num(high)}" if high is not None else f"below {num(below)}"
    return ("0 or " if meta.get("zero_ok") else "") + text


def check_range(value: Any, meta: Mapping[str, Any], key: str) -> None:
    """Refuse a value (or a list item) outside the field's declared range or choices."""
    for item in value if isinstance(value, list) else [value]:
        if meta.get("zero_ok") and item == 0:
            continue
        low, high, below, choices = (meta.get(k) for k in ("low", "high", "below", "choices"))
        if ((choices is not None and item not in choices) or (low is not None and item < low)
                or (high is not None and item > high) or (below is not None and item >= below)):
            raise GankitError(f"config key '{key}' must be {describe_range(meta)}, got {short(item)}")


def _unknown(key: str, valid: list[str]) -> GankitError:
    return GankitError(f"unknown config key '{key}'{moved_hint(key)}; valid keys: {', '.join(valid)}")


def _build(cls: type, data: Any, where: str = "", groups: dict[str, OptimGroup] | None = None) -> Any:
    """A typed section from a dict. `groups` names the optimizers an OptimConfig holds as subsections."""
    if not isinstance(data, dict):
        raise GankitError(f"config section '{where.rstrip('.') or '<root>'}' must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    ranges = {f.name: f.metadata for f in dataclasses.fields(cls) if f.metadata}
    names = [f.name for f in dataclasses.fields(cls) if f.name != "groups"]
    kwargs: dict[str, Any] = {}
    if groups is not None:
        kwargs["groups"] = {}
        names += list(groups)
    for key, value in data.items():
        if key not in names:
            raise _unknown(where + key, [where + n for n in names])
        if groups is not None and key in groups:
            kwargs["groups"][key] = _build(OptimGroup, value, f"{where}{key}.")
        elif dataclasses.is_dataclass(hints[key]):
            kwargs[key] = _build(hints[key], value, f"{where}{key}.")
        else:
            kwargs[key] = _coerce(value, hints[key], where + key)
            if key in ranges:
                check_range(kwargs[key], ranges[key], where + key)
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
    if not isinstance(data, dict):
        raise GankitError(f"a config must be a mapping, got {data!r}")
    if is_legacy(data):
        data = migrate_legacy(data)
    recipe, sections, groups = component_sections(data)
    defaults = default_dict(data)
    merged = _merge(defaults, data)
    valid = list(merged)
    for key in data:
        if key not in defaults:
            raise _section_not_used(key, recipe, sections, data) if _is_component(key) else _unknown(key, valid)
    fixed = {name: _build(cls, merged[name], f"{name}.", groups if cls is OptimConfig else None)
             for name, cls in FIXED_SECTIONS.items()}
    parts = {name: _build(cls, merged[name], f"{name}.") for name, cls in sections.items()}
    return Config(preset=_coerce(merged["preset"], str, "preset"),
                  description=_coerce(merged["description"], str, "description"), recipe=recipe, parts=parts, **fixed)


def _is_component(name: str) -> bool:
    from .nets.translator import PAIR_CRITICS, TRANSLATORS

    RECIPES, NETWORKS = _components()
    return any(name in registry for registry in (RECIPES, NETWORKS, TRANSLATORS, PAIR_CRITICS))


def _section_not_used(name: str, recipe: str, sections: dict[str, type], data: dict) -> GankitError:
    """The error for a section of a component the config does not use, naming the recipe key that would choose it."""
    own = data.get(recipe, {}) if isinstance(data.get(recipe), dict) else {}
    chosen = {**dataclasses.asdict(sections[recipe]()), **own}
    keys = [key for key, value in chosen.items() if isinstance(value, str) and value in sections]
    how = f"--set {recipe}.{keys[0]}={name}" if keys else f"a setting of the {recipe} section"
    return GankitError(f"config section '{name}' is not used by this config (recipe {recipe}, sections "
                       f"{', '.join(sections)}); choose it first ({how}) or drop it")


# ---------------------------------------------------------------- presets and overrides


def preset_names() -> list[str]:
    folder = resources.files("gankit") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def preset_delta(name: str, seen: tuple[str, ...] = ()) -> dict:
    """The YAML delta of a packaged preset, or of a YAML file given by path.

    A preset may name another as `base:`; its delta is applied over the base's.
    """
    key = name  # what `base:` entries name, for finding cycles
    if name.endswith((".yaml", ".yml")):
        if not Path(name).is_file():
            raise GankitError(f"preset file {name} does not exist (packaged presets: {', '.join(preset_names())})")
        text = read_yaml_text(Path(name))
        name = Path(name).stem
    else:
        if name not in preset_names():
            raise GankitError(f"unknown preset '{name}'; valid: {', '.join(preset_names())}")
        text = (resources.files("gankit") / "presets" / f"{name}.yaml").read_text()
    delta = load_yaml(text, f"preset '{name}'") or {}
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
    value = load_yaml(raw, f"--set {key.strip()[:40]}", not_yaml=raw) if raw.strip() else ""  # not YAML: the text
    return key.strip().split("."), value


def _set(data: dict, path: list[str], value: Any) -> dict:
    """`data` with the key at `path` set; the key must exist in the config that `data` selects."""
    tree = _merge(default_dict(data), data)
    node, out = tree, _merge({}, data)
    target = out
    for i, part in enumerate(path):
        known = node if isinstance(node, dict) else {}
        if part not in known:
            where = ".".join(path[:i])
            if not where and _is_component(part):
                recipe, sections, _ = component_sections(data)
                raise _section_not_used(part, recipe, sections, data)
            raise _unknown(".".join(path), [(where + "." if where else "") + k for k in known])
        if i == len(path) - 1:
            if isinstance(node[part], dict):
                raise GankitError(f"config key '{'.'.join(path)}' is a section; set one of its keys")
            target[part] = value
        else:
            node = node[part]
            target = target.setdefault(part, {})
    return out


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """`data` with each KEY=VALUE set. A key of a section that another override brings in (`gan.net=mlp` then
    `mlp.g_hidden=...`) may come in either order."""
    data = _merge({}, data)
    pending = [parse_override(text) for text in overrides]
    for attempt in range(2):
        failed = []
        for path, value in pending:
            try:
                data = _set(data, path, value)
            except GankitError:
                if attempt:
                    raise
                failed.append((path, value))
        pending = failed
    return data


def resolve(preset: str | None = None, overrides: list[str] = ()) -> Config:
    """defaults <- preset <- overrides, strictly checked."""
    delta = preset_delta(preset or DEFAULT_PRESET)
    config_from_dict(delta)  # report preset errors before override errors
    data = apply_overrides(delta, list(overrides))
    # a component the overrides swapped out (--set gan.net=mlp) takes the preset's settings for it along
    _, sections, _ = component_sections(data)
    named = {parse_override(text)[0][0] for text in overrides}
    return config_from_dict({k: v for k, v in data.items()
                             if k in sections or k in named or not _is_component(k)})


MAX_YAML_NODES = 100_000  # values once every alias is expanded: a config has hundreds


def load_yaml(text: str, what: str, not_yaml: Any = None) -> Any:
    """YAML text as data (safe loading: no tags that build objects). Aliases are counted as the copies they stand
    for, so that nested anchors ("billion laughs") are refused before anything expands them. Text that is not
    YAML is an error, or `not_yaml` when that is given."""
    try:
        data = yaml.safe_load(text)
        size = expanded_size(data, {})
    except yaml.YAMLError as err:
        if not_yaml is not None:
            return not_yaml
        raise GankitError(f"{what} is not valid YAML: {summary(err, 200)}") from None
    except RecursionError:
        raise GankitError(f"{what} is nested too deeply") from None
    if size > MAX_YAML_NODES:
        raise GankitError(f"{what} expands to {size:,} values through its aliases (&anchor / *alias); "
                          f"a config has at most {MAX_YAML_NODES:,}")
    return data


def expanded_size(node: Any, memo: dict[int, int]) -> int:
    """How many values `node` holds with every shared (aliased) part counted each time it is used."""
    if not isinstance(node, (dict, list)):
        return 1
    if id(node) not in memo:
        memo[id(node)] = 1  # a value that contains itself counts once
        items = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        memo[id(node)] = 1 + sum(expanded_size(item, memo) for item in items)
    return memo[id(node)]


MAX_YAML_BYTES = 1 << 20  # a config is a page of text; a bigger file is not one


def read_yaml_text(path: Path) -> str:
    """A config or preset file's text: UTF-8, at most MAX_YAML_BYTES."""
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise GankitError(f"{path} is {path.stat().st_size} bytes; a config file has at most {MAX_YAML_BYTES}")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise GankitError(f"{path} is not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    except OSError as err:
        raise GankitError(f"cannot read {path}: {err.strerror or err}") from None


def load_config_file(path: str | Path) -> Config:
    data = load_yaml(read_yaml_text(Path(path)), f"config {path}")
    return config_from_dict(data or {})
