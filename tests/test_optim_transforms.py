"""optim.transforms: each transform changes the image (or its shape) exactly as documented."""

import torch

from course_utils import optim


def test_transforms_keep_or_change_shape_as_documented():
    x = torch.rand(1, 3, 20, 20)
    assert optim.pad(3)(x).shape == (1, 3, 26, 26)
    assert torch.equal(optim.random_rotate([0])(x), optim.random_rotate([0])(x))
    assert torch.allclose(optim.random_rotate([0])(x), x, atol=1e-5)
    shifted = optim.jitter(2)(x)
    shifts = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
    assert any(torch.equal(shifted, torch.roll(x, s, dims=(2, 3))) for s in shifts)
    assert optim.random_scale([2.0])(x).shape == (1, 3, 40, 40)
    assert optim.compose([optim.pad(2), optim.random_scale([0.5])])(x).shape == (1, 3, 12, 12)


def test_rotating_a_quarter_turn_equals_rot90():
    x = torch.rand(1, 3, 8, 8)
    # a 90° rotation of a square image moves pixels exactly onto pixels: bilinear sampling changes nothing
    turned = optim.random_rotate([90])(x)
    assert any(torch.allclose(turned, torch.rot90(x, k, dims=(2, 3)), atol=1e-5) for k in (1, 3))


def test_pad_uses_the_given_value_and_keeps_the_centre():
    x = torch.rand(1, 3, 4, 4)
    padded = optim.pad(2, value=0.25)(x)
    assert torch.equal(padded[..., 2:-2, 2:-2], x)
    assert torch.all(padded[..., :2, :] == 0.25) and torch.all(padded[..., :, -2:] == 0.25)
