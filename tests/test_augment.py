import pytest
import torch

from gankit.augment import color, cutout, diff_augment, parse_policy, translation
from gankit.errors import GankitError
from gankit.recipes import StepContext


def gen(seed=0):
    return StepContext(torch.Generator().manual_seed(seed), torch.device("cpu"))


def test_empty_policy_is_the_identity():
    x = torch.randn(4, 3, 8, 8)
    assert diff_augment(x, parse_policy(""), gen()) is x


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_shapes_are_kept_and_gradients_flow(policy):
    x = torch.randn(5, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, parse_policy(policy), gen())
    assert y.shape == x.shape
    (grad,) = torch.autograd.grad(y.square().sum(), x)
    assert grad.abs().sum() > 0


def test_augmentations_repeat_with_the_generator():
    x = torch.randn(5, 1, 16, 16)
    policy = parse_policy("color,translation,cutout")
    assert torch.equal(diff_augment(x, policy, gen(3)), diff_augment(x, policy, gen(3)))
    assert not torch.equal(diff_augment(x, policy, gen(3)), diff_augment(x, policy, gen(4)))


def test_translation_moves_pixels_and_fills_with_zero():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    y = translation(x, gen())
    assert torch.all(y.sum((1, 2, 3)) == 1.0)  # the lit pixel moves by at most 1 px (1/8 of 8) and stays inside
    assert (y[:, 0, 4, 4] == 0).any()


def test_cutout_zeroes_a_quarter_or_less():
    x = torch.ones(32, 1, 8, 8)
    y = cutout(x, gen())
    zeroed = (y == 0).float().mean((1, 2, 3))
    assert torch.all(zeroed <= 0.25 + 1e-6) and torch.all(zeroed > 0)


def test_color_changes_values_but_not_shape():
    x = torch.rand(8, 3, 4, 4)
    assert not torch.allclose(color(x, gen()), x)


def test_unknown_policy():
    with pytest.raises(GankitError, match="unknown DiffAugment policy 'flip'"):
        parse_policy("color,flip")
