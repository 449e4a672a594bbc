"""Tests for course_utils.landscape on tiny models: batched losses, restarts, interpolation, filter normalization."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import landscape as L


def _data(n: int = 60, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 4, 4, generator=gen)
    y = (x.flatten(1)[:, :8].sum(1) > x.flatten(1)[:, 8:].sum(1)).long()  # a learnable 2-class rule
    return x, y


def _tiny_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(48, 2))


def _loss(model: nn.Module, params: dict, x, y) -> float:
    with torch.no_grad():
        return F.cross_entropy(torch.func.functional_call(model, params, (x,)), y).item()


def test_stacked_losses_match_one_at_a_time():
    x, y = _data()
    model = _tiny_cnn()
    sets = [L.params_of(_tiny_cnn()) for _ in range(3)]
    got = L.stacked_losses(model, L.stack(sets), x, y, chunk=2)
    expected = torch.tensor([_loss(model, p, x, y) for p in sets])
    assert torch.allclose(got, expected, atol=1e-5)


def test_interpolation_endpoints_equal_losses_of_both_parameter_sets():
    x, y = _data()
    model = _tiny_cnn()
    a, b = L.params_of(_tiny_cnn()), L.params_of(_tiny_cnn())
    curve = L.interpolate(model, a, b, x, y, torch.linspace(0, 1, 5))
    assert curve.shape == (5,)
    assert abs(curve[0] - _loss(model, a, x, y)) < 1e-5 and abs(curve[-1] - _loss(model, b, x, y)) < 1e-5
    mid = {k: 0.5 * (a[k] + b[k]) for k in a}
    assert abs(curve[2] - _loss(model, mid, x, y)) < 1e-5


def test_filter_normalized_direction_matches_each_filter_norm():
    params = L.params_of(_tiny_cnn())
    d = L.filter_normalized_direction(params, seed=3)
    for name, w in params.items():
        if w.dim() > 1:  # conv: one norm per output channel; linear: one per output unit
            assert torch.allclose(d[name].flatten(1).norm(dim=1), w.flatten(1).norm(dim=1), rtol=1e-5)
        else:
            assert (d[name] == 0).all()  # biases stay fixed, as in Li et al.
    assert not torch.allclose(d["0.weight"], L.filter_normalized_direction(params, seed=4)["0.weight"])


def test_loss_slice_center_is_the_loss_of_the_center():
    x, y = _data()
    model = _tiny_cnn()
    center = L.params_of(model)
    coords, grid = L.loss_slice(model, center, x, y, span=1.0, n=5, progress=False)
    assert grid.shape == (5, 5) and coords[2] == 0
    assert abs(grid[2, 2] - _loss(model, center, x, y)) < 1e-5
    # rows follow the second direction: moving along row 2 changes only the first coefficient
    d1 = L.filter_normalized_direction(center, 0)
    moved = {k: center[k] + coords[4] * d1[k] for k in center}
    assert abs(grid[2, 4] - _loss(model, moved, x, y)) < 1e-5


def test_train_restarts_lowers_loss_and_seeds_differ():
    x, y = _data(n=120)
    run = L.train_restarts(
        lambda: L.mlp(8, in_features=16, classes=2), [0, 1, 2], x, y, epochs=30, lr=1e-2, batch_size=40, progress=False
    )
    before = L.stacked_losses(run.model, run.init, x, y)
    after = L.stacked_losses(run.model, run.final, x, y)
    assert (after < 0.6 * before).all()
    assert not torch.allclose(run.init["1.weight"][0], run.init["1.weight"][1])
    # seed s trains exactly like a separate model seeded with s: the init stack matches
    torch.manual_seed(1)
    assert torch.equal(run.init["1.weight"][1], L.mlp(8, in_features=16, classes=2)[1].weight.detach())


def test_model_mode_restored_and_bad_stack_rejected():
    x, y = _data()
    model = _tiny_cnn().train()
    L.stacked_losses(model, L.stack([L.params_of(model)]), x, y)
    assert model.training and all(p.requires_grad for p in model.parameters())
    with pytest.raises(ValueError, match="not in the model"):
        L.stacked_losses(model, {"nope": torch.zeros(1, 3)}, x, y)
