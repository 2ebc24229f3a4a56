"""A trained model ready to use: the recipe rebuilt from its export, driven through `generate`.

`gankit.load_generator(path)` returns a Pipeline. `.sample(n, seed=, label=)` draws from noise-driven models;
calling it with inputs (`pipeline({"input": images})`) runs translators. Grids, `gankit sample`, evaluation
and the ONNX export all go through the recipe's `generate`, so they cannot disagree.
"""
from __future__ import annotations

import itertools
import math
import zipfile
from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
import torch
import torch.nn as nn

from .checkpoint import atomic_write, read_export
from .config import config_from_dict
from .data import Field, for_display, to_float
from .draws import Draws
from .errors import GankitError, summary
from .limits import check_disk, check_memory
from .recipes import Recipe, build_recipe
from .report import save_outputs, save_picture


class Fields:
    """What a recipe needs to know of its data to rebuild its networks: fields, class names, name, and info (a
    text model's vocabulary)."""

    def __init__(self, fields: dict[str, Field], class_names: tuple[str, ...] = (), name: str = "",
                 info: dict | None = None):
        self.fields, self.class_names, self.name, self.info = fields, tuple(class_names), name, info or {}

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class Pipeline:
    """A recipe and the nets it generates with (moving averages where the run kept them), used in eval mode."""

    def __init__(self, recipe: Recipe, nets: Mapping[str, nn.Module], meta: dict):
        self.recipe, self.nets, self.meta = recipe, dict(nets), meta
        self.config = recipe.cfg
        self.class_names = list(meta.get("class_names", []))
        self.fields = {k: Field(v["kind"], tuple(v["shape"])) for k, v in meta.get("fields", {}).items()}

    @property
    def device(self) -> torch.device:
        net = self.nets[self.recipe.exported[0]]
        first = next(itertools.chain(net.parameters(), net.buffers()), None)
        return first.device if first is not None else torch.device("cpu")  # a net without tensors runs anywhere

    @property
    def conditional(self) -> bool:
        return self.recipe.num_classes > 0

    @property
    def inputs(self) -> str:
        """Where new results come from: held-out examples for translators ("eval"), else noise."""
        return "eval" if self.recipe.translates else "noise"

    @property
    def kind(self) -> str:
        """The field kind of the main output (image or points)."""
        return self.recipe.outputs[self.recipe.main_output]

    @property
    def makes(self) -> str:
        """What the model makes, in words: images, 2-D points or text."""
        return {"image": "images", "points": "2-D points", "tokens": "text"}.get(self.kind, self.kind)

    @torch.no_grad()
    def generate(self, inputs: Mapping[str, torch.Tensor], **options) -> dict[str, torch.Tensor]:
        """The recipe's raw outputs (images in [-1, 1]) with every net in eval mode; modes are restored after."""
        modes = {name: net.training for name, net in self.nets.items()}
        try:
            for net in self.nets.values():
                net.eval()
            inputs = {k: v.to(self.device) for k, v in inputs.items()}
            return self.recipe.generate(self.nets, inputs, **options)
        finally:
            for name, net in self.nets.items():
                net.train(modes[name])

    def display(self, outputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Outputs as people get them: images uint8 [N, C, H, W], points float, labels int64; on the CPU."""
        return {k: for_display(v, self.recipe.outputs.get(k, "label")) for k, v in outputs.items()}

    def __call__(self, inputs: Mapping[str, torch.Tensor], **options) -> dict[str, torch.Tensor]:
        """Translate inputs: uint8 image fields are taken as [0, 255] pixels, float ones as [-1, 1]."""
        ready = {k: to_float(v) if v.dtype == torch.uint8 else v for k, v in inputs.items()}
        return self.display(self.generate(ready, **options))

    def labels_for(self, n: int, label: int | None, per_row: int = 0) -> torch.Tensor | None:
        """The labels of n samples: all `label`, or every class in turn (one class per row of `per_row` samples
        when per_row is given); None for an unconditional model."""
        if not self.conditional:
            if label is not None:
                raise GankitError("--label needs a conditional model (gan.conditional=projection or acgan)")
            return None
        k = self.recipe.num_classes
        if label is not None and not 0 <= label < k:
            raise GankitError(f"label {label} is out of range: this model knows {k} classes (0..{k - 1})")
        check_memory(8 * n, f"the labels of {n} samples")
        if label is not None:
            return torch.full((n,), label)
        return self.recipe.cycled_labels(n, per_row)

    def batches(self, n: int, seed: int = 0, labels: torch.Tensor | None = None, batch_size: int = 1000,
                inputs: str = "eval", data=None, **options) -> Iterator[dict[str, torch.Tensor]]:
        """n results for display, yielded batch by batch, drawn from a generator seeded with `seed` (repeatable
        anywhere, and the same however they are collected).

        inputs="eval": the recipe's evaluation inputs (noise with every class in turn, or held-out examples
        from `data`); "noise": noise with the given labels."""
        if n < 1:
            raise GankitError(f"number of samples must be positive, got {n}")
        draws = Draws.seeded(seed, self.device)
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            if inputs == "eval":
                batch = self.recipe.eval_inputs(size, data, draws, start) if labels is None else \
                    self.recipe.noise_inputs(size, draws, labels[start:start + size])
            else:
                batch = self.recipe.noise_inputs(size, draws, None if labels is None else labels[start:start + size])
            yield self.display(self.generate(batch, **options))

    def draw(self, n: int, seed: int = 0, labels: torch.Tensor | None = None, batch_size: int = 1000,
             inputs: str = "eval", data=None, **options) -> dict[str, torch.Tensor]:
        """n results for display (see `batches`; `options` go to the recipe's generate), held in memory (refused
        when they would not fit)."""
        batches = self.batches(n, seed, labels, batch_size, inputs, data, **options)
        first = next(batches)
        per_example = sum(v[0].numel() * v.element_size() for v in first.values())
        check_memory(n * per_example, f"{n} samples", "`gankit sample` streams many samples into an .npz file")
        parts = [first, *batches]
        return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}

    def sample_with_labels(self, n: int, seed: int = 0, label: int | None = None, per_row: int = 0,
                           batch_size: int = 1000, **options) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n samples (uint8 images or float points) and their labels (None when unconditional)."""
        labels = self.labels_for(n, label, per_row)
        out = self.draw(n, seed, labels, batch_size, inputs=self.inputs, **options)
        return out[self.recipe.main_output], labels

    def sample(self, n: int, seed: int = 0, label: int | None = None) -> torch.Tensor:
        return self.sample_with_labels(n, seed, label)[0]

    @property
    def judged_by_its_protocol(self) -> bool:
        """Whether `gankit eval` measures this generator as its run was measured (translators and text against
        held-out data, Stacked MNIST by its modes, 2-D mixtures by theirs) rather than by image metrics against a
        reference set. Exports from before the protocol was recorded: by what they make."""
        if "protocol" in self.meta:
            return self.meta["protocol"] not in ("image-fid", "")
        return self.recipe.translates or self.kind in ("tokens", "points")


