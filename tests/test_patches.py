"""Maximally activating patches: batched search equals brute force on a tiny model."""

import pytest
import torch
from torch import nn

from course_utils.patches import crop_patches, layer_maxima, random_direction, top_activations, top_positions
from course_utils.receptive_field import receptive_field


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.conv(x))


@pytest.fixture
def setup():
    torch.manual_seed(0)
    return Tiny().eval(), torch.rand(37, 1, 8, 8)


def brute_force(maps, k):
    """Per image: max over positions, by a Python loop; then sort images."""
    best = []
    for n in range(maps.shape[0]):
        value, pos = max((maps[n, i, j].item(), (i, j)) for i in range(maps.shape[1]) for j in range(maps.shape[2]))
        best.append((value, n, pos))
    return sorted(best, reverse=True)[:k]


def test_top_activations_equal_brute_force(setup):
    model, images = setup
    maps = model.conv(images)[:, 2]
    got = top_activations(model, "conv", images, unit=2, k=5, batch_size=10, progress=False)
    expected = brute_force(maps, 5)
    assert got.indices.tolist() == [n for _, n, _ in expected]
    assert list(zip(got.rows.tolist(), got.cols.tolist())) == [p for _, _, p in expected]
    assert torch.allclose(got.values, torch.tensor([v for v, _, _ in expected]))


def test_direction_is_a_projection(setup):
    model, images = setup
    v = random_direction(4, torch.Generator().manual_seed(1))
    assert torch.isclose(v.norm(), torch.tensor(1.0))
    maps = torch.einsum("nchw,c->nhw", model.conv(images), v)
    got = top_activations(model, "conv", images, direction=v, k=4, batch_size=16, progress=False)
    assert got.indices.tolist() == [n for _, n, _ in brute_force(maps, 4)]
    # a unit is the direction along one axis
    axis = top_activations(model, "conv", images, direction=torch.eye(4)[3], k=4, progress=False)
    unit = top_activations(model, "conv", images, unit=3, k=4, progress=False)
    assert axis.indices.tolist() == unit.indices.tolist()


def test_layer_maxima_all_channels_and_errors(setup):
    model, images = setup
    maxima = layer_maxima(model, "pool", images, progress=False)
    assert maxima.values.shape == (37, 4) and maxima.grid == (4, 4)
    both = layer_maxima(model, ["conv", "pool"], images, batch_size=8, progress=False)
    assert torch.equal(both["pool"].values, maxima.values) and both["conv"].grid == (8, 8)
    assert torch.allclose(maxima.values, model(images).amax(dim=(2, 3)))
    with pytest.raises(ValueError, match="exactly one"):
        top_activations(model, "conv", images)
    with pytest.raises(ValueError, match="out of range"):
        maxima.top(9)


def test_crop_patches_cut_the_receptive_field(setup):
    model, images = setup
    rf = receptive_field(model, "pool", (8, 8))  # 3x3 conv then 2x2 pool: size 4, stride 2, padding 1
    assert (rf.size, rf.stride, rf.padding) == (4, 2, 1)
    top = top_activations(model, "pool", images, unit=0, k=6, progress=False)
    for patch, n, i, j in zip(crop_patches(images, top, rf, fill=-1.0), top.indices, top.rows, top.cols):
        assert patch.shape == (1, 4, 4)
        t, lft = 2 * int(i) - 1, 2 * int(j) - 1
        for a in range(4):
            for b in range(4):
                inside = 0 <= t + a < 8 and 0 <= lft + b < 8
                expected = images[n, 0, t + a, lft + b] if inside else torch.tensor(-1.0)
                assert patch[0, a, b] == expected


def test_top_positions_search_all_positions(setup):
    model, images = setup
    acts = model.conv(images[:3]).detach()
    got = top_positions(acts, unit=1, k=1)
    assert got.values[0] == acts[:, 1].max()
    n, i, j = got.indices[0], got.rows[0], got.cols[0]
    assert acts[n, 1, i, j] == acts[:, 1].max()
    spread = top_positions(acts, unit=1, k=5, min_distance=3)
    chosen = list(zip(spread.indices.tolist(), spread.rows.tolist(), spread.cols.tolist()))
    for a in range(5):
        for b in range(a):
            same = chosen[a][0] == chosen[b][0]
            assert not same or max(abs(chosen[a][1] - chosen[b][1]), abs(chosen[a][2] - chosen[b][2])) >= 3
    assert (spread.values[:-1] >= spread.values[1:]).all()


def test_top_positions_skip_the_border():
    acts = torch.zeros(1, 1, 6, 6)
    acts[0, 0, 0, 0], acts[0, 0, 2, 3] = 9.0, 5.0
    assert top_positions(acts, unit=0, k=1).values.tolist() == [9.0]
    inner = top_positions(acts, unit=0, k=1, border=1)
    assert (inner.rows.item(), inner.cols.item(), inner.values.item()) == (2, 3, 5.0)
    with pytest.raises(ValueError, match="border"):
        top_positions(acts, unit=0, border=3)
