"""Weights: filters scale to [0,1] for display, and roughness orders smooth < noisy filters."""

import math

import pytest
import torch
from torch import nn

from course_utils.weights import (
    conv_weight,
    filter_mosaic,
    filter_roughness,
    filter_slices,
    filters_as_images,
    noise_roughness,
    normalize_filters,
    normalize_symmetric,
)


def smooth_ramps(n: int = 8, k: int = 7) -> torch.Tensor:
    """Linear ramps in n directions: the smoothest non-constant filters, (n,1,k,k)."""
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, k), torch.linspace(-1, 1, k), indexing="ij")
    angles = torch.arange(n) * math.pi / n
    return torch.stack([torch.cos(a) * xs + torch.sin(a) * ys for a in angles])[:, None]


def test_normalize_filters_maps_each_filter_to_unit_range():
    torch.manual_seed(0)
    w = torch.randn(5, 3, 4, 4) * torch.tensor([0.01, 1, 10, 100, 1000]).view(-1, 1, 1, 1)
    out = normalize_filters(w)
    assert out.shape == w.shape
    flat = out.flatten(1)
    assert torch.allclose(flat.min(1).values, torch.zeros(5)) and torch.allclose(flat.max(1).values, torch.ones(5))
    # an affine map per filter: the order of the weights inside a filter is unchanged
    assert torch.equal(w[2].flatten().argsort(), out[2].flatten().argsort())


def test_constant_filter_is_grey_and_symmetric_keeps_zero_grey():
    w = torch.zeros(2, 1, 3, 3)
    w[1, 0, 1, 1] = -2.0
    assert torch.all(normalize_filters(w)[0] == 0.5)
    sym = normalize_symmetric(w)
    assert sym[1, 0, 1, 1] == 0.0 and sym[1, 0, 0, 0] == 0.5 and torch.all(sym[0] == 0.5)


def test_filters_as_images_rgb_and_gray():
    rgb = filters_as_images(torch.randn(4, 3, 3, 3))
    gray = filters_as_images(torch.randn(6, 1, 7, 7))
    assert len(rgb) == 4 and rgb[0].shape == (3, 3, 3)
    assert len(gray) == 6 and gray[0].shape == (7, 7)
    assert all(0 <= img.min() and img.max() <= 1 for img in rgb + gray)
    with pytest.raises(ValueError, match="filter_slices"):
        filters_as_images(torch.randn(4, 32, 3, 3))


def test_filter_slices_shape_range_and_errors():
    w = torch.randn(64, 32, 3, 3)
    s = filter_slices(w, [0, 5, 7])
    assert s.shape == (3, 32, 3, 3) and 0 <= s.min() and s.max() <= 1
    assert torch.allclose(s[1], normalize_symmetric(w[5:6])[0])
    with pytest.raises(ValueError, match="out of range"):
        filter_slices(w, [64])


def test_roughness_of_known_filters():
    k = 7
    assert torch.allclose(filter_roughness(torch.ones(1, 1, k, k)), torch.zeros(1))
    checker = (torch.arange(k).view(-1, 1) + torch.arange(k)) % 2 * 2.0 - 1  # +-1: every neighbour differs by 2
    expected = 2 * k * (k - 1) * 4 / (k * k)  # pairs * 2**2 / squared norm
    assert torch.allclose(filter_roughness(checker.view(1, 1, k, k)), torch.tensor([expected]))
    # roughness ignores the scale of a filter
    w = torch.randn(3, 2, 5, 5)
    assert torch.allclose(filter_roughness(w), filter_roughness(w * 37.0), atol=1e-5)


def test_smooth_filters_are_less_rough_than_noise():
    torch.manual_seed(0)
    smooth = filter_roughness(smooth_ramps())
    noise = filter_roughness(torch.randn(2000, 1, 7, 7))
    assert smooth.max() < 0.5 < 3.0 < noise.mean()
    assert abs(noise.mean().item() - noise_roughness(7)) < 0.05
    blurred = torch.nn.functional.avg_pool2d(torch.randn(200, 1, 9, 9), 3, stride=1)  # noise, smoothed: 7x7
    assert filter_roughness(blurred).mean() < 0.5 * noise.mean()


def test_conv_weight_reads_a_named_conv():
    model = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU())
    assert conv_weight(model, "0").shape == (4, 1, 5, 5)
    with pytest.raises(ValueError, match="not a Conv2d"):
        conv_weight(model, "1")
    with pytest.raises(ValueError, match="out, in, kh, kw"):
        normalize_filters(torch.randn(3, 3))


def test_filter_mosaic_places_tiles():
    tiles = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    m = filter_mosaic(tiles, pad=1, pad_value=-1)
    assert m.shape == (2 * 3 + 1, 3 * 3 + 1)
    assert torch.equal(m[4:6, 7:9], tiles[1, 2]) and m[0].eq(-1).all() and m[:, 3].eq(-1).all()
