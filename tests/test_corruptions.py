"""course_utils.corruptions: each attribute changes what it says by the amount it says; severity 0 changes nothing."""

import math

import pytest
import torch
from torch import nn

from course_utils.adversarial import predict
from course_utils.corruptions import CORRUPTIONS, accuracy_curve, corrupt, rms_change


def square(side: int = 32, half: int = 4, centre: tuple[int, int] = (16, 16)) -> torch.Tensor:
    x = torch.zeros(1, 1, side, side)
    cy, cx = centre
    x[..., cy - half : cy + half, cx - half : cx + half] = 1.0
    return x


def centre_of_mass(x: torch.Tensor) -> torch.Tensor:
    h, w = x.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    m = x[0, 0]
    return torch.stack([(m * xs).sum() / m.sum(), (m * ys).sum() / m.sum()])


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_severity_zero_is_the_identity_and_a_copy(kind):
    x = torch.rand(3, 3, 20, 24)
    out = corrupt(x, kind, 0)
    torch.testing.assert_close(out, x, rtol=0, atol=0)
    assert out.data_ptr() != x.data_ptr()
    assert not torch.equal(corrupt(x, kind, 0.5), x)  # and a severity does change the image


def test_accuracy_at_severity_zero_is_the_clean_accuracy():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 4))
    x, y = torch.rand(50, 1, 8, 8), torch.randint(0, 4, (50,))
    clean = float((predict(model, x) == y).float().mean())
    curve = accuracy_curve(model, x, y, "noise", [0, 0.3], batch_size=16)
    assert curve[0] == pytest.approx(clean, abs=1e-9)
    agreement = accuracy_curve(model, x, predict(model, x), "blur", [0, 5.0])
    assert agreement[0] == 1.0 and agreement[1] < 1.0


def test_rotation_by_90_degrees_is_a_quarter_turn_and_360_the_identity():
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(corrupt(x, "rotation", 90), torch.rot90(x, 1, dims=(2, 3)), rtol=0, atol=1e-5)
    torch.testing.assert_close(corrupt(x, "rotation", 360), x, rtol=0, atol=1e-5)


def test_translation_moves_the_object_by_the_distance_given():
    x = square()
    for pixels in (2, 5):
        moved = corrupt(x, "translation", pixels, seed=3)
        shift = centre_of_mass(moved) - centre_of_mass(x)
        torch.testing.assert_close(shift.norm(), torch.tensor(float(pixels)), rtol=0, atol=0.01)
        torch.testing.assert_close(moved.sum(), x.sum(), rtol=1e-4, atol=0)  # nothing falls off the edge


def test_scale_shrinks_about_the_centre_and_crop_enlarges():
    x = square(half=8)
    half_size = corrupt(x, "scale", 0.5)
    torch.testing.assert_close(half_size.sum(), x.sum() / 4, rtol=0.02, atol=0)  # half the width and height
    torch.testing.assert_close(centre_of_mass(half_size), centre_of_mass(x), rtol=0, atol=0.01)
    cropped = corrupt(square(half=4), "crop", 0.5)  # the middle half, enlarged 2x
    torch.testing.assert_close(cropped.sum(), square(half=4).sum() * 4, rtol=0.05, atol=0)


def test_contrast_noise_and_blur_act_on_the_pixel_values_as_said():
    x = torch.rand(4, 3, 16, 16)
    low = corrupt(x, "contrast", 0.75)
    torch.testing.assert_close(low.mean((1, 2, 3)), x.mean((1, 2, 3)), rtol=0, atol=1e-6)
    torch.testing.assert_close(low.std((1, 2, 3)), 0.25 * x.std((1, 2, 3)), rtol=1e-4, atol=0)
    grey = torch.full((1, 1, 64, 64), 0.5)
    noisy = corrupt(grey, "noise", 0.1, seed=1)
    assert abs(float((noisy - grey).std()) - 0.1) < 0.005
    torch.testing.assert_close(noisy, corrupt(grey, "noise", 0.1, seed=1), rtol=0, atol=0)
    assert not torch.equal(noisy, corrupt(grey, "noise", 0.1, seed=2))
    changes = rms_change(x, "blur", [0, 0.5, 1, 2])
    assert changes[0] == 0 and bool((changes[1:] > changes[:-1]).all())


def test_bad_corruptions_say_the_valid_range():
    x = torch.rand(1, 1, 8, 8)
    with pytest.raises(ValueError, match="choose one of"):
        corrupt(x, "fog", 1)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        corrupt(x, "contrast", 1.5)
    with pytest.raises(ValueError, match=">= 0"):
        corrupt(x, "blur", -1)
    with pytest.raises(ValueError, match="finite"):
        corrupt(x, "noise", math.nan)
    with pytest.raises(ValueError, match="empty"):
        accuracy_curve(nn.Flatten(), x, 0, "blur", [])
