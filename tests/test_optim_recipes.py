"""optim.recipes: each technique does what its paper says, measured by the numbers the notebooks check."""

import pytest
import torch
from torch import nn

from course_utils import data, hooks, images, models, optim


@pytest.fixture(scope="module")
def fashionnet():
    return models.load_model("fashionnet")


@pytest.fixture(scope="module")
def effnet():
    return models.load_model("efficientnet_lite0")


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)
    )


# ----------------------------------------------------------------------------- measures
def test_high_frequency_fraction_separates_noise_from_smooth():
    torch.manual_seed(0)
    noise = torch.rand(1, 3, 64, 64)
    ramp = torch.linspace(0, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    blob = images.gaussian_blur(noise, 4.0)
    # white noise spreads its energy evenly: the share is the area outside radius 0.25 of the unit square
    assert optim.high_frequency_fraction(noise) == pytest.approx(1 - torch.pi * 0.25**2, abs=0.03)
    assert optim.high_frequency_fraction(ramp) < 0.05
    assert optim.high_frequency_fraction(blob) < 0.05


def test_class_probability_is_the_softmax_of_the_logits():
    net, x = tiny_net(), torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        expected = torch.softmax(net(x), dim=1)[0, 2]
    assert optim.class_probability(net, x, 2) == pytest.approx(float(expected), abs=1e-6)
    with pytest.raises(ValueError, match="3 classes"):
        optim.class_probability(net, x, 3)


def test_layer_features_is_the_layer_output_and_stops_there():
    net, x = tiny_net(), torch.rand(2, 3, 8, 8)
    calls = []
    with hooks.hooked(forward=[(net[4], lambda *a: calls.append(1))]):
        feats = optim.layer_features(net, "1", x)
    with torch.no_grad():
        torch.testing.assert_close(feats, net[1](net[0](x)), rtol=0, atol=1e-6)
    assert calls == [] and not feats.requires_grad
    assert all(not m._forward_hooks for m in net.modules())
    with pytest.raises(ValueError, match="no layer 'conv'"):
        optim.layer_features(net, "conv", x)


def test_gram_error_by_hand():
    # a 1x1 convolution with weight 1 passes the image through: features = pixels
    net = nn.Sequential(nn.Conv2d(1, 1, 1, bias=False))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    image = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    reference = torch.ones(1, 1, 2, 2)
    # G(image) = (1 + 4 + 9 + 16) / 4 = 7.5, G(reference) = 1: (7.5 - 1)² / 1² = 42.25
    assert optim.gram_error(net, image, reference, ["0"]) == pytest.approx(42.25)
    assert optim.gram_error(net, image, reference, ["0", "0"]) == pytest.approx(42.25)  # a mean over layers
    assert optim.gram_error(net, image, image, ["0"]) == 0.0
    with pytest.raises(ValueError, match="at least one layer"):
        optim.gram_error(net, image, reference, [])


# ----------------------------------------------------------------------------- techniques
def test_class_visualization_convinces_the_model(effnet):
    target = 130  # flamingo
    img = optim.class_visualization(effnet, target, steps=60, size=64, l2_weight=1e-3, jitter_px=1, progress=False)
    assert img.shape == (1, 3, 64, 64)
    assert optim.class_probability(effnet, img, target) >= 0.9


def test_minimizing_a_channel_lowers_it(fashionnet):
    low = optim.channel_visualization(
        fashionnet, "relu2", 5, steps=1, size=28, sign=-1, fourier=False, transforms=lambda x: x, progress=False
    )
    up = optim.optimize_image(
        fashionnet, optim.channel("conv2", 5), optim.PixelImage(init=low), steps=20, progress=False
    )
    down = optim.optimize_image(
        fashionnet, -optim.channel("conv2", 5), optim.PixelImage(init=low), steps=20, progress=False
    )
    assert up.history[-1] > up.history[0] and down.history[-1] > down.history[0]


def test_channel_visualization_sign_minimizes_or_maximizes(fashionnet):
    def mean(image: torch.Tensor) -> float:
        return float(optim.layer_features(fashionnet, "conv2", image)[:, 5].mean())

    start = optim.PixelImage((1, 1, 28, 28), seed=0).image().detach()  # where channel_visualization starts
    low, high = (
        optim.channel_visualization(fashionnet, "conv2", 5, steps=30, size=28, sign=sign, fourier=False, progress=False)
        for sign in (-1, +1)
    )
    # measured (FashionNet v2): about -1.70 < -0.30 < -0.14 (conv2 is before the ReLU, so it can go below 0)
    assert mean(low) < mean(start) - 0.5 and mean(high) > mean(start) + 0.08
    with pytest.raises(ValueError, match="sign"):
        optim.channel_visualization(fashionnet, "conv2", 5, sign=0)


def test_inversion_matches_features(fashionnet):
    x = data.fashion_mnist("test").images[:1]
    inv = optim.invert_features(fashionnet, "relu2", x, steps=60, tv_weight=0.0, progress=False)
    noise = torch.rand_like(x)
    assert optim.feature_error(fashionnet, "relu2", inv, x) < 0.5 * optim.feature_error(fashionnet, "relu2", noise, x)


def test_inversion_from_given_pixels(fashionnet):
    x = data.fashion_mnist("test").images[:2]
    start = torch.full_like(x[:1], 0.5)
    first = optim.invert_features(
        fashionnet, "relu2", x[:1], steps=1, lr=1e-4, tv_weight=0.0, start=start, progress=False
    )
    torch.testing.assert_close(first, start, atol=2e-3, rtol=0)  # one tiny step from grey stays grey
    with pytest.raises(ValueError, match="shape of image"):
        optim.invert_features(fashionnet, "relu2", x, steps=1, start=start, progress=False)


def test_deep_dream_amplifies_the_layer(effnet):
    x = torch.rand(1, 3, 48, 48) * 0.5 + 0.25
    dreamed = optim.deep_dream(effnet, x, "blocks.2", octaves=2, steps_per_octave=5, progress=False)
    before = optim.layer_features(effnet, "blocks.2", x).pow(2).mean()
    after = optim.layer_features(effnet, "blocks.2", dreamed).pow(2).mean()
    assert dreamed.shape == x.shape and 0 <= dreamed.min() and dreamed.max() <= 1
    assert after > 1.5 * before


def test_texture_synthesis_lowers_the_gram_error(effnet):
    torch.manual_seed(0)
    style, layers = torch.rand(1, 3, 32, 32), ["blocks.0", "blocks.1"]
    result = optim.style_transfer(
        effnet,
        style,
        style,
        "blocks.1",
        layers,
        content_weight=0,
        style_weight=1.0,
        steps=10,
        init="noise",
        progress=False,
    )
    start = optim.PixelImage(tuple(style.shape), seed=0).image().detach()  # init="noise" starts here
    before = optim.gram_error(effnet, start, style, layers)
    after = optim.gram_error(effnet, result.image, style, layers)
    assert after < 0.1 * before  # measured: 0.40 -> 0.012 in 10 L-BFGS steps
    with pytest.raises(ValueError, match="nothing to optimize"):
        optim.style_transfer(effnet, style, style, "blocks.1", [], content_weight=0, style_weight=0)
