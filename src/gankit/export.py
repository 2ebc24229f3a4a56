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


class _Unconditional(nn.Module):
    def __init__(self, G: nn.Module):
        super().__init__()
        self.G = G

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.G(z)


class _Conditional(_Unconditional):
    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.G(z, c)


def export_onnx(source: Path, out: Path, opset: int = 17) -> Path:
    """ONNX graph: input `z` float32 [N, z_dim] (and `c` int64 [N] when conditional), output `samples`,
    float32 in G's range ([-1, 1] images [N, C, H, W], or points [N, 2])."""
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        raise GankitError("ONNX export needs the onnx package: pip install 'gankit[onnx]'") from None
    generator = load_generator(source)
    z = torch.randn(2, generator.z_dim)
    if generator.conditional:
        model, inputs, names = _Conditional(generator.G), (z, torch.tensor([0, 1])), ["z", "c"]
    else:
        model, inputs, names = _Unconditional(generator.G), (z,), ["z"]
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model.eval(), inputs, str(out), input_names=names, output_names=["samples"],
                      dynamic_axes={name: {0: "n"} for name in [*names, "samples"]}, opset_version=opset,
                      dynamo=False)
    return out


def export_safetensors(source: Path, out: Path) -> Path:
    """Copy the lean export (generator.safetensors + generator.json) into the folder `out`."""
    weights, meta = find_export(source)
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
        return export_onnx(source, Path(out) if out else folder / "generator.onnx")
    return export_safetensors(source, Path(out) if out else folder / "export")
