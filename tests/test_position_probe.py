"""course_utils.position_probe: pasting, pooled and unpooled features, a probe that beats chance only when it should."""

import pytest
import torch
from torch import nn

from course_utils.position_probe import _ridge_fit_predict, layer_features, paste_on_canvas, ridge_probe


def blobs(n: int, side: int = 12, seed: int = 0) -> torch.Tensor:
    """``n`` random bright shapes (N,1,side,side) on black, each different."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, side, side)
    x[:, :, 2:-2, 2:-2] = torch.rand(n, 1, side - 4, side - 4, generator=gen)
    return x


def conv_net(padding_mode: str) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, padding_mode=padding_mode),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, padding_mode=padding_mode),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 12 * 12, 2),  # fits 12x12 inputs only: features of larger canvases must stop before it
    )


def test_pasting_puts_each_image_where_its_centre_says():
    x = blobs(20)
    canvases, centres = paste_on_canvas(x, canvas=32, seed=3)
    assert canvases.shape == (20, 1, 32, 32) and centres.shape == (20, 2)
    torch.testing.assert_close(canvases.sum((1, 2, 3)), x.sum((1, 2, 3)))  # each image whole, once
    for canvas, (cx, cy), img in zip(canvases, centres, x):
        left, top = int(cx - 5.5), int(cy - 5.5)  # a 12-px image's centre is 5.5 px from its corner
        torch.testing.assert_close(canvas[:, top : top + 12, left : left + 12], img)
    assert centres.min() >= 5.5 and centres.max() <= 32 - 6.5
    assert len(set(map(tuple, centres.tolist()))) > 10  # the places differ
    with pytest.raises(ValueError, match="canvas"):
        paste_on_canvas(x, canvas=8)


def test_the_probe_reads_position_from_unpooled_maps_but_not_from_pooled_shift_invariant_ones():
    canvases, centres = paste_on_canvas(blobs(300), canvas=32, seed=1)
    # circular padding: a pasted blob is a circular shift of any other placement, so channel means cannot tell
    feats = {mode: layer_features(conv_net(mode), canvases, ["3"], grid=8) for mode in ("circular", "zeros")}
    train, test = slice(0, 240), slice(240, None)

    def probe(kind: str, mode: str):
        f = feats[mode][kind]["3"]
        return ridge_probe(f[train], centres[train], f[test], centres[test])

    kept = probe("unpooled", "circular")
    assert kept.relative < 0.3, kept  # a layer that keeps its layout keeps the position
    assert probe("pooled", "circular").relative > 0.9  # translation-invariant and pooled: nothing left
    assert feats["zeros"]["pooled"]["3"].shape == (300, 8) and feats["zeros"]["unpooled"]["3"].shape == (300, 8 * 8 * 8)


def test_ridge_probe_recovers_a_linear_map_and_chance_is_the_mean_guess():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 30, generator=gen)
    w = torch.randn(30, 2, generator=gen)
    y = x @ w + 5
    result = ridge_probe(x[:300], y[:300], x[300:], y[300:])
    assert result.error < 0.05 * result.chance
    expected_chance = float((y[300:] - y[:300].mean(0)).norm(dim=1).mean())
    torch.testing.assert_close(torch.tensor(result.chance), torch.tensor(expected_chance), rtol=1e-6, atol=1e-9)
    # more features than examples: the dual form gives the primal form's answer
    wide, wy = torch.randn(40, 90, generator=gen, dtype=torch.float64), torch.randn(40, 2, dtype=torch.float64)
    queries = torch.randn(5, 90, generator=gen, dtype=torch.float64)
    primal = queries @ torch.linalg.solve(wide.T @ wide + 3.0 * torch.eye(90, dtype=torch.float64), wide.T @ wy)
    torch.testing.assert_close(_ridge_fit_predict(wide, wy, queries, 3.0), primal, rtol=1e-8, atol=1e-10)


def test_bad_probe_inputs_are_refused_with_the_reason():
    x, y = torch.randn(20, 3), torch.randn(20, 2)
    with pytest.raises(ValueError, match="pair up"):
        ridge_probe(x, y[:10], x, y)
    with pytest.raises(ValueError, match="differ in size"):
        ridge_probe(x, y, torch.randn(20, 4), y)
    with pytest.raises(ValueError, match="alphas"):
        ridge_probe(x, y, x, y, alphas=(-1.0,))
    with pytest.raises(ValueError, match="not maps"):
        layer_features(conv_net("zeros"), torch.rand(2, 1, 12, 12), ["5"])
