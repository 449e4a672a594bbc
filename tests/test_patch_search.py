"""Tests for course_utils.patch_search: the multi-crop search and the one-unit gradient of notebook 03."""

import pytest
import torch
from torch import nn

from course_utils.patch_search import (
    central_share,
    central_window,
    crop_maxima,
    multiscale_crops,
    top_k_purity,
    top_per_photo,
    unit_gradient,
)
from course_utils.patches import LayerMaxima, layer_maxima
from course_utils.receptive_field import ReceptiveField


def tiny_net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, stride=2, padding=1), nn.ReLU())


def test_multiscale_crops_cover_every_pixel_and_copy_the_resized_photo():
    photo = torch.rand(1, 3, 40, 60)
    crops = multiscale_crops([photo], scales=(32, 48), size=32, stride=16)
    # scale 32: 32x48 -> 1 row x 2 cols (0, 16); scale 48: 48x72 -> 2 rows (0, 16) x 4 cols (0, 16, 32, 40)
    assert len(crops) == 2 + 8
    assert crops.pixels.shape == (10, 3, 32, 32)
    big = crops.scale == 48
    covered = torch.zeros(48, 72, dtype=torch.bool)
    for t, lft in zip(crops.top[big].tolist(), crops.left[big].tolist()):
        covered[t : t + 32, lft : lft + 32] = True
    assert covered.all()
    assert (crops.photo == 0).all()


def test_multiscale_crops_rejects_bad_input():
    with pytest.raises(ValueError, match="scales"):
        multiscale_crops([torch.rand(1, 3, 40, 40)], scales=(16,), size=32)
    with pytest.raises(ValueError, match="RGB"):
        multiscale_crops([torch.rand(1, 1, 40, 40)], scales=(32,), size=32)


def test_crop_maxima_equals_layer_maxima_without_border_and_skips_the_border():
    net, x = tiny_net(), torch.rand(6, 3, 16, 16)
    ours = crop_maxima(net, ["1", "3"], x, batch_size=4)
    ref = layer_maxima(net, ["1", "3"], x, progress=False)
    for layer in ("1", "3"):
        torch.testing.assert_close(ours[layer].values, ref[layer].values)
        assert torch.equal(ours[layer].rows, ref[layer].rows) and torch.equal(ours[layer].cols, ref[layer].cols)
    inner = crop_maxima(net, "3", x, border=2)
    assert inner.rows.min() >= 2 and inner.rows.max() <= 8 - 3 and inner.cols.min() >= 2
    assert (inner.values <= ref["3"].values + 1e-6).all()
    with pytest.raises(ValueError, match="leaves no positions"):
        crop_maxima(net, "3", x, border=4)


def test_top_per_photo_keeps_the_best_crop_of_each_photo():
    values = torch.tensor([[5.0], [9.0], [7.0], [8.0], [1.0]])
    maxima = LayerMaxima(values, torch.arange(5)[:, None], torch.zeros(5, 1, dtype=torch.long), (5, 1))
    photo = torch.tensor([0, 0, 1, 1, 2])
    top = top_per_photo(maxima, photo, unit=0, k=3)
    assert top.indices.tolist() == [1, 3, 4]  # photo 0's best (9), photo 1's best (8), photo 2's only crop
    assert top.values.tolist() == [9.0, 8.0, 1.0] and top.rows.tolist() == [1, 3, 4]
    with pytest.raises(ValueError, match="one index per crop"):
        top_per_photo(maxima, photo[:3], unit=0)


def test_unit_gradient_of_one_conv_is_its_kernel_at_the_window():
    conv = nn.Conv2d(3, 2, 3, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(2, 3, 3, 3))
    net = nn.Sequential(conv, nn.ReLU())
    x = torch.rand(2, 3, 8, 8)
    grad = unit_gradient(net, "0", x, unit=[1, 0], rows=[2, 4], cols=[3, 0], rule=None)
    expected = torch.zeros_like(x)
    expected[0, :, 2:5, 3:6] = conv.weight[1]
    expected[1, :, 4:7, 0:3] = conv.weight[0]
    torch.testing.assert_close(grad, expected)
    assert x.grad is None


def test_unit_gradient_guided_passes_only_positive_gradients_and_matches_plain_on_a_positive_path():
    net = tiny_net()
    x = torch.rand(3, 3, 16, 16)
    plain = unit_gradient(net, "2", x, unit=2, rows=[1, 2, 3], cols=[3, 2, 1], rule=None)
    guided = unit_gradient(net, "2", x, unit=2, rows=[1, 2, 3], cols=[3, 2, 1], rule="guided")
    assert plain.abs().sum() > 0 and not torch.allclose(plain, guided)  # conv2's weights have both signs
    # with all weights positive, every gradient is positive, so the guided rule changes nothing
    pos = tiny_net()
    with torch.no_grad():
        for p in pos.parameters():
            p.abs_()
    torch.testing.assert_close(
        unit_gradient(pos, "2", x, 2, [1, 2, 3], [3, 2, 1], rule=None),
        unit_gradient(pos, "2", x, 2, [1, 2, 3], [3, 2, 1], rule="guided"),
    )


def test_unit_gradient_shifts_average_the_shifted_maps():
    net, x = tiny_net(), torch.rand(1, 3, 16, 16)
    args = ("3", x, 0, [3], [3])
    one = unit_gradient(net, *args, rule=None, shifts=[(2, 2)])
    shifted = unit_gradient(net, "3", torch.roll(x, (2, 2), (2, 3)), 0, [3], [3], rule=None)
    by_hand = torch.roll(shifted, (-2, -2), (2, 3))
    torch.testing.assert_close(one, by_hand)
    both = unit_gradient(net, *args, rule=None, shifts=[(0, 0), (2, 2)])
    torch.testing.assert_close(both, (unit_gradient(net, *args, rule=None) + one) / 2)
    with pytest.raises(ValueError, match="shifts"):
        unit_gradient(net, *args, shifts=[])
    with pytest.raises(ValueError, match="out of range"):
        unit_gradient(net, "3", x, 9, [0], [0])


def test_central_window_and_share():
    rf = ReceptiveField((10, 10), (2, 2), (-3, -3), "layer", "analytic")
    inner = central_window(rf, 0.5)
    assert inner.size_hw == (5, 5) and inner.offset_hw == (-1, -1)
    maps = torch.zeros(2, 3, 8, 8)
    maps[0, :, 3:5, 3:5] = 1.0  # all inside the central 4x4
    maps[1, 0] = -1.0  # spread evenly: a quarter of the area
    torch.testing.assert_close(central_share(maps, 0.5), torch.tensor([1.0, 0.25]))
    with pytest.raises(ValueError, match="fraction"):
        central_window(rf, 0)


def test_top_k_purity_by_hand():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    values = torch.tensor([[6.0, 6.0], [5.0, 1.0], [1.0, 5.0], [2.0, 2.0], [3.0, 4.0], [4.0, 3.0]])
    # column 0 top-3 rows 0,1,5 -> labels 0,0,2 -> 2/3; column 1 top-3 rows 0,2,4 -> 0,1,2 -> 1/3
    torch.testing.assert_close(top_k_purity(values, labels, k=3), torch.tensor([2 / 3, 1 / 3]))
    with pytest.raises(ValueError, match="more than"):
        top_k_purity(values, labels, k=7)
