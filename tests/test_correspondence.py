"""course_utils.correspondence: nearest neighbours recover known shifts; the shipped aloe ground truth is right."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from course_utils import correspondence as C
from course_utils import images
from course_utils.images import gaussian_blur

TOOL = Path(__file__).resolve().parent.parent / "tools" / "make_photo_collection.py"


def texture(h: int, w: int, seed: int = 0) -> torch.Tensor:
    """A random, slightly smooth colour texture (1,3,h,w) in [0,1]: every patch is unique."""
    noise = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))
    return gaussian_blur(noise, 1.0).clamp(0, 1)


def shifted_pair(dx: int, dy: int, h: int = 48, w: int = 64):
    """Two crops of one texture; the point (x, y) of A is (x - dx, y - dy) in B."""
    big = texture(h + 20, w + 20)
    a = big[..., 10 : 10 + h, 10 : 10 + w]
    b = big[..., 10 + dy : 10 + dy + h, 10 + dx : 10 + dx + w]
    return a, b


def interior_points(h: int, w: int, dx: int, dy: int, margin: int = 8) -> torch.Tensor:
    """Grid points of A whose match lies at least ``margin`` pixels inside B."""
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    ok = (xs - dx >= margin) & (xs - dx < w - margin) & (ys - dy >= margin) & (ys - dy < h - margin)
    ok &= (xs >= margin) & (xs < w - margin) & (ys >= margin) & (ys < h - margin)
    return torch.stack([xs[ok], ys[ok]], dim=1)[::7]


def test_pixel_patches_recover_the_shift_of_a_shifted_copy_exactly():
    dx, dy = 5, -3
    a, b = shifted_pair(dx, dy)
    points = interior_points(48, 64, dx, dy)
    matches = C.match_points(C.patch_map(a, 7), C.patch_map(b, 7), points, (48, 64))
    expected = points.float() - torch.tensor([dx, dy]).float()
    torch.testing.assert_close(matches.found, expected, rtol=0, atol=0)
    torch.testing.assert_close(matches.similarity, torch.ones(len(points)), rtol=0, atol=1e-5)  # the same patch
    assert C.correct_share(matches.found, expected, 0) == 1.0


def test_strided_conv_features_recover_the_shift_to_a_pixel():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1))
    dx, dy = 6, 2  # whole stride-2 cells: the maps shift by (3, 1) cells
    a, b = shifted_pair(dx, dy)
    points = interior_points(48, 64, dx, dy, margin=10)
    fa, fb = C.feature_map(net, a, "2"), C.feature_map(net, b, "2")
    assert fa.shape == (32, 24, 32)
    torch.testing.assert_close(fa.norm(dim=0), torch.ones(24, 32), rtol=0, atol=1e-5)
    expected = points.float() - torch.tensor([dx, dy]).float()
    found = C.match_points(fa, fb, points, (48, 64)).found
    assert C.correct_share(found, expected, 1.5) > 0.95  # within a pixel in x and in y
    # a wrong shift is not what it finds: the test can tell a match from a near miss
    assert C.correct_share(found, expected + torch.tensor([3.0, 0.0]), 1.5) < 0.1


def test_a_band_keeps_matches_on_the_row_and_a_one_map_list_equals_the_map():
    a, b = shifted_pair(4, 2)
    points = interior_points(48, 64, 4, 2)
    ma, mb = C.patch_map(a, 5), C.patch_map(b, 5)
    banded = C.match_points(ma, mb, points, (48, 64), band=0)
    torch.testing.assert_close(banded.found[:, 1], points[:, 1].float(), rtol=0, atol=0)
    single, listed = C.match_points(ma, mb, points, (48, 64)), C.match_points([ma], [mb], points, (48, 64))
    torch.testing.assert_close(single.found, listed.found, rtol=0, atol=0)


def test_patches_ignore_brightness_and_contrast():
    a = texture(20, 20)
    torch.testing.assert_close(C.patch_map(a, 5), C.patch_map(0.2 + 0.5 * a, 5), rtol=0, atol=1e-5)


def test_the_shipped_disparity_fits_the_aloe_photos():
    disparity = C.load_disparity()
    left, right = images.to_tensor("aloe_left"), images.to_tensor("aloe_right")
    assert disparity.shape == left.shape[-2:] == right.shape[-2:] == (384, 444)
    known = disparity[~torch.isnan(disparity)]
    assert 0.9 < len(known) / disparity.numel() < 1.0
    assert 10 < float(known.min()) and float(known.max()) < 80  # 43..211 px at 1282 px wide, times 444/1282
    points = C.sample_points(disparity, 300, margin=8, seed=1)
    truth = C.stereo_targets(disparity, points)
    assert (truth[:, 0] >= 8).all() and (truth[:, 0] <= 444 - 9).all()
    ma, mb = C.patch_map(left, 9), C.patch_map(right, 9)

    def ncc(at: torch.Tensor) -> float:
        x, y = at[:, 0].round().long(), at[:, 1].round().long()
        return float((ma[:, points[:, 1], points[:, 0]] * mb[:, y, x]).sum(0).median())

    off = truth + torch.tensor([4.0, 0.0])
    assert ncc(truth) > 0.8 and ncc(truth) > ncc(off) + 0.3  # the ground truth points at the same surface


def test_stereo_targets_refuses_points_without_ground_truth():
    disparity = torch.full((10, 12), 2.0)
    disparity[3, 4] = float("nan")
    torch.testing.assert_close(C.stereo_targets(disparity, torch.tensor([[5, 1]])), torch.tensor([[3.0, 1.0]]))
    with pytest.raises(ValueError, match="no ground truth"):
        C.stereo_targets(disparity, torch.tensor([[4, 3]]))
    with pytest.raises(ValueError, match="at most"):
        C.sample_points(disparity, 1000)


def test_bad_arguments_say_what_to_pass():
    a = texture(16, 16)
    with pytest.raises(ValueError, match="odd"):
        C.patch_map(a, 4)
    with pytest.raises(ValueError, match="same layer"):
        C.match_points(C.patch_map(a, 3), C.patch_map(a, 5), torch.tensor([[1, 1]]), (16, 16))
    with pytest.raises(ValueError, match="outside the 16x16 image"):
        C.match_points(C.patch_map(a, 3), C.patch_map(a, 3), torch.tensor([[16, 1]]), (16, 16))
    with pytest.raises(ValueError, match="tolerance"):
        C.correct_share(torch.zeros(2, 2), torch.zeros(2, 2), -1)
    with pytest.raises(ValueError, match="one image"):
        C.patch_map(torch.rand(2, 3, 16, 16), 3)


def test_the_tool_resizes_a_disparity_map_and_scales_its_values(tmp_path):
    spec = importlib.util.spec_from_file_location("make_photo_collection", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    src = np.full((90, 120), 90, dtype=np.uint8)
    src[:, :30] = 0  # unknown on the left quarter
    path = tmp_path / "gt.png"
    Image.fromarray(src).save(path)
    out = np.asarray(Image.open(io.BytesIO(tool.resized_disparity(str(path), (40, 30)))))
    assert out.shape == (30, 40) and out.dtype == np.uint16
    assert (out[:, :10] == 0).all()  # still unknown
    assert (out[:, 10:] == 30 * 256).all()  # 90 px at 120 wide is 30 px at 40 wide


def test_the_similarity_map_peaks_where_match_points_matches():
    a, b = shifted_pair(4, 2)
    ma, mb = C.patch_map(a, 5), C.patch_map(b, 5)
    sim = C.similarity_map(ma, mb, (20, 20), (48, 64))
    match = C.match_points(ma, mb, torch.tensor([[20, 20]]), (48, 64))
    assert sim.shape == (48, 64) and int(sim.argmax()) == 18 * 64 + 16  # (20 - 4, 20 - 2)
    torch.testing.assert_close(sim.max(), match.similarity[0], rtol=0, atol=1e-6)


def test_the_explorer_shows_the_match_and_its_distance_to_the_ground_truth():
    from course_utils.widgets import correspondence_explorer

    a, b = shifted_pair(4, 0)
    maps_a, maps_b = {"pixels": C.patch_map(a, 5)}, {"pixels": C.patch_map(b, 5)}
    disparity = torch.full((48, 64), 4.0)
    explorer = correspondence_explorer(maps_a, maps_b, a, b, disparity, point=(30, 20))
    sim, found, expected = explorer.result
    assert explorer.error is None and found == (26, 20) and expected == (26.0, 20.0)
    assert "0 px away" in explorer.status.value
    explorer.controls["x"].value = 40
    assert explorer.result[1] == (36, 20) and explorer.image.value
    with pytest.raises(ValueError, match="same descriptors"):
        correspondence_explorer(maps_a, {"other": maps_b["pixels"]}, a, b)
