"""Notebook 07's additions to optim: one channel per image, diversity, zoomed-out transforms, and the measures.

Each is checked against a hand computation on a tiny model whose answer is known in advance.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import optim


# --------------------------------------------------------------------------- objectives
def test_channels_picks_one_channel_per_image_by_hand():
    feats = torch.arange(16.0).view(2, 2, 2, 2)  # image 0: channels 0..3 / 4..7; image 1: 8..11 / 12..15
    acts = {"conv": feats}
    # image 0 channel 1 -> mean(4..7) = 5.5; image 1 channel 0 -> mean(8..11) = 9.5; averaged: 7.5
    assert float(optim.channels("conv", [1, 0])(acts)) == pytest.approx(7.5)
    # the neuron at row 1, column 0: image 0 channel 1 -> 6; image 1 channel 0 -> 10
    assert float(optim.channels("conv", [1, 0], at=(1, 0))(acts)) == pytest.approx(8.0)
    assert float(optim.channels("fc", [2, 0])({"fc": torch.tensor([[1.0, 2, 3], [4, 5, 6]])})) == pytest.approx(3.5)
    assert optim.channels("conv", [1, 0]).layers == ("conv",)


def test_channels_refuses_what_it_cannot_measure():
    acts = {"conv": torch.zeros(2, 3, 4, 4)}
    with pytest.raises(ValueError, match="batch of 3 images"):
        optim.channels("conv", [0, 1, 2])(acts)
    with pytest.raises(ValueError, match=r"has 3 channels \(0..2\)"):
        optim.channels("conv", [0, 3])(acts)
    with pytest.raises(ValueError, match="not a position"):
        optim.channels("conv", [0, 1], at=(4, 0))(acts)
    with pytest.raises(TypeError, match="one per image"):
        optim.channels("conv", 3)
    with pytest.raises(ValueError):
        optim.channels("conv", [-1])
    with pytest.raises(TypeError, match=r"\(y, x\)"):
        optim.channels("conv", [0], at=5)


def test_diversity_is_minus_the_mean_pairwise_gram_cosine():
    same = torch.rand(1, 3, 4, 4).expand(3, 3, 4, 4)
    assert float(optim.diversity("x")({"x": same})) == pytest.approx(-1.0, abs=1e-6)  # all alike
    disjoint = torch.zeros(2, 2, 3, 3)
    disjoint[0, 0] = 1.0  # image 0 uses only channel 0, image 1 only channel 1: orthogonal Gram matrices
    disjoint[1, 1] = 2.0
    assert float(optim.diversity("x")({"x": disjoint})) == pytest.approx(0.0, abs=1e-7)
    # by hand for two images: Gram matrices G0, G1, cosine = <G0,G1> / (|G0| |G1|)
    a, b = torch.rand(1, 2, 3, 3), torch.rand(1, 2, 3, 3)
    g0, g1 = optim.gram_matrix(a).flatten(), optim.gram_matrix(b).flatten()
    by_hand = -(g0 @ g1) / (g0.norm() * g1.norm())
    torch.testing.assert_close(optim.diversity("x")({"x": torch.cat([a, b])}), by_hand, rtol=1e-5, atol=1e-6)


def test_diversity_ignores_where_a_pattern_sits_and_needs_a_batch():
    x = torch.rand(1, 4, 6, 6)
    shifted = torch.roll(x, shifts=(2, 3), dims=(2, 3))  # the same features elsewhere: not diverse
    assert float(optim.diversity("x")({"x": torch.cat([x, shifted])})) == pytest.approx(-1.0, abs=1e-6)
    with pytest.raises(ValueError, match="N >= 2"):
        optim.diversity("x")({"x": x})


def test_diversity_pushes_a_batch_apart_when_maximized():
    torch.manual_seed(0)
    base = torch.rand(1, 3, 5, 5)
    feats = (base + 0.05 * torch.randn(2, 3, 5, 5)).clamp_min(0).requires_grad_(True)
    before = float(optim.diversity("x")({"x": feats.detach()}))
    opt = torch.optim.Adam([feats], lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        (-optim.diversity("x")({"x": feats})).backward()
        opt.step()
        with torch.no_grad():
            feats.clamp_(min=0)
    assert float(optim.diversity("x")({"x": feats.detach()})) > before + 0.3  # from about -1 (alike) towards 0


# --------------------------------------------------------------------------- transforms
def test_random_zoom_averages_pixels_where_plain_bilinear_skips_them():
    noise = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    zoomed = optim.random_zoom([1 / 3])(noise)
    assert zoomed.shape == (1, 3, 16, 16)
    plain = optim.random_scale([1 / 3])(noise)  # samples input pixels 1, 4, 7, ... exactly: the noise stays
    torch.testing.assert_close(plain, noise[..., 1::3, 1::3], rtol=0, atol=1e-5)
    assert float(zoomed.std()) < 0.5 * float(plain.std())  # each output averages many inputs
    torch.testing.assert_close(zoomed.mean(), noise.mean(), rtol=0, atol=0.01)  # averaging keeps the brightness
    assert torch.equal(optim.random_zoom([1.0])(noise), noise)
    with pytest.raises(ValueError):
        optim.random_zoom([0.0])


def test_zoom_out_transforms_shrink_within_the_stated_range():
    x = torch.rand(1, 3, 64, 64)
    t = optim.zoom_out_transforms(64, zoom=(0.5, 0.75))
    k = round(12 * 64 / 128)  # the pad, each side
    for _ in range(10):
        side = t(x).shape[-1]
        assert round((64 + 2 * k) * 0.5) <= side <= round((64 + 2 * k) * 0.75)
    with pytest.raises(ValueError, match="lo <= hi"):
        optim.zoom_out_transforms(64, zoom=(0.9, 0.5))
    with pytest.raises(ValueError):
        optim.zoom_out_transforms(64, zoom=(0.5, 1.5))


# --------------------------------------------------------------------------- measures
class MeanColour(nn.Module):
    """Logits from the image's mean colour only (so flips, shifts and zooms hardly change them)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(3, 4)
        with torch.no_grad():
            self.fc.weight.copy_(torch.tensor([[4.0, 0, 0], [0, 4, 0], [0, 0, 4], [-2, -2, -2]]))
            self.fc.bias.zero_()

    def forward(self, x):
        return self.fc(self.pool(x).flatten(1))


