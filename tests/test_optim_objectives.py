"""optim.objectives: objectives compose like numbers, and each one equals its formula computed by hand."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import optim


def test_objectives_compose_like_numbers():
    a = optim.Objective(lambda acts: acts["u"], "u", ["layer_u"])
    b = optim.Objective(lambda acts: acts["v"], "v", ["layer_v", "layer_u"])
    acts = {"u": torch.tensor(3.0), "v": torch.tensor(5.0)}
    combo = 2 * a - 0.5 * b + a
    assert float(combo(acts)) == pytest.approx(2 * 3 - 0.5 * 5 + 3)
    assert float((-a)(acts)) == -3.0
    assert combo.layers == ("layer_u", "layer_v")  # each layer recorded once
    assert repr(a - b) == "u - v" and repr(2 * (a + b)) == "2·(u + v)"
    assert float(sum([a, b])(acts)) == 8.0  # sum() starts from 0


def test_gram_matrix_equals_hand_computation():
    # two channels on a 2x2 map: F = [[1,2,3,4],[0,1,0,1]] -> F Fᵀ / 4
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])
    expected = torch.tensor([[[30.0, 6.0], [6.0, 2.0]]]) / 4
    assert torch.equal(optim.gram_matrix(x), expected)
    with pytest.raises(ValueError, match=r"\(N,C,H,W\)"):
        optim.gram_matrix(x[0])


def test_total_variation_and_l2_by_hand():
    img = torch.zeros(1, 1, 3, 3)
    img[..., 1, 1] = 1.0  # one bright pixel in the middle
    # forward differences on the top-left 2x2 grid, (dx, dy): (0,0)=(0,0), (0,1)=(0,1), (1,0)=(1,0), (1,1)=(-1,-1)
    # squared norms 0, 1, 1, 2 -> mean 1
    assert float(optim.total_variation()({"image": img})) == pytest.approx(1.0, abs=1e-6)
    assert float(optim.total_variation(beta=1)({"image": img})) == pytest.approx((0 + 1 + 1 + 2**0.5) / 4, abs=1e-4)
    assert float(optim.l2()({"image": torch.full((1, 3, 2, 2), 0.75)})) == pytest.approx(0.0625)


LOGITS = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])  # two images, three classes


def test_class_logit_picks_one_class_or_one_per_image():
    acts = {"logits": LOGITS}
    assert float(optim.class_logit(1)(acts)) == pytest.approx((2 + 5) / 2)  # one class for every image
    assert float(optim.class_logit([0, 2])(acts)) == pytest.approx((1 + 7) / 2)  # one class per image
    assert float(optim.class_logit(torch.tensor([2, 1]))(acts)) == pytest.approx((3 + 5) / 2)
    assert repr(optim.class_logit(281)) == "logit[281]" and repr(optim.class_logit([0, 2])) == "logit[[0, 2]]"


def test_class_log_prob_equals_log_softmax_by_hand():
    # log p_k = z_k - log Σ_j exp(z_j), for class 2 of each image
    by_hand = [
        3 - torch.log(torch.exp(torch.tensor([1.0, 2, 3])).sum()),
        7 - torch.log(torch.exp(torch.tensor([4.0, 5, 7])).sum()),
    ]
    value = optim.class_log_prob(2)({"logits": LOGITS})
    torch.testing.assert_close(value, torch.stack(by_hand).mean(), rtol=0, atol=1e-6)
    torch.testing.assert_close(value, F.log_softmax(LOGITS, dim=1)[:, 2].mean(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("make", [optim.class_logit, optim.class_log_prob])
def test_class_targets_are_checked_when_built_and_when_run(make):
    for bad, message in [(1.5, "int"), (True, "bool"), (-1, "start at 0"), ([0, 1.0], "integer")]:
        with pytest.raises(ValueError, match=message):
            make(bad)  # before any forward pass
    with pytest.raises(ValueError, match="3 classes"):
        make(5)({"logits": LOGITS})  # the number of classes is only known from the logits
    with pytest.raises(ValueError, match="3 targets for a batch of 2"):
        make([0, 1, 2])({"logits": LOGITS})


def test_channel_layer_norm_and_feature_match_by_hand():
    feats = torch.arange(8.0).view(1, 2, 2, 2)  # channel 0: 0..3, channel 1: 4..7
    acts = {"conv": feats}
    assert float(optim.channel("conv", 1)(acts)) == pytest.approx((4 + 5 + 6 + 7) / 4)
    assert float(optim.layer_norm("conv")(acts)) == pytest.approx(sum(v * v for v in range(8)) / 8)
    target = torch.ones(1, 2, 2, 2)
    # -Σ(φ - 1)² / Σ 1² = -(1 + 0 + 1 + 4 + 9 + 16 + 25 + 36) / 8
    assert float(optim.feature_match("conv", target)(acts)) == pytest.approx(-92 / 8)
    assert optim.channel("conv", 1).layers == ("conv",)
