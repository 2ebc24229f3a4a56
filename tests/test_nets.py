import copy

import pytest
import torch
import torch.nn as nn

from gankit.errors import GankitError
from gankit.nets import PairSpec, build_pair
from gankit.nets.layers import Flatten, embedding_rows, with_spectral_norm
from gankit.registry import NETWORKS


def build_networks(net, shape, num_classes=0, conditional="none", **options):
    """A G/D pair of family `net` with its default options changed by `options`."""
    return build_pair(net, NETWORKS.options(net)(**options), PairSpec(100, shape, num_classes, conditional))


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_mlp_is_exactly_the_tutorial_network():
    G, D = build_networks("mlp", (1, 28, 28), g_norm="none", d_norm="none")
    # G: 100-256-512-1024-784, D: 784-512-256-1 (weights + biases)
    assert count(G) == (100 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) + (1024 * 784 + 784)
    assert count(D) == (784 * 512 + 512) + (512 * 256 + 256) + (256 * 1 + 1)
    slopes = {m.negative_slope for m in G.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2}
    assert isinstance(list(G.modules())[-1], torch.nn.Tanh)


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 32, 32), (3, 32, 32), (3, 64, 64)])
def test_shapes_and_range(net, shape):
    G, D = build_networks(net, shape, **({"g_width": 8, "d_width": 8} if net == "dcgan" else {}))
    z = torch.randn(5, G.z_dim)
    x = G(z)
    assert x.shape == (5, *shape)
    assert x.abs().max() <= 1.0
    assert D(x).shape == (5,)


def test_dcgan_rejects_sizes_it_cannot_build():
    with pytest.raises(GankitError, match=r"resolution s \* 2\^k"):
        build_networks("dcgan", (1, 27, 27))


def test_unknown_network_lists_valid_ones():
    with pytest.raises(GankitError, match="unknown network 'nope'; valid: dcgan, mlp"):
        build_pair("nope", None, PairSpec(100, (1, 28, 28)))


@pytest.mark.parametrize("net", ["dcgan", "resnet"])
@pytest.mark.parametrize("mode", ["projection", "acgan"])
def test_conditional_networks_use_labels(net, mode):
    G, D = build_networks(net, (1, 28, 28), 10, mode, g_width=8, d_width=8)
    G.eval()
    z = torch.randn(1, G.z_dim).repeat(2, 1)
    c = torch.tensor([1, 7])
    with torch.no_grad():
        for m in G.modules():  # make class gains differ, as training would
            if isinstance(m, torch.nn.Embedding):
                m.weight.normal_()
        x = G(z, c)
    assert x.shape == (2, 1, 28, 28) and not torch.allclose(x[0], x[1])
    assert D(x, c).shape == (2,)
    if mode == "acgan":
        logits, classes = D.forward_with_classes(x)
        assert logits.shape == (2,) and classes.shape == (2, 10)


def test_conditional_needs_labels_and_mlp_refuses():
    with pytest.raises(GankitError, match="needs labelled data"):
        build_networks("dcgan", (1, 28, 28), 0, "projection")
    with pytest.raises(GankitError, match="mlp networks are unconditional"):
        build_networks("mlp", (1, 28, 28), 10, "acgan")
    with pytest.raises(GankitError, match="unknown conditional mode 'cgan'"):
        build_networks("dcgan", (1, 28, 28), 10, "cgan")


def test_spectral_norm_bounds_the_largest_singular_value():
    _, D = build_networks("dcgan", (1, 28, 28), g_width=8, d_width=8, d_spectral_norm=True, d_norm="none")
    D.train()
    torch.manual_seed(0)
    for _ in range(100):  # power iteration converges over forward passes
        D(torch.randn(4, 1, 28, 28))
    D.eval()
    for m in D.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            sigma = torch.linalg.matrix_norm(m.weight.flatten(1), ord=2)
            assert sigma <= 1.0 + 1e-3


@pytest.mark.parametrize("training", [True, False])
def test_spectral_norm_rows_match_the_whole_normalised_table(training):
    """embedding_rows divides only the looked-up rows by sigma: the same rows, gradients and power-iteration
    buffers as spectral_norm's own lookup of the whole normalised table."""
    torch.manual_seed(0)
    ours = with_spectral_norm(torch.nn.ModuleDict({"e": torch.nn.Embedding(40, 24)}))["e"]
    theirs = copy.deepcopy(ours)
    ours.train(training), theirs.train(training)
    c = torch.tensor([3, 3, 0, 39, 17])
    g = torch.randn(5, 24)
    for _ in range(3):  # buffers evolve the same way over several passes
        rows, reference = embedding_rows(ours, c), theirs(c)
        assert torch.equal(rows, reference)
        (rows * g).sum().backward(), (reference * g).sum().backward()
    assert torch.allclose(ours.parametrizations.weight.original.grad, theirs.parametrizations.weight.original.grad,
                          rtol=1e-5, atol=1e-7)
    for name in ("_u", "_v"):
        assert torch.equal(getattr(ours.parametrizations.weight[0], name), getattr(theirs.parametrizations.weight[0], name))
    plain = torch.nn.Embedding(4, 3)
    assert torch.equal(embedding_rows(plain, torch.tensor([1, 2])), plain(torch.tensor([1, 2])))


def test_resnet_shapes():
    G, D = build_networks("resnet", (3, 32, 32), g_width=16, d_width=16)
    x = G(torch.randn(3, G.z_dim))
    assert x.shape == (3, 3, 32, 32) and D(x).shape == (3,)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_flatten_matches_nn_flatten_and_keeps_the_gradient_layout(layout):
    x = torch.randn(3, 4, 5, 6).to(memory_format=layout).requires_grad_(True)
    reference = x.detach().clone().requires_grad_(True)
    weights = torch.randn(4 * 5 * 6)
    (Flatten()(x) @ weights).sum().backward()
    (nn.Flatten()(reference) @ weights).sum().backward()
    assert torch.equal(Flatten()(x), nn.Flatten()(reference))
    assert torch.equal(x.grad, reference.grad)  # same values, C-H-W feature order in both layouts
    assert x.grad.is_contiguous(memory_format=layout)
