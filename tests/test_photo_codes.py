"""Photo codes: crops of the collection, nearest photos by closest crop, kind shares, grid neighbours."""

import numpy as np
import pytest
import torch

from course_utils.codes import thumbnail_mosaic
from course_utils.images import preprocess, sample_image_names
from course_utils.photo_codes import (
    PHOTO_KINDS,
    grid_neighbour_pairs,
    nearest_photos,
    photo_crops,
    photo_kind,
    same_kind_chance,
    same_kind_share,
)


def test_every_sample_photo_has_a_kind():
    assert set(PHOTO_KINDS) == set(sample_image_names())
    assert photo_kind("chelsea") == "animal"
    with pytest.raises(KeyError, match="no sample"):
        photo_kind("no_such_photo")


def test_photo_crops_whole_mirror_and_zoom():
    crops, owner = photo_crops(["chelsea", "coffee"], size=64)
    assert crops.shape == (8, 3, 64, 64) and owner.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert torch.equal(crops[0], preprocess("chelsea", 64)[0])  # crop 0 is the whole photo
    assert torch.equal(crops[1], crops[0].flip(-1))
    assert torch.equal(crops[3], crops[2].flip(-1))
    assert not torch.allclose(crops[2], crops[0])  # the zoom is another view
    only, owner_only = photo_crops(["chelsea"], size=64, views=False)
    assert only.shape == (1, 3, 64, 64) and owner_only.tolist() == [0]
    with pytest.raises(ValueError, match="non-empty list"):
        photo_crops("chelsea")


def test_nearest_photos_takes_the_closest_crop_and_skips_the_query_photo():
    # photo 0: rows 0,1; photo 1: rows 2,3; photo 2: row 4 (1-D features for hand-computed distances)
    x = torch.tensor([[0.0], [100.0], [9.0], [2.5], [3.0]])
    owner = torch.tensor([0, 0, 1, 1, 2])
    photos, rows, dist = nearest_photos(x, owner, torch.tensor([0, 1]), k=2)
    # from 0.0: photo 1 via row 3 (2.5), photo 2 via row 4 (3.0); never photo 0 itself (distance 0 / 100)
    assert photos[0].tolist() == [1, 2] and rows[0].tolist() == [3, 4]
    assert torch.allclose(dist[0], torch.tensor([2.5, 3.0]))
    # from 100.0 (still photo 0): photo 1 via row 2 (91), then photo 2 (97)
    assert photos[1].tolist() == [1, 2] and rows[1].tolist() == [2, 4]
    with pytest.raises(ValueError, match="k must be"):
        nearest_photos(x, owner, torch.tensor([0]), k=3)  # only 2 other photos
    with pytest.raises(ValueError, match="row indices"):
        nearest_photos(x, owner, torch.tensor([5]), k=1)
    with pytest.raises(ValueError, match="one photo index per"):
        nearest_photos(x, owner[:4], torch.tensor([0]), k=1)


def test_same_kind_share_and_chance_by_hand():
    kinds = ["a", "a", "b", "b", "b"]
    neighbours = torch.tensor([[1, 2], [0, 3], [3, 4]])
    assert same_kind_share(neighbours, torch.tensor([0, 1, 2]), kinds) == pytest.approx(4 / 6)
    # same-kind ordered pairs: a: 2*1, b: 3*2 -> 8 of 5*4 = 20
    assert same_kind_chance(kinds) == pytest.approx(0.4)
    with pytest.raises(ValueError, match=r"\(Q, k\)"):
        same_kind_share(neighbours[0], torch.tensor([0]), kinds)


def test_grid_neighbour_pairs_on_a_2x3_grid():
    # points 0..4 in cells [5, 0, 1, 3, 4]; cell 2 is empty
    pairs = grid_neighbour_pairs(np.array([5, 0, 1, 3, 4]), 2, 3)
    touching = {tuple(sorted(p)) for p in pairs.tolist()}
    # cells 0-1, 3-4, 4-5 (left-right), 0-3, 1-4 (up-down); 1-2 and 2-5 touch the empty cell
    assert touching == {(1, 2), (3, 4), (0, 4), (1, 3), (2, 4)}
    with pytest.raises(ValueError, match="distinct cell numbers"):
        grid_neighbour_pairs(np.array([0, 0]), 2, 3)


def test_thumbnail_mosaic_in_colour():
    images = torch.zeros(2, 3, 2, 2)
    images[0, 0], images[1, 2] = 1.0, 0.5  # a red and a half-blue thumbnail
    mosaic = thumbnail_mosaic(images, np.array([3, 0]), 2, 2, fill=0.25)
    assert mosaic.shape == (4, 4, 3)
    assert (mosaic[2:, 2:] == [1.0, 0.0, 0.0]).all() and (mosaic[:2, :2] == [0.0, 0.0, 0.5]).all()
    assert (mosaic[:2, 2:] == 0.25).all()  # an empty cell keeps the fill
    with pytest.raises(ValueError, match="gray"):
        thumbnail_mosaic(torch.zeros(1, 2, 2, 2), np.array([0]), 1, 1)
