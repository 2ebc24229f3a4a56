import pytest
import torch

from gankit.config import ModelConfig
from gankit.errors import GankitError
from gankit.nets import build_networks


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_mlp_is_exactly_the_tutorial_network():
    G, D = build_networks(ModelConfig(net="mlp", g_norm="none", d_norm="none"), (1, 28, 28))
    # G: 100-256-512-1024-784, D: 784-512-256-1 (weights + biases)
    assert count(G) == (100 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784)
    assert count(D) == (784 * 512 + 512) + (512 * 256 + 256) + (256 * 1 + 1)
    slopes = {m.negative_slope for m in G.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2}
    assert isinstance(list(G.modules())[-1], torch.nn.Tanh)


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)])
def test_shapes_and_range(net, shape):
    G, D = build_networks(ModelConfig(net=net, g_width=8, d_width=8), shape)
    z = torch.randn(5, G.z_dim)
    x = G(z)
    assert x.shape == (5, *shape)
    assert x.abs().max() <= 1.0
    assert D(x).shape == (5,)


def test_dcgan_rejects_sizes_it_cannot_build():
    with pytest.raises(GankitError, match="resolution"):
        build_networks(ModelConfig(net="dcgan"), (1, 27, 27))


def test_unknown_network_lists_valid_ones():
    with pytest.raises(GankitError, match="unknown network 'nope'; valid: dcgan, mlp"):
        build_networks(ModelConfig(net="nope"), (1, 28, 28))