def fields_meta(fields: Mapping[str, Field]) -> dict:
    return {k: {"kind": f.kind, "shape": list(f.shape)} for k, f in fields.items()}


def load_generator(path: str | Path, device: str = "cpu") -> Pipeline:
    """A run folder or a generator export (generator.safetensors + generator.json) -> Pipeline."""
    tensors, meta = read_export(Path(path))
    try:
        cfg = config_from_dict(meta["config"])
        fields = {k: Field(v["kind"], tuple(v["shape"])) for k, v in meta["fields"].items()}
        info = {"vocab": meta["vocab"], "eos": meta.get("eos")} if "vocab" in meta else {}
        recipe = build_recipe(cfg, Fields(fields, tuple(meta.get("class_names", [])), info=info))
        if list(meta["nets"]) != list(recipe.exported):
            raise ValueError(f"it names the nets {str(meta['nets'])[:60]}, its recipe exports {list(recipe.exported)}")
        for name in meta["nets"]:
            prefix = f"{name}."
            recipe.nets[name].load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as err:
        raise GankitError(f"generator export at {path} does not match its config ({summary(err)})") from None
    recipe.to(device)
    return Pipeline(recipe, {name: recipe.nets[name] for name in meta["nets"]}, meta)


MAX_GRID = 10_000  # images in one .png grid; beyond this a grid is no longer something to look at


