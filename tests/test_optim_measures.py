"""optim.measures: layout correlation, clipped share, channel means, peak patches and the feature-error trace."""

import pytest
import torch
from torch import nn

from course_utils import images, optim


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1))


def smooth_image(seed: int = 0, size: int = 64) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    x = images.gaussian_blur(torch.rand(1, 3, size, size, generator=gen), 4.0)
    return (0.1 + 0.8 * (x - x.min()) / (x.max() - x.min())).clamp(0, 1)  # smooth blobs, full contrast


# ----------------------------------------------------------------------------- layout_correlation
def test_layout_correlation_of_an_image_with_itself_its_negative_and_a_flat_image():
    x = smooth_image()
    assert optim.layout_correlation(x, x) == pytest.approx(1.0, abs=1e-6)
    assert optim.layout_correlation(1 - x, x) == pytest.approx(-1.0, abs=1e-6)
    assert optim.layout_correlation(torch.full_like(x, 0.3), x) == 0.0


def test_layout_correlation_ignores_fine_detail_but_not_a_move():
    x = smooth_image()
    gen = torch.Generator().manual_seed(1)
    speckled = (x + 0.2 * (torch.rand(x.shape, generator=gen) - 0.5)).clamp(0, 1)  # same layout, pixel noise added
    moved = torch.roll(x, shifts=(32, 32), dims=(2, 3))  # the same picture, arranged elsewhere
    assert optim.layout_correlation(speckled, x) > 0.9
    assert optim.layout_correlation(moved, x) < optim.layout_correlation(speckled, x) - 0.3


def test_layout_correlation_compares_sizes_and_refuses_batches():
    x = smooth_image(size=64)
    half = torch.nn.functional.interpolate(x, size=(32, 32), mode="area")
    assert optim.layout_correlation(half, x) > 0.95
    with pytest.raises(ValueError, match="one image"):
        optim.layout_correlation(torch.cat([x, x]), x)
    with pytest.raises(ValueError, match=r"\[0,1\]"):
        optim.layout_correlation(x * 255, x)


# ----------------------------------------------------------------------------- clipped_fraction
def test_clipped_fraction_by_hand():
    x = torch.tensor([0.0, 0.001, 0.002, 0.5, 0.999, 1.0, 0.9, 0.1]).view(1, 2, 2, 2)
    # 0.0 and 0.001 round to 0 in 8 bits, 0.999 and 1.0 to 255: 4 of 8
    assert optim.clipped_fraction(x) == pytest.approx(0.5)
    assert optim.clipped_fraction(torch.full((1, 3, 4, 4), 0.5)) == 0.0
    with pytest.raises(ValueError, match="empty"):
        optim.clipped_fraction(torch.zeros(0))


# ----------------------------------------------------------------------------- channel_means
def test_channel_means_are_the_means_over_positions_and_nonnegative_after_a_relu():
    net, x = tiny_net(), smooth_image(size=16)
    with torch.no_grad():
        expected = net[1](net[0](x)).mean(dim=(0, 2, 3))
        signed = net[0](x).mean(dim=(0, 2, 3))
    means = optim.channel_means(net, "1", x)
    torch.testing.assert_close(means, expected, rtol=0, atol=1e-6)
    assert bool((means >= 0).all()) and means.shape == (4,)
    torch.testing.assert_close(optim.channel_means(net, "0", x), signed, rtol=0, atol=1e-6)


# ----------------------------------------------------------------------------- peak_patch
def brightness_net() -> nn.Module:
    """A 1x1 conv whose channel 1 is the mean brightness and channel 0 its negative."""
    conv = nn.Conv2d(3, 2, 1, bias=False)
    with torch.no_grad():
        conv.weight[:] = torch.tensor([[-1 / 3] * 3, [1 / 3] * 3]).view(2, 3, 1, 1)
    return nn.Sequential(conv, nn.ReLU6())


def test_peak_patch_finds_the_bright_square_even_where_the_channel_saturates():
    x = torch.zeros(1, 3, 40, 60)
    x[..., 2:4, 2:4] = 1.0  # a small saturating spot: ReLU6 would tie there with the big square
    x[..., 20:32, 30:42] = 1.0  # the big bright square, 12 x 12 px
    net = brightness_net()
    with torch.no_grad():
        net[0].weight.mul_(20)  # brightness x 20: the channel saturates at 6 on both bright areas
    patch, (top, left) = optim.peak_patch(net, "1", x, channel=1, side=12)
    assert (top, left) == (20, 30) and patch.shape == (1, 3, 12, 12) and bool((patch == 1).all())


def test_peak_patch_stays_inside_the_image_and_checks_its_arguments():
    x = torch.zeros(1, 3, 32, 32)
    x[..., :4, 28:] = 1.0  # bright corner
    patch, (top, left) = optim.peak_patch(brightness_net(), "1", x, channel=1, side=16)
    assert (top, left) == (0, 16) and patch.shape[-2:] == (16, 16)
    with pytest.raises(ValueError, match="channel"):
        optim.peak_patch(brightness_net(), "1", x, channel=2)
    with pytest.raises(ValueError, match="side"):
        optim.peak_patch(brightness_net(), "1", x, channel=0, side=33)


# ----------------------------------------------------------------------------- FeatureErrorTrace
def test_trace_records_the_feature_error_of_the_images_the_loop_reaches():
    net, photo = tiny_net(), smooth_image(size=16)
    trace = optim.FeatureErrorTrace(net, "1", photo, every=5)
    seen = []

    def callback(step, image):
        trace(step, image)  # measures layer "1" while the loop is recording that same layer
        seen.append(image.clone())

    objective = optim.feature_match("1", optim.layer_features(net, "1", photo))
    param = optim.PixelImage((1, 3, 16, 16), seed=0)
    result = optim.optimize_image(net, objective, param, steps=20, lr=0.05, callback=callback, progress=False)
    assert trace.steps == [1, 5, 10, 15, 20]
    for step, err in zip(trace.steps, trace.errors):
        assert err == pytest.approx(optim.feature_error(net, "1", seen[step - 1], photo), rel=1e-6)
    assert trace.errors[-1] == pytest.approx(optim.feature_error(net, "1", result.image, photo), rel=1e-6)
    assert trace.errors[-1] < trace.errors[0]


def test_trace_refuses_an_unknown_layer_at_once():
    with pytest.raises(ValueError, match="no layer"):
        optim.FeatureErrorTrace(tiny_net(), "conv9", smooth_image(size=16))
