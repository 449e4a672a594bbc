"""Occlusion: same numbers as Captum's Occlusion, a hand-computed case, batching, state restored, errors."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils.models import load_model
from course_utils.occlusion import occlusion, window_starts

captum_attr = pytest.importorskip("captum.attr")


def tiny_convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(16, 5)).eval()


def captum(model, x, target, window, stride, baseline):
    return captum_attr.Occlusion(model).attribute(x, target=target, sliding_window_shapes=window, strides=stride,
                                                  baselines=baseline)


def assert_same(ours: torch.Tensor, ref: torch.Tensor) -> None:
    assert ours.shape == ref.shape
    # Captum returns float32 (it divides by float weights); both sum the same drops in another order
    torch.testing.assert_close(ours.float(), ref.float(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("window, stride", [((3, 3, 3), 1), ((3, 4, 4), (1, 3, 2)), ((3, 5, 4), (1, 2, 3)),
                                            ((1, 3, 5), (1, 2, 2)), ((2, 11, 13), 1)])
def test_matches_captum_on_tiny_convnet(window, stride):
    model = tiny_convnet()
    x = torch.randn(2, 3, 11, 13)
    ours = occlusion(model, x, [1, 3], window, stride, baseline=0.3, batch_size=7, progress=False)
    assert_same(ours, captum(model, x, [1, 3], window, stride, 0.3))


def test_matches_captum_with_tensor_baseline_and_2d_window():
    model = tiny_convnet()
    x, fill = torch.randn(2, 3, 10, 10), torch.randn(2, 3, 10, 10)
    ours = occlusion(model, x, 2, (4, 3), (3, 2), baseline=fill, progress=False)  # (h, w): all channels
    assert_same(ours, captum(model, x, 2, (3, 4, 3), (1, 3, 2), fill))


@pytest.mark.parametrize("window, stride", [(5, 2), (7, 1), (6, 4)])
def test_matches_captum_on_fashionnet(window, stride):
    model = load_model("fashionnet", device="cpu")
    torch.manual_seed(1)
    x = torch.rand(2, 1, 28, 28)
    ours = occlusion(model, x, [0, 7], window, stride, baseline=0.0, progress=False)
    assert_same(ours, captum(model, x, [0, 7], (1, window, window), stride, 0.0))


def test_probability_map_matches_captum_on_softmax():
    model = tiny_convnet()
    x = torch.randn(1, 3, 9, 9)
    prob = occlusion(model, x, 4, 3, 2, progress=False, output="probability")
    drop = captum(lambda t: model(t).softmax(1), x, 4, (3, 3, 3), 2, 0.0)
    p0 = model(x).softmax(1)[0, 4].item()
    assert_same(p0 - prob, drop)
    assert 0 <= prob.min() and prob.max() <= 1


def test_hand_computed_linear_model():
    # score = sum of weight * pixel; hiding pixels with 0 drops the score by the hidden pixels' sum
    model = nn.Linear(4, 1, bias=False)
    model.weight.data = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    net = nn.Sequential(nn.Flatten(), model).eval()
    x = torch.ones(1, 1, 1, 4)
    # window 2, stride 1 along the width: windows {0,1}, {1,2}, {2,3} drop 3, 5, 7
    attr = occlusion(net, x, 0, (1, 2), 1, progress=False)
    expected = torch.tensor([3.0, (3 + 5) / 2, (5 + 7) / 2, 7.0])
    torch.testing.assert_close(attr.flatten(), expected)
    # window 3, stride 2: starts 0 and 2 (the second is cut off at the border): drops 6 and 7
    attr = occlusion(net, x, 0, (1, 3), 2, progress=False)
    torch.testing.assert_close(attr.flatten(), torch.tensor([6.0, 6.0, 6.5, 7.0]))
    assert window_starts(4, 3, 2) == [0, 2]


def test_batch_size_does_not_change_the_result():
    model = tiny_convnet()
    x = torch.randn(2, 3, 8, 8)
    maps = [occlusion(model, x, [0, 1], 3, 2, batch_size=b, progress=False) for b in (1, 4, 1000)]
    torch.testing.assert_close(maps[0], maps[1])
    torch.testing.assert_close(maps[0], maps[2])


def test_mode_flags_and_grads_are_left_alone():
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Dropout(0.5), nn.Flatten(), nn.LazyLinear(3))
    x = torch.randn(1, 3, 6, 6)
    model(x)
    model.train()
    model[2].eval()
    model[0].weight.requires_grad_(False)
    flags = [p.requires_grad for p in model.parameters()]
    a = occlusion(model, x, 0, 2, 2, progress=False)
    b = occlusion(model, x, 0, 2, 2, progress=False)
    torch.testing.assert_close(a, b)  # dropout was off during occlusion
    assert model.training and model[1].training and not model[2].training  # mixed modes kept
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert not a.requires_grad


def test_named_baselines():
    model = tiny_convnet()
    x = torch.randn(1, 3, 12, 12)
    mean_fill = x.mean(dim=(2, 3), keepdim=True)
    ours = occlusion(model, x, 1, 4, 2, baseline="mean", progress=False)
    assert_same(ours, captum(model, x, 1, (3, 4, 4), 2, mean_fill))
    blurred = occlusion(model, x, 1, 4, 2, baseline="blur", progress=False)
    assert blurred.shape == x.shape and torch.isfinite(blurred).all()


@pytest.mark.parametrize("window, stride, message", [
    (13, 1, "larger than the input"),
    (0, 1, "positive"),
    (3, 0, "positive"),
    (3, 4, "stride 4 is larger than the window"),
    ((1, 2, 3, 4), 1, "window must be"),
])
def test_bad_window_or_stride(window, stride, message):
    with pytest.raises(ValueError, match=message):
        occlusion(tiny_convnet(), torch.randn(1, 3, 12, 12), 0, window, stride, progress=False)


def test_bad_target_and_baseline():
    model, x = tiny_convnet(), torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="one class or one per image"):
        occlusion(model, x, [0, 1, 2], 3, 1, progress=False)
    with pytest.raises(ValueError, match="does not broadcast"):
        occlusion(model, x, 0, 3, 1, baseline=torch.zeros(3, 5, 5), progress=False)
    with pytest.raises(ValueError, match="unknown baseline"):
        occlusion(model, x, 0, 3, 1, baseline="grey", progress=False)


def test_mode_restored_when_the_model_raises():
    class FailsOnBigBatches(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(12, 2)

        def forward(self, x):
            if len(x) > 1:
                raise RuntimeError("boom")
            return self.linear(x.flatten(1))

    model = FailsOnBigBatches().train()
    with pytest.raises(RuntimeError, match="boom"):
        occlusion(model, torch.randn(1, 3, 2, 2), 0, 1, 1, batch_size=4, progress=False)
    assert model.training and model.linear.training
