"""Receptive fields: published values, hand computations, and the two methods agreeing."""

import pytest
import torch
import torchvision
from torch import nn

from course_utils.models import FashionNet
from course_utils.receptive_field import receptive_field, receptive_fields


@pytest.fixture(scope="module")
def alexnet():
    return torchvision.models.alexnet(weights=None).eval()


@pytest.fixture(scope="module")
def vgg16():
    return torchvision.models.vgg16(weights=None).eval()


@pytest.mark.parametrize(
    "layer, size, stride", [("features.0", 11, 4), ("features.2", 19, 8), ("features.12", 195, 32)]
)
def test_alexnet_known_values(alexnet, layer, size, stride):
    rf = receptive_field(alexnet, layer)
    assert (rf.size, rf.stride, rf.method) == (size, stride, "analytic")


# VGG16 by hand: each 3x3 conv adds 2 * jump, each 2x2/2 pool adds 1 * jump and doubles the jump.
# pool1 6/2, pool2 16/4, pool3 44/8, pool4 100/16, conv5_3 196/16, pool5 212/32; 212 is the VGG-16
# value in Araujo, Norris & Sim, "Computing Receptive Fields of CNNs", Distill 2019.
@pytest.mark.parametrize(
    "layer, size, stride",
    [
        ("features.4", 6, 2),
        ("features.9", 16, 4),
        ("features.16", 44, 8),
        ("features.23", 100, 16),
        ("features.28", 196, 16),
        ("features.30", 212, 32),
    ],
)
def test_vgg16_known_values(vgg16, layer, size, stride):
    rf = receptive_field(vgg16, layer)
    assert (rf.size, rf.stride) == (size, stride)


def test_fashionnet_by_hand():
    # conv1 7x7 -> 7; pool1 2/2 -> 8, jump 2; conv2 3x3 -> 12; pool2 -> 14, jump 4; conv3 -> 22; pool3 -> 26, jump 8
    model = FashionNet().eval()
    got = {
        layer: (rf.size, rf.stride, rf.padding)
        for layer in ("conv1", "pool1", "conv2", "pool2", "conv3", "pool3")
        for rf in [receptive_field(model, layer, (28, 28))]
    }
    assert got == {
        "conv1": (7, 1, 3),
        "pool1": (8, 2, 3),
        "conv2": (12, 2, 5),
        "pool2": (14, 4, 5),
        "conv3": (22, 4, 9),
        "pool3": (26, 8, 9),
    }


@pytest.mark.parametrize("layer", ["features.2", "features.12"])
def test_gradient_method_matches_analytic_on_a_chain(alexnet, layer):
    a = receptive_field(alexnet, layer, method="analytic")
    g = receptive_field(alexnet, layer, method="gradient")
    assert (a.size_hw, a.stride_hw, a.offset_hw) == (g.size_hw, g.stride_hw, g.offset_hw)


def test_resnet18_uses_gradient_and_matches_hand_values():
    # Skip connections make ResNet no chain. The main path dominates: conv1 7/2, maxpool 11/4,
    # layer1 43/4, layer2 99/8, layer3 211/16 (the 1x1 downsample branches are contained in it).
    model = torchvision.models.resnet18(weights=None).eval()
    expected = {"maxpool": (11, 4), "layer1": (43, 4), "layer2": (99, 8), "layer3": (211, 16)}
    got = receptive_fields(model, list(expected))
    assert {layer: (rf.size, rf.stride) for layer, rf in got.items()} == expected
    assert receptive_field(model, "layer1").method == "gradient"  # `out += identity` is seen


def test_gradient_method_sees_the_larger_branch():
    class TwoBranch(nn.Module):
        def __init__(self):
            super().__init__()
            self.small = nn.Conv2d(1, 2, 3, padding=1)
            self.big = nn.Conv2d(1, 2, 7, padding=3)
            self.out = nn.Identity()

        def forward(self, x):
            return self.out(self.small(x) - self.big(x))  # a difference could cancel with real weights

    rf = receptive_field(TwoBranch(), "out", (32, 32))
    assert (rf.size, rf.stride, rf.padding, rf.method) == (7, 1, 3, "gradient")


def test_box_is_clipped_to_the_image(alexnet):
    rf = receptive_field(alexnet, "features.0")
    assert rf.box(0, 0) == (-2, -2, 9, 9)
    assert rf.box(0, 0, (224, 224)) == (0, 0, 9, 9)
    assert rf.box(54, 54, (224, 224)) == (214, 214, 224, 224)


def test_model_is_left_unchanged(alexnet):
    alexnet.train()
    before = {k: v.clone() for k, v in alexnet.state_dict().items()}
    receptive_field(alexnet, "features.5", method="gradient")
    assert alexnet.training
    assert all(torch.equal(before[k], v) for k, v in alexnet.state_dict().items())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in alexnet.modules())
    alexnet.eval()


def test_unknown_layer_suggests_close_names(alexnet):
    with pytest.raises(ValueError, match="features.12"):
        receptive_field(alexnet, "feature.12")
    with pytest.raises(ValueError, match="method"):
        receptive_field(alexnet, "features.0", method="magic")
