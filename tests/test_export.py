import numpy as np
import pytest
import torch

from gankit.config import resolve
from gankit.errors import GankitError
from gankit.export import export
from gankit.sampling import load_generator
from gankit.trainer import Trainer

from conftest import TINY

onnxruntime = pytest.importorskip("onnxruntime")


def train(tmp_path, *extra):
    cfg = resolve("mnist-dcgan", TINY + ["dcgan.g_width=8", "dcgan.d_width=8", "train.steps=3", *extra])
    Trainer(cfg, tmp_path, progress=False).fit()
    return load_generator(tmp_path)


@pytest.mark.parametrize("extra", [["gan.clusters=0"], ["gan.conditional=projection", "gan.clusters=0"],
                                   ["gan.clusters=3"], ["gan.conditional=projection", "gan.clusters=2"]])
def test_onnx_generator_matches_pytorch(tmp_path, extra):
    G = train(tmp_path, *extra)
    path = export(tmp_path, "onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    g = torch.Generator().manual_seed(1)
    inputs = {"z": torch.randn(5, G.recipe.options.z_dim, generator=g)}
    if G.recipe.clusters:  # u picks each sample's cluster, inside the graph
        inputs["u"] = torch.tensor([0.0, 0.3, 0.5, 0.9, 0.999999])
    if G.conditional:
        inputs["c"] = torch.tensor([0, 3, 7, 7, 9])
    feeds = {k: v.numpy() for k, v in inputs.items()}
    assert [i.name for i in session.get_inputs()] == list(feeds) and [o.name for o in session.get_outputs()] == ["fake"]
    (onnx_out,) = session.run(["fake"], feeds)
    torch_out = G.generate(inputs)["fake"].numpy()
    assert onnx_out.shape == (5, 1, 28, 28)
    assert np.allclose(onnx_out, torch_out, atol=1e-5)


def test_safetensors_export_and_python_api(tmp_path):
    G = train(tmp_path)
    weights = export(tmp_path, "safetensors", tmp_path / "shipped")
    again = load_generator(weights)
    images = again.sample(4, seed=2)
    assert images.dtype == torch.uint8 and images.shape == (4, 1, 28, 28)
    assert torch.equal(images, G.sample(4, seed=2))
    with pytest.raises(GankitError, match="unknown export format"):
        export(tmp_path, "tflite")
