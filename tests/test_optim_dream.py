"""SigmoidImage, the smoothed normalized step and deep_dream's sigmoid parameterization (notebook 09)."""

import pytest
import torch
from torch import nn

from course_utils import images, optim


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 6, 3, stride=2, padding=1), nn.ReLU())


def photo(size: int = 32) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    x = images.gaussian_blur(torch.rand(1, 3, size, size, generator=gen), 2.0)
    return (0.1 + 0.8 * (x - x.min()) / (x.max() - x.min())).clamp(0, 1)  # in [0.1, 0.9]: nothing clipped


# ----------------------------------------------------------------------------- SigmoidImage
def test_sigmoid_image_starts_at_its_init_and_stays_inside_0_1():
    x = photo()
    param = optim.SigmoidImage(x)
    torch.testing.assert_close(param.image(), x, rtol=0, atol=1e-6)
    with torch.no_grad():
        param.logits.add_(8.0)  # far past white: a clipped image would be pure white here
    img = param.image()
    assert bool((img < 1).all()) and bool((img > 0).all())
    param.constrain()  # nothing to clip
    assert torch.equal(param.image(), img)


def test_sigmoid_image_passes_the_gradient_through_the_sigmoid():
    x = photo(8)
    param = optim.SigmoidImage(x)
    param.image().sum().backward()
    torch.testing.assert_close(param.logits.grad, x * (1 - x), rtol=1e-4, atol=1e-6)  # σ' = σ(1-σ)


def test_sigmoid_image_holds_black_and_white_a_margin_inside():
    param = optim.SigmoidImage(torch.tensor([0.0, 1.0]).view(1, 1, 1, 2), margin=0.01)
    torch.testing.assert_close(param.image().flatten(), torch.tensor([0.01, 0.99]), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0,1\]"):
        optim.SigmoidImage(torch.full((1, 3, 4, 4), 2.0))
    with pytest.raises(ValueError, match="margin"):
        optim.SigmoidImage(photo(4), margin=0.0)


def test_the_loop_optimizes_a_sigmoid_image():
    net, x = tiny_net(), photo()
    result = optim.optimize_image(
        net, optim.layer_norm("3"), optim.SigmoidImage(x), steps=10, lr=0.05, optimizer="normalized", progress=False
    )
    assert result.history[-1] > result.history[0]
    assert bool((result.image > 0).all()) and bool((result.image < 1).all())


# ----------------------------------------------------------------------------- the smoothed normalized step
def test_smoothed_normalized_step_by_hand():
    torch.manual_seed(0)
    g = torch.randn(1, 3, 16, 16)
    plain, smooth = torch.zeros(1, 3, 16, 16, requires_grad=True), torch.zeros(1, 3, 16, 16, requires_grad=True)
    plain.grad, smooth.grad = g.clone(), g.clone()
    optim.NormalizedGradient([plain], lr=0.1).step()
    optim.NormalizedGradient([smooth], lr=0.1, smooth=1.0).step()
    blurred = images.gaussian_blur(g, 1.0)
    torch.testing.assert_close(plain.detach(), -0.1 * g / g.abs().mean())
    torch.testing.assert_close(smooth.detach(), -0.1 * blurred / blurred.abs().mean())
    assert optim.high_frequency_fraction(smooth.detach()) < 0.5 * optim.high_frequency_fraction(plain.detach())
    with pytest.raises(ValueError, match="smooth"):
        optim.NormalizedGradient([plain], lr=0.1, smooth=-1)


# ----------------------------------------------------------------------------- deep_dream
def test_a_sigmoid_dream_clips_nothing_a_pixel_dream_does():
    net, x = tiny_net(), photo()
    settings = dict(octaves=2, steps_per_octave=10, step_size=0.1, jitter_px=2, progress=False)
    clipped = optim.deep_dream(net, x, "3", **settings)
    sigmoid = optim.deep_dream(net, x, "3", parameterization="sigmoid", **settings)
    assert optim.clipped_fraction(x) == 0
    assert optim.clipped_fraction(clipped) > 0.05  # big pixel steps pile values onto 0 and 1
    assert optim.clipped_fraction(sigmoid) == 0
    for dream in (clipped, sigmoid):
        energy = optim.layer_features(net, "3", dream).pow(2).mean()
        assert energy > 1.5 * optim.layer_features(net, "3", x).pow(2).mean()


def test_smoothing_the_dream_gradient_makes_the_added_detail_coarser():
    net, x = tiny_net(), photo()
    settings = dict(
        octaves=1, steps_per_octave=10, step_size=0.05, jitter_px=0, parameterization="sigmoid", progress=False
    )
    raw = optim.deep_dream(net, x, "3", **settings)
    smooth = optim.deep_dream(net, x, "3", smooth=1.5, **settings)
    assert optim.high_frequency_fraction(smooth - x) < 0.7 * optim.high_frequency_fraction(raw - x)


def test_the_default_dream_is_the_clipped_pixel_dream_of_the_plain_loop():
    net, x = tiny_net(), photo()
    dream = optim.deep_dream(net, x, "3", octaves=1, steps_per_octave=5, step_size=0.02, jitter_px=0, progress=False)
    by_hand = optim.optimize_image(
        net, optim.layer_norm("3"), optim.PixelImage(init=x), steps=5, lr=0.02, optimizer="normalized", progress=False
    ).image
    torch.testing.assert_close(dream, by_hand, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"parameterization": "logit"}, "parameterization"), ({"smooth": -1.0}, "smooth")]
)
def test_bad_dream_settings_say_what_to_pass(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.deep_dream(tiny_net(), photo(), "3", progress=False, **kwargs)
