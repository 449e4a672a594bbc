"""Tests for course_utils.adversarial: ε-ball and [0,1] bounds, accuracy falls, fooling reaches its target."""

import pytest
import torch
from torch import nn

from course_utils import adversarial as adv

TOL = 1e-6  # float32 rounding of x ± eps


def _linear_model(seed: int = 0) -> nn.Module:
    """A tiny pixel-input classifier on 2x4x4 images whose predictions a small ε can flip."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(32, 3))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _data(model: nn.Module, n: int = 64, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 2, 4, 4, generator=gen)
    return x, model(x).argmax(1)  # labels = the model's own predictions: clean accuracy is 1


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_attacks_stay_in_ball_and_pixel_range(attack):
    model = _linear_model()
    x, y = _data(model)
    x[:4] = 0.0  # pixels at the border of [0,1] must stay inside it
    x[4:8] = 1.0
    eps = 0.1
    x_adv = adv.fgsm(model, x, y, eps) if attack == "fgsm" else adv.pgd(model, x, y, eps, steps=5)
    assert x_adv.shape == x.shape and not x_adv.requires_grad
    assert (x_adv - x).abs().max() <= eps + TOL
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    # FGSM moves every pixel not pinned by [0,1] by exactly eps
    if attack == "fgsm":
        free = (x > eps) & (x < 1 - eps)
        assert torch.allclose((x_adv - x).abs()[free], torch.full_like(x[free], eps), atol=TOL)


def test_fgsm_equals_hand_computed_sign_step():
    model = _linear_model()
    x, y = _data(model, n=5)
    x = 0.25 + 0.5 * x  # away from the borders: no clipping
    w = model[1].weight  # for a linear model, d CE / dx = W^T (softmax - onehot)
    probs = model(x).softmax(1)
    grad = (probs - nn.functional.one_hot(y, 3).float()) @ w
    expected = x + 0.05 * grad.sign().view_as(x)
    assert torch.allclose(adv.fgsm(model, x, y, 0.05), expected, atol=TOL)


def test_attacks_lower_accuracy_and_pgd_is_stronger():
    model = _linear_model()
    x, y = _data(model, n=200)
    acc = adv.attack_accuracy(model, x, y, [0.0, 0.02, 0.1])
    assert acc[0] == 1.0 and acc[1] < acc[0] and acc[2] < 0.5 * acc[0]
    acc_pgd = adv.attack_accuracy(model, x, y, [0.02, 0.1], attack="pgd", steps=10)
    assert acc_pgd[0] <= acc[1] and acc_pgd[1] <= acc[2]


def test_model_modes_and_flags_restored():
    model = _linear_model()
    model.train()
    model[1].weight.requires_grad_(True)
    x, y = _data(model, n=8)
    adv.pgd(model, x, y, 0.05, steps=2)
    adv.fgsm(model, x, y, 0.05)
    assert model.training and model[1].weight.requires_grad and not model[1].bias.requires_grad
    assert model[1].weight.grad is None


def test_bad_input_raises_actionable_errors():
    model = _linear_model()
    x, y = _data(model, n=2)
    with pytest.raises(ValueError, match="pixels in"):
        adv.fgsm(model, x * 3 - 1, y, 0.1)  # normalized-looking input
    with pytest.raises(ValueError, match="eps"):
        adv.pgd(model, x, y, 8)  # ε in 0-255 units by mistake


def test_fooling_image_reaches_target_within_eps():
    model = _linear_model()
    x, y = _data(model, n=6)
    target = 2
    eps = 0.15
    x_fool = adv.fooling_image(model, x, target, eps=eps, steps=40, progress=False)
    assert (x_fool - x).abs().max() <= eps + TOL and x_fool.min() >= 0 and x_fool.max() <= 1
    assert (adv.predict(model, x_fool) == target).all()


def test_linear_score_change_is_eps_times_l1_and_beats_random():
    small, big = adv.linear_score_change(10, 0.01), adv.linear_score_change(100_000, 0.01)
    assert abs(big["adversarial"] - big["eps_l1"]) < 1e-9
    assert big["adversarial"] > 1000 * small["adversarial"] / 10 * 0.5  # grows ~ linearly with d
    assert big["random"] < 0.05 * big["adversarial"]  # random signs mostly cancel (~ sqrt(d))
    assert 0.6 * big["eps_l2"] < big["random"] < 1.4 * big["eps_l2"]  # RMS of a random-sign sum = eps·‖w‖₂


def test_transfer_rate_counts():
    model = _linear_model()
    x, y = _data(model, n=100)
    x_adv = adv.fgsm(model, x, y, 0.2)
    same = adv.transfer_rate(model, model, x, y, x_adv)
    assert same["fool_source"] > 0 and same["rate"] == 1.0  # a model always "transfers" to itself


def test_random_sign_noise_and_flip_rate():
    model = _linear_model()
    x, y = _data(model, n=100)
    noise = adv.random_sign_noise(x, 0.05)
    assert (noise - x).abs().max() <= 0.05 + TOL and noise.min() >= 0 and noise.max() <= 1
    assert adv.flip_rate(model, x, y, x) == 0.0
    # the sign attack flips far more predictions than random signs of the same size
    assert adv.flip_rate(model, x, y, adv.fgsm(model, x, y, 0.05)) > adv.flip_rate(model, x, y, noise) + 0.2
