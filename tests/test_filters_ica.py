"""Tests for course_utils.filters (ICA filters from photo patches) and course_utils.activation_mosaic."""

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.activation_mosaic import activation_mosaic
from course_utils.filters import (
    aliased_power,
    colour_share,
    filter_tiles,
    frequency_profile,
    ica_filters,
    photo_patches,
)


def _grating(freq: float, k: int = 16, channels: int = 1) -> torch.Tensor:
    """One k x k horizontal cosine grating of ``freq`` cycles per pixel, shape (1, channels, k, k)."""
    x = torch.arange(k, dtype=torch.float32)
    g = torch.cos(2 * np.pi * freq * x).expand(k, k)
    return g.expand(1, channels, k, k).clone()


def test_photo_patches_shape_range_and_seed():
    rng = np.random.default_rng(1)
    imgs = [Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)) for _ in range(3)]
    p = photo_patches(imgs, size=5, n=10, seed=0)
    assert p.shape == (10, 3, 5, 5) and p.dtype == np.float32
    assert 0 <= p.min() and p.max() <= 1
    assert np.array_equal(p, photo_patches(imgs, size=5, n=10, seed=0))
    assert not np.array_equal(p, photo_patches(imgs, size=5, n=10, seed=1))
    # every patch is a real crop of one of the images
    arrays = [np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255 for im in imgs]
    first = p[0]
    found = any(np.array_equal(a[:, y : y + 5, x : x + 5], first) for a in arrays for y in range(36) for x in range(26))
    assert found


def test_photo_patches_bad_input():
    small = Image.new("RGB", (4, 4))
    with pytest.raises(ValueError, match="smaller than one 5x5 patch"):
        photo_patches([small], size=5, n=3)
    with pytest.raises(ValueError, match="at least one image"):
        photo_patches([], size=5, n=3)
    with pytest.raises(ValueError, match="n must be"):
        photo_patches([small], size=2, n=0)


def test_ica_recovers_known_sparse_sources():
    # patches built as sparse (Laplacian) mixtures of 6 known patterns: ICA must find one filter per pattern
    rng = np.random.default_rng(0)
    k = 4
    basis = rng.normal(size=(6, 3 * k * k))
    basis -= basis.mean(1, keepdims=True)  # ica_filters removes each patch's mean, so use zero-mean patterns
    sources = rng.laplace(size=(5000, 6))
    patches = (sources @ basis).reshape(-1, 3, k, k)
    learned = ica_filters(patches, n_filters=6, seed=0)
    assert learned.filters.shape == (6, 3, k, k) and learned.basis.shape == (6, 3, k, k)
    # filter i applied to pattern j: close to a scaled permutation matrix
    response = np.abs(learned.filters.flatten(1).double().numpy() @ basis.T)
    response /= response.max(axis=1, keepdims=True)
    assert sorted(response.argmax(1).tolist()) == list(range(6))
    assert (np.sort(response, axis=1)[:, -2] < 0.1).all()  # each filter answers one pattern only


def test_ica_filters_sorted_smoothest_first_and_bad_input():
    from course_utils.weights import filter_roughness

    rng = np.random.default_rng(0)
    patches = rng.laplace(size=(500, 1, 4, 4))
    learned = ica_filters(patches, n_filters=5)
    r = filter_roughness(learned.filters)
    assert torch.all(r[1:] >= r[:-1])
    with pytest.raises(ValueError, match="at most the patch dimension"):
        ica_filters(patches, n_filters=17)
    with pytest.raises(ValueError, match=r"\(N, C, k, k\)"):
        ica_filters(patches[:, 0])


def test_colour_share():
    gray = torch.randn(1, 1, 5, 5).expand(1, 3, 5, 5)
    opponent = torch.randn(1, 1, 5, 5) * torch.tensor([1.0, -1.0, 0.0]).view(1, 3, 1, 1)
    share = colour_share(torch.cat([gray, opponent]))
    assert share[0] == pytest.approx(0, abs=1e-6) and share[1] == pytest.approx(1, abs=1e-6)
    with pytest.raises(ValueError, match="RGB filters"):
        colour_share(torch.zeros(2, 1, 3, 3))


def test_aliased_power_follows_nyquist():
    slow, fast = _grating(1 / 16, k=32), _grating(0.25, k=32)  # 1/16 and 1/4 cycle per pixel
    w = torch.cat([slow, fast])
    at4, at2, at1 = aliased_power(w, 4, pad=32), aliased_power(w, 2, pad=32), aliased_power(w, 1, pad=32)
    assert at4[0] < 1e-6 and at4[1] > 0.99  # stride 4: Nyquist 1/8 lies between them
    assert at2[0] < 1e-6 and at2[1] < 1e-6 + 0.5  # 1/4 is exactly stride 2's Nyquist: not above it
    assert torch.all(at1 < 1e-6)
    with pytest.raises(ValueError, match="stride"):
        aliased_power(w, 0)


def test_frequency_profile_rows_sum_to_one_and_peak_at_grating():
    centres, profile = frequency_profile(_grating(0.25, k=32), bins=10, pad=32)
    assert profile.shape == (1, 10) and np.allclose(profile.sum(1), 1)
    assert 0.2 <= centres[profile[0].argmax()] <= 0.3


def test_filter_tiles_layout():
    w = torch.zeros(5, 3, 2, 2)
    w[2, 0, 0, 0] = 1.0  # filter 2 has one red top-left pixel
    tiles = filter_tiles(w, ncols=3, pad=1)
    assert tiles.shape == (2 * 3 + 1, 3 * 3 + 1, 3)
    assert tiles[1, 7].tolist() == [1.0, 0.0, 0.0]  # row 0, column 2
    assert tiles[0].min() == 1.0  # the top gap is white
    with pytest.raises(ValueError, match="not images"):
        filter_tiles(torch.zeros(2, 4, 3, 3))


def test_activation_mosaic_shared_scale_and_zero_black():
    act = torch.zeros(1, 4, 2, 2)
    act[0, 0] = 1.0
    act[0, 1] = 4.0
    m = activation_mosaic(act, ncols=2, vmax=4.0, pad=1)
    assert m.image.shape == (7, 7)  # 2 x 2 maps of 2 x 2 pixels, 1-pixel gaps
    assert m.image[1, 1] == pytest.approx(0.25) and m.image[1, 4] == pytest.approx(1.0)  # one scale
    assert m.image[4, 1] == 0.0 and m.zero_share == pytest.approx(0.5)  # zero maps stay black
    assert m.channels == [0, 1, 2, 3]
    default = activation_mosaic(act, percentile=100)
    assert default.vmax == pytest.approx(4.0)


def test_activation_mosaic_bad_input():
    with pytest.raises(ValueError, match="negative"):
        activation_mosaic(-torch.ones(2, 3, 3))
    with pytest.raises(ValueError, match="has 2 channels"):
        activation_mosaic(torch.ones(2, 3, 3), channels=3)
    with pytest.raises(ValueError, match="out of range"):
        activation_mosaic(torch.ones(2, 3, 3), channels=[5])
    with pytest.raises(ValueError, match=r"\(C,H,W\)"):
        activation_mosaic(torch.ones(3, 3))
