"""optim.parameterizations: both images stay in [0,1] and pass gradients to their parameters."""

import pytest
import torch

from course_utils import optim


def test_fourier_image_is_in_range_and_differentiable():
    param = optim.FourierImage((2, 3, 32, 48), sd=0.5)
    img = param.image()
    assert img.shape == (2, 3, 32, 48) and 0 < img.min() and img.max() < 1
    img.mean().backward()
    assert param.spectrum.grad is not None and param.spectrum.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="decorrelate"):
        optim.FourierImage((1, 1, 28, 28))
    assert optim.FourierImage((1, 1, 28, 28), decorrelate=False).image().shape == (1, 1, 28, 28)


def test_pixel_image_refuses_normalized_input():
    with pytest.raises(ValueError, match="to_tensor"):
        optim.PixelImage(init=torch.full((1, 3, 4, 4), -1.5))


def test_pixel_image_starts_where_told_and_clips():
    x0 = torch.rand(1, 3, 4, 4)
    param = optim.PixelImage(init=x0)
    assert torch.equal(param.image().detach(), x0) and param.pixels.requires_grad
    x0.zero_()  # the image is a copy: changing the photo later does not change it
    assert param.image().detach().sum() > 0
    with torch.no_grad():
        param.pixels[0, 0, 0, 0] = 1.7
    param.constrain()
    assert float(param.pixels.detach().max()) == 1.0
    noise = optim.PixelImage((1, 3, 64, 64), sd=0.1, seed=3).image().detach()
    assert float(noise.mean()) == pytest.approx(0.5, abs=0.01) and float(noise.std()) == pytest.approx(0.1, abs=0.01)