def save_samples(pipeline: Pipeline, n: int, out: Path, seed: int = 0, label: int | None = None,
                 batch_size: int = 1000, **options) -> Path:
    """n samples into a file. .png: a grid, one class per row for a conditional model (or a scatter plot of
    points). .npz: key `images`, uint8 (N, H, W, C), or `points`, float32 (N, 2), and `labels` for a conditional
    model; streamed to disk batch by batch, so memory holds one batch whatever n is, and refused up front when
    the disk cannot hold it. Text models write .txt (see save_text_samples). `options` go to the recipe's
    generate (truncation=psi for a style-based G)."""
    out = Path(out)
    if out.is_dir():
        raise GankitError(f"{out} is a folder: give a file name ending in .png (a grid) or .npz (arrays)")
    if n < 1:
        raise GankitError(f"number of samples must be positive, got {n}")
    if pipeline.kind == "tokens" or out.suffix == ".txt":
        if pipeline.kind != "tokens":
            raise GankitError(f"this model makes {pipeline.makes}, not text: write a .png or .npz file")
        if label is not None:
            raise GankitError("--label is for class-conditional image models; text models take --prefix")
        return save_text_samples(pipeline, n, out, seed)
    if out.suffix == ".png":
        if n > MAX_GRID:
            raise GankitError(f"a grid of {n} images is too large to look at (at most {MAX_GRID}); "
                              "write them to an .npz file instead")
        cols = math.ceil(math.sqrt(n))
        if pipeline.recipe.translates:  # held-out inputs beside their outputs and targets
            pipeline.labels_for(n, label)  # refuses --label
            return save_outputs(pipeline.draw(n, seed, inputs="eval", batch_size=batch_size), pipeline.recipe.outputs, out)
        samples, _ = pipeline.sample_with_labels(n, seed, label, per_row=cols, **options)
        return save_picture(samples, out, pipeline.kind, nrow=cols)
    if out.suffix != ".npz":
        raise GankitError(f"cannot write samples to '{out.name}': use a .png (grid) or .npz (arrays) file")
    labels = pipeline.labels_for(n, label)
    main = pipeline.recipe.main_output
    batches = pipeline.batches(n, seed, labels, batch_size, inputs=pipeline.inputs, **options)
    first = next(batches)[main]  # its shape and type tell what one sample takes on disk
    points = pipeline.kind == "points"
    key, dtype = ("points", np.float32) if points else ("images", np.uint8)
    row_shape = tuple(first.shape[1:]) if points else (*first.shape[2:], first.shape[1])  # images: (H, W, C)
    check_disk(out.parent, n * (math.prod(row_shape) * np.dtype(dtype).itemsize + (0 if labels is None else 8)),
               f"{n} samples")

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            with npy_member(archive, key, dtype, (n, *row_shape)) as member:
                for x in itertools.chain([first], (batch[main] for batch in batches)):
                    member.write((x if points else x.permute(0, 2, 3, 1)).numpy().astype(dtype).tobytes())
            if labels is not None:
                with npy_member(archive, "labels", np.int64, (n,)) as member:
                    member.write(labels.numpy().astype(np.int64).tobytes())

    atomic_write(out, write)
    return out


MAX_TEXT_SAMPLES = 1_000_000


def save_text_samples(pipeline: Pipeline, n: int, out: Path, seed: int = 0, temperature: float | None = None,
                      prefix: str = "", batch_size: int = 1000) -> Path:
    """n texts from a text model, one a line, into a .txt file (see text_samples)."""
    out = Path(out)
    if out.suffix != ".txt":
        raise GankitError(f"a text model writes text: give a .txt file, not '{out.name}'")
    lines = text_samples(pipeline, n, seed, temperature, prefix, batch_size)
    atomic_write(out, lambda tmp: tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8"))
    return out


def text_samples(pipeline: Pipeline, n: int, seed: int = 0, temperature: float | None = None, prefix: str = "",
                 batch_size: int = 1000) -> list[str]:
    """n texts from a text model, sampled at `temperature` (default: the run's textgan.temperature), each starting
    with `prefix` (characters of the model's vocabulary)."""
    from .data.text import Vocabulary

    if pipeline.kind != "tokens":
        raise GankitError(f"this model makes {pipeline.makes}, not text")
    if n > MAX_TEXT_SAMPLES:
        raise GankitError(f"at most {MAX_TEXT_SAMPLES:,} texts at a time, got {n:,}")
    if temperature is not None and not 0.01 <= temperature <= 100:
        raise GankitError(f"--temperature must be between 0.01 and 100, got {temperature}")
    vocab = Vocabulary.of(pipeline.meta)
    options = {"temperature": temperature}
    if prefix:
        ids = vocab.encode(prefix, "--prefix")
        length = pipeline.fields["tokens"].shape[0]
        if len(ids) >= length:
            raise GankitError(f"--prefix has {len(ids)} tokens; the model writes {length - 1} at most")
        options["prefix"] = torch.tensor(ids)
    return [vocab.decode(row) for batch in pipeline.batches(n, seed, None, batch_size, inputs="noise", **options)
            for row in batch["tokens"]]


def npy_member(archive: zipfile.ZipFile, key: str, dtype, shape: tuple[int, ...]):
    """An open `key.npy` member of an .npz being written, its header written; the caller writes the data."""
    member = archive.open(f"{key}.npy", "w", force_zip64=True)
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(member, header)
    return member
