"""optim.schedules: the cosine step falls from lr to 0, and Adam takes exactly those steps."""

import math

import pytest
import torch
from torch import nn

from course_utils import optim


def test_cosine_rate_by_hand():
    p = torch.zeros(3, requires_grad=True)
    opt = optim.CosineAdam([p], lr=0.2, total_steps=10)
    assert opt.rate(0) == pytest.approx(0.2)
    assert opt.rate(5) == pytest.approx(0.1)  # half-way down the half cosine
    assert opt.rate(10) == pytest.approx(0.0, abs=1e-12)
    assert opt.rate(25) == pytest.approx(0.0, abs=1e-12)  # stays at 0 after the schedule
    assert opt.rate(2) == pytest.approx(0.2 * 0.5 * (1 + math.cos(math.pi * 0.2)))


def test_adam_steps_follow_the_schedule():
    # with a constant gradient, Adam's bias-corrected step is lr_t * g / |g| = lr_t per coordinate
    p = torch.zeros(2, requires_grad=True)
    opt = optim.CosineAdam([p], lr=0.1, total_steps=4)
    moved = []
    for _ in range(6):
        before = p.detach().clone()
        p.grad = torch.tensor([1.0, -2.0])
        opt.step()
        moved.append((p.detach() - before).abs())
    for t, step in enumerate(moved):
        torch.testing.assert_close(step, torch.full((2,), opt.rate(t)), rtol=1e-4, atol=1e-6)


def test_cosine_adam_is_an_optimizer_factory_for_the_loop():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.ReLU())
    target = optim.layer_features(net, "1", torch.rand(1, 3, 8, 8))
    objective = optim.feature_match("1", target)
    param = optim.PixelImage((1, 3, 8, 8), seed=0)
    made = []

    def factory(params, lr):
        made.append(optim.cosine_adam(50)(params, lr))
        return made[-1]

    result = optim.optimize_image(net, objective, param, steps=50, lr=0.1, optimizer=factory, progress=False)
    assert isinstance(made[0], optim.CosineAdam) and made[0].steps_taken == 50
    assert made[0].param_groups[0]["lr"] == pytest.approx(made[0].rate(49))
    assert result.history[-1] > 10 * result.history[0]  # the (negative) relative error rose towards 0


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_bad_total_steps_say_what_to_pass(bad):
    with pytest.raises((ValueError, TypeError), match="total_steps"):
        optim.cosine_adam(bad)


def test_a_negative_rate_is_refused():
    with pytest.raises(ValueError, match="lr"):
        optim.CosineAdam([torch.zeros(1, requires_grad=True)], lr=-0.1, total_steps=5)
