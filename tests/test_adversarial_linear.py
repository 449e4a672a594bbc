"""Tests for adversarial.to_8bit and adversarial.linear_template_attack (notebook 11, Goodfellow et al. Fig. 2)."""

import pytest
import torch
from torch import nn

from course_utils import adversarial as adv


def test_to_8bit_lands_on_the_grid_and_moves_at_most_half_a_level():
    x = torch.rand(2, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    q = adv.to_8bit(x)
    assert torch.equal(q * 255, (q * 255).round())
    assert (q - x).abs().max() <= 0.5 / 255 + 1e-7
    assert torch.equal(adv.to_8bit(q), q)  # already on the grid: unchanged
    with pytest.raises(ValueError):
        adv.to_8bit(torch.full((1, 1, 2, 2), float("nan")))


def _linear(seed=0, k=4, d=12):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, k)).eval().requires_grad_(False)


def test_template_attack_raises_the_gap_by_eps_times_l1_and_matches_targeted_fgsm():
    model = _linear()
    w = model[1].weight
    x = 0.25 + 0.5 * torch.rand(6, 1, 3, 4, generator=torch.Generator().manual_seed(1))  # away from 0 and 1
    y = model(x).argmax(1)
    t = (y + 1) % 4
    eps = 0.05
    out = adv.linear_template_attack(w, x, y, t, eps)
    gap = lambda z: (model(z).gather(1, t[:, None]) - model(z).gather(1, y[:, None]))[:, 0]  # noqa: E731
    assert torch.allclose(gap(out["x_adv"]) - gap(x), out["gap_gain"], atol=1e-5)
    assert torch.allclose(out["gap_gain"], eps * (w[t] - w[y]).abs().sum(1))
    assert out["eta"].abs().max() <= eps + 1e-7 and out["eta"].shape == x.shape
    # the two-class case of FGSM: with only classes y and t, the targeted FGSM step is the same sign pattern
    two = nn.Sequential(nn.Flatten(), nn.Linear(12, 2)).eval().requires_grad_(False)
    two[1].weight.copy_(w[:2])
    two[1].bias.zero_()
    y2, t2 = torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long)
    fg = adv.fgsm(two, x, t2, eps, targeted=True)
    assert torch.allclose(fg, adv.linear_template_attack(two[1].weight, x, y2, t2, eps)["x_adv"])


def test_template_attack_rejects_wrong_shapes_and_classes():
    w = torch.zeros(4, 12)
    x = torch.rand(2, 1, 3, 4)
    with pytest.raises(ValueError, match="weight must be"):
        adv.linear_template_attack(torch.zeros(4, 10), x, 0, 1, 0.1)
    with pytest.raises(ValueError):
        adv.linear_template_attack(w, x, 0, 7, 0.1)  # class 7 of 4
    with pytest.raises(ValueError):
        adv.linear_template_attack(w, x, 0, 1, -0.1)
