"""Codes: grid assignment, k-NN accuracy and nearest neighbours on hand-made cases."""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.codes import compute_codes, grid_assignment, knn_accuracy, nearest_neighbours, thumbnail_mosaic


def test_grid_assignment_is_a_permutation():
    xy = np.random.default_rng(0).normal(size=(30, 2))
    cells = grid_assignment(xy, 5, 6)
    assert sorted(cells.tolist()) == list(range(30))
    assert len(set(grid_assignment(xy[:20], 5, 6).tolist())) == 20  # fewer points than cells


def test_grid_assignment_on_a_hand_solved_case():
    # Four corner points go to the four cells of a 2x2 grid: row 0 is the top (large y).
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert grid_assignment(xy, 2, 2).tolist() == [2, 1, 0, 3]


def test_grid_assignment_is_optimal_against_all_permutations():
    xy = np.random.default_rng(1).uniform(size=(6, 2))
    cells = grid_assignment(xy, 2, 3)
    unit = (xy - xy.min(0)) / (xy.max(0) - xy.min(0))
    rows, cols = np.divmod(np.arange(6), 3)
    centres = np.stack([(cols + 0.5) / 3, 1 - (rows + 0.5) / 2], 1)

    def cost(perm):
        return sum(((unit[i] - centres[c]) ** 2).sum() for i, c in enumerate(perm))

    best = min(itertools.permutations(range(6)), key=cost)
    assert np.isclose(cost(cells), cost(best))


def test_grid_assignment_rejects_too_many_points():
    with pytest.raises(ValueError, match="do not fit"):
        grid_assignment(np.zeros((5, 2)), 2, 2)


def test_knn_accuracy_by_hand():
    train_x = torch.tensor([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    train_y = torch.tensor([0, 0, 0, 1, 1, 1])
    test_x = torch.tensor([[0.5], [11.5], [5.0], [7.0]])
    test_y = torch.tensor([0, 1, 1, 1])
    # k=1: 0.5->0 ok, 11.5->1 ok, 5.0->2.0 (class 0) wrong, 7.0->10 (class 1) ok
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=1) == 0.75
    # k=3: 5.0 -> {2,1,10}: two votes for 0, wrong; 7.0 -> {10,11,2}: class 1 wins
    assert knn_accuracy(train_x, train_y, test_x, test_y, k=3) == 0.75


def test_knn_tie_goes_to_the_nearest():
    train_x = torch.tensor([[0.0], [3.0]])
    train_y = torch.tensor([1, 0])
    # k=2: one vote each; the nearest (0.0, class 1) decides
    assert knn_accuracy(train_x, train_y, torch.tensor([[1.0]]), torch.tensor([1]), k=2) == 1.0


def test_nearest_neighbours_and_self_exclusion():
    db = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    idx, dist = nearest_neighbours(db, db[:1], k=2)
    assert idx.tolist() == [[0, 2]] and torch.allclose(dist, torch.tensor([[0.0, 1.0]]))
    idx, dist = nearest_neighbours(db, db[:1], k=2, exclude_self=True)
    assert idx.tolist() == [[2, 1]] and torch.allclose(dist, torch.tensor([[1.0, 5.0]]))


def test_compute_codes_matches_direct_forward_and_restores_mode():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 2)).train()
    x = torch.randn(7, 1, 2, 2)
    codes = compute_codes(model, "2", x, batch_size=3)
    assert torch.allclose(codes, model[2](model[1](model[0](x))))
    assert model.training


def test_thumbnail_mosaic_places_images():
    images = torch.stack([torch.full((1, 2, 2), v) for v in (0.1, 0.2)])
    mosaic = thumbnail_mosaic(images, np.array([3, 0]), 2, 2)
    assert mosaic.shape == (4, 4)
    assert np.allclose(mosaic[2:, 2:], 0.1) and np.allclose(mosaic[:2, :2], 0.2) and np.allclose(mosaic[:2, 2:], 1.0)


def test_class_scatter_has_one_legend_entry_per_class():
    import matplotlib

    matplotlib.use("Agg")
    from course_utils.plotting import class_scatter

    fig = class_scatter(np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 3, ["a", "b", "c"], title="t")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b", "c"]
