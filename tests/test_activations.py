"""Activations: sparsity and dead-unit counts on tiny hand-made models where they are known exactly."""

import pytest
import torch
from torch import nn

from course_utils.activations import channel_max_over_dataset, count_dead_units, dead_units, layer_sparsity, sparsity

DEAD = [1, 4]  # channels of the tiny conv whose bias is so negative they can never fire


def tiny_model() -> nn.Module:
    """conv 1->6 (1x1, weight 1) + ReLU; inputs in [0,1], so channel c outputs x + bias[c]."""
    conv = nn.Conv2d(1, 6, kernel_size=1)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.copy_(torch.tensor([0.0, -5.0, -0.5, 0.1, -5.0, -0.9]))
    fc = nn.Linear(6 * 4 * 4, 3)
    with torch.no_grad():
        fc.weight.fill_(0.01)
        fc.bias.copy_(torch.tensor([1.0, -100.0, 0.0]))  # unit 1 of the fc layer is dead too
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), fc, nn.ReLU(), nn.Dropout(0.5))
    return model.eval()


def no_hooks(model: nn.Module) -> bool:
    return all(len(m._forward_hooks) == 0 for m in model.modules())


def test_sparsity_counts_zeros():
    assert sparsity(torch.tensor([0.0, 0.0, 1.0, 3.0])) == 0.5
    assert sparsity(torch.zeros(2, 3, 4, 4)) == 1.0
    assert sparsity(torch.relu(torch.tensor([-1.0, 2.0, -3.0]))) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        sparsity(torch.empty(0))


def test_layer_sparsity_matches_hand_computation():
    model = tiny_model()
    x = torch.full((2, 1, 4, 4), 0.6)  # channel outputs: 0.6, 0, 0.1, 0.7, 0, 0 -> 3 of 6 zero
    out = layer_sparsity(model, ["1", "4"], x)
    assert out["1"] == pytest.approx(0.5)
    assert out["4"] == pytest.approx(1 / 3)
    assert no_hooks(model)


def test_dead_units_found_exactly_and_hooks_removed():
    torch.manual_seed(0)
    model = tiny_model()
    images = torch.rand(37, 1, 4, 4)  # 37: the last batch is smaller
    maxima = channel_max_over_dataset(model, ["1", "4"], images, batch_size=8, progress=False)
    assert maxima["1"].shape == (6,) and maxima["4"].shape == (3,)
    # each channel's max is max(x) + bias, clipped at 0
    expected = (images.max() + model[0].bias.detach()).clamp_min(0)
    assert torch.allclose(maxima["1"], expected)
    dead = dead_units(maxima)
    assert dead["1"].tolist() == DEAD and dead["4"].tolist() == [1]
    assert count_dead_units(model, ["1", "4"], images, batch_size=5, progress=False) == {"1": 2, "4": 1}
    assert no_hooks(model)


def test_batch_size_does_not_change_the_result_and_mode_is_restored():
    torch.manual_seed(1)
    model = tiny_model().train()  # dropout on: the pass must still run in eval mode
    images = torch.rand(20, 1, 4, 4)
    a = channel_max_over_dataset(model, "4", images, batch_size=1, progress=False)
    b = channel_max_over_dataset(model, "4", images, batch_size=100, progress=False)
    # A batch of 1 and a batch of 20 may sum the fc layer's 96 products in another order (another kernel),
    # so the maxima (about 1) can differ by a float32 ulp or two (3e-8 seen on one CPU): compare to 1e-6.
    torch.testing.assert_close(a["4"], b["4"], rtol=1e-6, atol=1e-6)
    assert model.training and model[5].training


def test_hooks_removed_on_error_and_bad_input():
    model = tiny_model()
    with pytest.raises(ValueError, match="no layer"):
        channel_max_over_dataset(model, ["1", "nope"], torch.rand(4, 1, 4, 4), progress=False)
    with pytest.raises(RuntimeError):  # wrong image size: the forward pass fails inside the hooks
        channel_max_over_dataset(model, ["1"], torch.rand(4, 1, 5, 5), progress=False)
    assert no_hooks(model)
    with pytest.raises(ValueError, match="at least one"):
        channel_max_over_dataset(model, ["1"], torch.rand(0, 1, 4, 4), progress=False)