def test_unseen_augmentations_are_fixed_and_named():
    x = torch.rand(2, 3, 40, 40)
    augs = optim.unseen_augmentations()
    assert list(augs) == ["flip", "zoom out", "zoom in", "rotate 20°", "blur", "shift"]
    assert torch.equal(augs["flip"](x), torch.flip(x, dims=[3]))
    assert augs["zoom out"](x).shape == (2, 3, 28, 28)
    assert torch.equal(augs["shift"](x), torch.roll(x, (13, 8), dims=(2, 3)))
    for name, augment in augs.items():
        assert torch.equal(augment(x), augment(x)), name  # no randomness


def test_augmented_probability_equals_softmax_of_each_augmented_image():
    model = MeanColour().eval()
    x = torch.rand(2, 3, 32, 32)
    x[1, 2] = 1.0  # image 1 is bluish
    probs = optim.augmented_probability(model, x, [0, 2])
    assert probs.shape == (6, 2)
    for row, augment in zip(probs, optim.unseen_augmentations().values()):
        expected = F.softmax(model(augment(x)), dim=1)[torch.arange(2), torch.tensor([0, 2])]
        torch.testing.assert_close(row, expected.detach(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        optim.augmented_probability(model, x, 0, augmentations={})
    with pytest.raises(ValueError, match=r"\[0,1\]"):
        optim.augmented_probability(model, x * 3, 0)


class OneByOne(nn.Module):
    """A 1x1 convolution and a ReLU: features that shift exactly with the image."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 5, 1)
        self.relu = nn.ReLU()
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.pool(self.relu(self.conv(x)))


def test_position_invariant_similarities_see_a_shifted_copy_as_the_same_image():
    model = OneByOne().eval()
    x = torch.rand(1, 3, 16, 16)
    shifted = torch.roll(x, shifts=(5, 7), dims=(2, 3))
    other = torch.rand(1, 3, 16, 16) ** 3  # darker, different statistics
    batch = torch.cat([x, shifted, other])
    gram = optim.gram_similarity(model, "relu", batch)
    pooled = optim.pooled_similarity(model, "relu", batch)
    pixels = optim.pixel_correlation(batch)
    torch.testing.assert_close(gram[0, 1], torch.tensor(1.0), rtol=0, atol=1e-5)
    torch.testing.assert_close(pooled[0, 1], torch.tensor(1.0), rtol=0, atol=1e-5)
    assert float(pixels[0, 1]) < 0.3  # the pixel correlation misses that they are the same picture
    assert float(gram[0, 2]) < float(gram[0, 1]) and float(pooled[0, 2]) <= float(pooled[0, 1])
    torch.testing.assert_close(gram.diagonal(), torch.ones(3), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match=r"\(N,C,H,W\)"):
        optim.gram_similarity(model, "pool", batch)  # (N,5): no map to take a Gram matrix of
    torch.testing.assert_close(optim.pooled_similarity(model, "pool", batch), pooled, rtol=0, atol=1e-6)


class Linear(nn.Module):
    """Logits ``W x + b`` of the flattened image: every ∇S_k is a row of W."""

    def __init__(self, scale=1.0):
        super().__init__()
        torch.manual_seed(1)
        self.fc = nn.Linear(3 * 4 * 4, 5)
        with torch.no_grad():
            self.fc.weight.mul_(scale)

    def forward(self, x):
        return self.fc(x.flatten(1))


def test_log_softmax_gradient_parts_match_the_formula():
    model = Linear().eval()
    x = torch.rand(1, 3, 4, 4)
    parts = optim.log_softmax_gradient(model, x, 2)
    with torch.no_grad():
        p = F.softmax(model(x), dim=1)[0]
    w = model.fc.weight.detach()  # (5, 48): row k is ∇S_k
    own = (1 - p[2]) * w[2]
    others = sum(p[k] * w[k] for k in range(5) if k != 2)
    torch.testing.assert_close(parts.own.flatten(), own, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(parts.others.flatten(), others, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(parts.total, parts.own - parts.others, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(parts.logit_grad.flatten(), w[2], rtol=0, atol=0)
    assert parts.p == pytest.approx(float(p[2]), rel=1e-5)


def test_log_softmax_gradient_vanishes_as_p_goes_to_one():
    model = Linear().eval()
    x = torch.rand(1, 3, 4, 4)
    with torch.no_grad():
        top = int(model(x).argmax())
    sure = Linear(scale=60.0).eval()  # same ranking of logits, 60x further apart: p_top -> 1
    weak, strong = optim.log_softmax_gradient(model, x, top), optim.log_softmax_gradient(sure, x, top)
    assert strong.p > 1 - 1e-4 and weak.p < 0.9
    ratio_total = float(strong.total.norm() / weak.total.norm())
    ratio_logit = float(strong.logit_grad.norm() / weak.logit_grad.norm())
    assert ratio_logit == pytest.approx(60.0, rel=1e-4)  # the logit's own gradient grows...
    assert ratio_total < 0.01  # ...while the log-probability's vanishes
    torch.testing.assert_close(strong.total, strong.own - strong.others, rtol=1e-4, atol=1e-9)
    with pytest.raises(ValueError, match="one image"):
        optim.log_softmax_gradient(model, torch.rand(2, 3, 4, 4), 0)


class Brightness(nn.Module):
    """Unit 0 fires where a pixel is above 0.5 (follows brightness); unit 1 is constant; unit 2 never fires."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([1.0, 0.0, 0.0]).view(3, 1, 1, 1))
            self.conv.bias.copy_(torch.tensor([-0.5, 1.0, -1.0]))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(x))


def test_unit_activity_by_hand():
    images = torch.zeros(4, 1, 2, 2)
    images[0] = 1.0  # all bright
    images[1, 0, 0, 0] = 1.0  # one bright pixel of four
    images[2] = 0.25  # dim everywhere: unit 0 silent
    images[3, 0, :, 0] = 0.75  # half bright
    activity = optim.unit_activity(Brightness().eval(), "relu", images)
    # unit 0: positions above 0.5: 4 + 1 + 0 + 2 = 7 of 16; fires somewhere on images 0, 1, 3
    torch.testing.assert_close(activity.active, torch.tensor([7 / 16, 1.0, 0.0]))
    torch.testing.assert_close(activity.images, torch.tensor([0.75, 1.0, 0.0]))
    means = torch.tensor([0.5, 0.125, 0.0, 0.125])  # unit 0's mean activation per image
    brightness = images.flatten(1).mean(1)
    expected = torch.corrcoef(torch.stack([means, brightness]))[0, 1]
    torch.testing.assert_close(activity.brightness_corr[0], expected, rtol=1e-5, atol=1e-6)
    assert float(activity.brightness_corr[1]) == 0.0 and float(activity.brightness_corr[2]) == 0.0
    with pytest.raises(ValueError, match="at least two"):
        optim.unit_activity(Brightness().eval(), "relu", images[:1])


def test_mean_frequency_of_stripes_is_one_over_their_period():
    xx = torch.arange(32.0)
    stripes = (0.5 + 0.5 * torch.cos(2 * math.pi * xx / 4)).expand(1, 1, 32, 32)  # period 4 px
    assert optim.mean_frequency(stripes) == pytest.approx(0.25, abs=1e-6)
    coarse = (0.5 + 0.5 * torch.cos(2 * math.pi * xx / 16)).expand(1, 1, 32, 32)
    assert optim.mean_frequency(coarse) == pytest.approx(1 / 16, abs=1e-6)
    with pytest.raises(ValueError, match="flat"):
        optim.mean_frequency(torch.full((1, 1, 8, 8), 0.5))
