"""`gankit export`: a trained generator as ONNX (run anywhere with onnxruntime) or as the lean safetensors pair."""
from __future__ import annotations

import shutil
from pathlib import Path

import torch
import torch.nn as nn

from .checkpoint import find_export
from .errors import GankitError
from .sampling import load_generator

FORMATS = ("onnx", "safetensors")


class GenerateGraph(nn.Module):
    """The recipe's `generate` as a module with positional inputs and outputs, for tracing."""

    def __init__(self, generate, nets: dict[str, nn.Module], inputs: list[str], outputs: list[str]):
        super().__init__()
        self.nets = nn.ModuleDict(nets)
        self.generate, self.inputs, self.outputs = generate, inputs, outputs

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.generate(self.nets, dict(zip(self.inputs, tensors)))
        return tuple(out[name] for name in self.outputs)


def export_onnx(source: Path, out: Path, opset: int = 17) -> Path:
    """ONNX graph of the recipe's `generate`: the inputs it takes (for the gan recipe `z` float32 [N, z_dim], and
    `c` int64 [N] when conditional; a translator's input images in [-1, 1]) and the outputs it declares (`fake`:
    images in [-1, 1] [N, C, H, W], or points [N, 2])."""
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        raise GankitError("ONNX export needs the onnx package: pip install 'gankit[onnx]'") from None
    pipeline = load_generator(source)
    recipe = pipeline.recipe
    example = recipe.example_inputs(2, pipeline.fields)
    inputs = list(example)
    # an input the recipe hands back as an output (a CycleGAN shows its inputs beside its translations) stays an input
    outputs = [name for name in pipeline.generate(example) if name in recipe.outputs and name not in example]
    graph = GenerateGraph(recipe.generate, pipeline.nets, inputs, outputs).eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(graph, tuple(example.values()), str(out), input_names=inputs, output_names=outputs,
                      dynamic_axes={name: {0: "n"} for name in [*inputs, *outputs]}, opset_version=opset,
                      dynamo=False)
    return out


def export_safetensors(source: Path, out: Path) -> Path:
    """Copy the lean export (generator.safetensors + generator.json) into the folder `out`."""
    weights, meta = find_export(source)
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file; the safetensors export writes a folder")
    if out.resolve() == weights.parent.resolve():
        raise GankitError(f"--out {out} is the folder the export comes from; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(weights, out / "generator.safetensors")
    shutil.copy2(meta, out / "generator.json")
    return out / "generator.safetensors"


def export(source: Path, fmt: str, out: Path | None = None) -> Path:
    if fmt not in FORMATS:
        raise GankitError(f"unknown export format '{fmt}'; valid: {', '.join(FORMATS)}")
    source = Path(source)
    folder = source if source.is_dir() else source.parent
    if fmt == "onnx":
        target = Path(out) if out else folder / "generator.onnx"
        if target.is_dir() or target.suffix != ".onnx":
            raise GankitError(f"--out {target} must be a file name ending in .onnx")
        return export_onnx(source, target)
    return export_safetensors(source, Path(out) if out else folder / "export")
