"""layer_sparsity(live_only=True): the share of zeros among the channels that fire, on hand-made models."""

import math

import pytest
import torch
from torch import nn

from course_utils.activations import layer_sparsity


def conv_with_biases(biases: list[float]) -> nn.Module:
    """conv 1->C (1x1, weight 1) + ReLU; channel c outputs relu(x + bias[c])."""
    conv = nn.Conv2d(1, len(biases), kernel_size=1)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.copy_(torch.tensor(biases))
    return nn.Sequential(conv, nn.ReLU()).eval()


def test_dead_channels_are_left_out():
    model = conv_with_biases([-0.5, -5.0, 0.0, -5.0])  # channels 1 and 3 can never fire on pixels in [0,1]
    x = torch.zeros(2, 1, 2, 2)
    x[0, 0, 0, 0] = 1.0  # one bright pixel: channel 0 fires there only; channel 2 fires there only too
    everything = layer_sparsity(model, ["1"], x)["1"]
    live = layer_sparsity(model, ["1"], x, live_only=True)["1"]
    # 2 images x 4 positions = 8 values per channel; channels 0 and 2 are nonzero at 1 of them each
    assert everything == pytest.approx(1 - 2 / 32)
    assert live == pytest.approx(1 - 2 / 16)


def test_without_dead_channels_both_agree():
    model = conv_with_biases([-0.5, 0.1, -0.2])  # all fire on bright pixels
    torch.manual_seed(0)
    x = torch.rand(5, 1, 3, 3)
    assert layer_sparsity(model, ["1"], x, live_only=True) == layer_sparsity(model, ["1"], x)


def test_a_layer_with_no_live_channel_is_nan_and_hooks_are_removed():
    model = conv_with_biases([-5.0, -5.0])
    assert math.isnan(layer_sparsity(model, ["1"], torch.rand(3, 1, 2, 2), live_only=True)["1"])
    assert all(len(m._forward_hooks) == 0 for m in model.modules())
