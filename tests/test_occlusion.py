"""Occlusion: same numbers as Captum's Occlusion, a hand-computed case, batching, the blur fill, crops
(incremental inference, and proof that they ran), targets checked before any work, state restored, errors."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from course_utils.hooks import hooked
from course_utils.models import load_model
from course_utils.occlusion import make_baseline, occlusion, window_starts
from course_utils.occlusion_crops import Reach, default_prefix, stage_reach

captum_attr = pytest.importorskip("captum.attr")


def tiny_convnet() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 5)
    ).eval()


def captum(model, x, target, window, stride, baseline):
    return captum_attr.Occlusion(model).attribute(
        x, target=target, sliding_window_shapes=window, strides=stride, baselines=baseline
    )


def assert_same(ours: torch.Tensor, ref: torch.Tensor, atol: float = 1e-6) -> None:
    assert ours.shape == ref.shape
    # Captum returns float32 (it divides by float weights); both sum the same drops in another order
    torch.testing.assert_close(ours.float(), ref.float(), rtol=1e-5, atol=atol)


# EfficientNet's logits are up to ~10 in size, so float32 rounding alone is ~1e-6 per logit; a crop, a
# channels_last batch and Captum's one-image passes sum their convolutions in different orders
# (measured on the 64-px pixel input below, 1 and 2 threads: up to 9.5e-6, 37% of atol + rtol * |ref|).
EFFNET_ATOL = 1e-5


@pytest.mark.parametrize(
    "window, stride",
    [((3, 3, 3), 1), ((3, 4, 4), (1, 3, 2)), ((3, 5, 4), (1, 2, 3)), ((1, 3, 5), (1, 2, 2)), ((2, 11, 13), 1)],
)
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
    x = torch.rand(1, 3, 12, 12)  # pixels in [0,1]
    mean_fill = x.mean(dim=(2, 3), keepdim=True)
    ours = occlusion(model, x, 1, 4, 2, baseline="mean", progress=False)
    assert_same(ours, captum(model, x, 1, (3, 4, 4), 2, mean_fill))
    blur_fill = make_baseline(x, "blur", (3, 4, 4))
    blurred = occlusion(model, x, 1, 4, 2, baseline="blur", progress=False)
    assert_same(blurred, captum(model, x, 1, (3, 4, 4), 2, blur_fill))
    assert not torch.allclose(blurred, ours)  # the two fills really differ


@pytest.mark.parametrize(
    "shape, window",
    [
        ((2, 3, 64, 64), 16),
        ((1, 3, 12, 12), 4),
        ((1, 3, 9, 30), (9, 30)),
        ((1, 1, 28, 28), 7),
        ((1, 3, 224, 224), 32),
        ((1, 3, 5, 5), 5),
    ],
)
def test_blur_fill_matches_torchvision(shape, window):
    # "blur" used torchvision's gaussian_blur (kernel 2*ceil(3 sigma)+1, cut to 2*min(H,W)-1, reflect
    # padding); images.gaussian_blur is separable, so float32 sums run in another order (measured: 2.2e-6)
    from torchvision.transforms.functional import gaussian_blur

    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    win = (shape[1], window, window) if isinstance(window, int) else (shape[1], *window)
    sigma = max(win[1], win[2], 2) / 4
    size = min(2 * math.ceil(3 * sigma) + 1, 2 * min(shape[-2:]) - 1)
    size -= 1 - size % 2
    ref = gaussian_blur(x, kernel_size=[size, size], sigma=[sigma, sigma])
    torch.testing.assert_close(make_baseline(x, "blur", win), ref, rtol=0, atol=1e-5)
    assert (ref - x).abs().max() > 1e-2  # the blur really changed the image


@pytest.mark.parametrize(
    "window, stride, message",
    [
        (13, 1, "larger than the input"),
        (0, 1, "positive"),
        (3, 0, "positive"),
        (3, 4, "stride 4 is larger than the window"),
        ((1, 2, 3, 4), 1, "window must be"),
    ],
)
def test_bad_window_or_stride(window, stride, message):
    with pytest.raises(ValueError, match=message):
        occlusion(tiny_convnet(), torch.randn(1, 3, 12, 12), 0, window, stride, progress=False)


def test_bad_target_and_baseline():
    model, x = tiny_convnet(), torch.rand(2, 3, 8, 8)
    with pytest.raises(ValueError, match="one class index or one per image"):
        occlusion(model, x, [0, 1, 2], 3, 1, progress=False)
    with pytest.raises(ValueError, match="integer class indices"):
        occlusion(model, x, torch.tensor([0.0, 1.0]), 3, 1, progress=False)
    with pytest.raises(ValueError, match="does not broadcast"):
        occlusion(model, x, 0, 3, 1, baseline=torch.zeros(3, 5, 5), progress=False)
    with pytest.raises(ValueError, match="unknown baseline"):
        occlusion(model, x, 0, 3, 1, baseline="grey", progress=False)


@pytest.mark.parametrize(
    "target, message",
    [
        (5, "class 5 is out of range: the model has 5 classes"),
        ([1, 7], "class 7 is out of range"),
        (-1, "class -1 is out of range"),
    ],
)
def test_out_of_range_target_raises_before_any_occluded_copy_runs(target, message):
    model, x = tiny_convnet(), torch.rand(2, 3, 8, 8)  # 5 classes
    batches = []
    with hooked(pre=[(model, lambda _m, inputs: batches.append(len(inputs[0])))]):
        with pytest.raises(ValueError, match=message):
            occlusion(model, x, target, 3, 1, progress=False)
    assert batches == [2]  # only the unoccluded pass that tells how many classes there are


class FailsOnBigBatches(nn.Module):
    """Passes its input through, but raises on batches of more than 2 images (the occluded copies)."""

    def forward(self, x):
        if len(x) > 2:
            raise RuntimeError("boom")
        return x


def failing_convnet() -> nn.Sequential:
    torch.manual_seed(0)  # a plain nn.Sequential, so the crop path can cut it into stages
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.Dropout(0.5),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        FailsOnBigBatches(),
        nn.Linear(4, 3),
    )


def mixed_state(model: nn.Sequential) -> tuple[list, list]:
    """Put ``model`` in mixed modes with one frozen parameter; return every module's mode and every requires_grad."""
    model.train()
    model[1].eval()  # dropout frozen on purpose: model.train(was) afterwards would switch it back on
    model[0].bias.requires_grad_(False)
    return [m.training for m in model.modules()], [p.requires_grad for p in model.parameters()]


@pytest.mark.parametrize("prefix", [None, "2"])  # whole images, and the crop path
def test_modes_and_flags_restored_when_the_model_raises(prefix):
    model = failing_convnet()
    modes, flags = mixed_state(model)
    with pytest.raises(RuntimeError, match="boom"):
        occlusion(model, torch.rand(1, 3, 6, 6), 0, 2, 2, batch_size=4, progress=False, prefix=prefix)
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())


# --------------------------------------------------------------------------- incremental inference
def strided_stack() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(4, 6, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 5, 3, padding=2, dilation=2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(5, 5),
    ).eval()


def test_reach_of_a_hand_checked_stack():
    # conv 3x3 pad 1 -> conv 3x3 stride 2 pad 1 -> max-pool 2: output j reads input rows [4j-2, 4j+5)
    _, (rows, cols) = stage_reach(strided_stack()[:5], torch.zeros(1, 3, 32, 32))
    assert rows == cols == Reach(stride=4, size=7, pad=2)
    # input rows 10, 11 change -> outputs 2 ([6,13)) and 3 ([10,17)) change; recomputing them needs
    # rows [6, 17), widened to [4, 20) so the crop starts and ends on the stride-4 grid
    assert rows.plan(10, 12, n_in=32, n_out=8) == (4, 20, 2, 4)
    assert rows.plan(0, 1, n_in=32, n_out=8) == (0, 8, 0, 1)  # output 0 reads [-2, 5): the crop is cut at 0


@pytest.mark.parametrize(
    "layers",
    [
        [nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 3, stride=2, padding=1), nn.MaxPool2d(2)],
        [nn.Conv2d(2, 3, 5, stride=2, padding=1), nn.AvgPool2d(3, stride=1, padding=1), nn.Conv2d(3, 3, 3, dilation=2)],
        "tf-same",
    ],
)
def test_reach_matches_what_a_changed_row_really_changes(layers):
    # a NaN in one input row turns exactly the outputs that read it into NaN
    if layers == "tf-same":
        from timm.layers import Conv2dSame

        layers = [
            Conv2dSame(2, 3, 3, stride=2),
            nn.ReLU6(),
            nn.Conv2d(3, 3, 3, padding=1),
            Conv2dSame(3, 3, 5, stride=2),
        ]
    stage = nn.Sequential(*layers).eval()
    x = torch.rand(1, 2, 24, 16)
    with torch.no_grad():
        clean, (rows, _) = stage_reach(stage, x)
        for y in range(24):
            poked = x.clone()
            poked[:, :, y] = float("nan")
            changed = stage(poked).isnan().sum(dim=(0, 1, 3)).nonzero().flatten().tolist()
            plan = rows.plan(y, y + 1, n_in=24, n_out=clean.shape[-2])
            assert changed == (list(range(plan[2], plan[3])) if plan else [])


@pytest.mark.parametrize("prefix", ["0", "1", "2", "4", "5"])
@pytest.mark.parametrize("window, stride", [((3, 3, 3), 1), ((3, 4, 5), (1, 3, 2)), ((1, 5, 4), (1, 2, 3))])
def test_crops_match_captum_on_a_strided_stack(prefix, window, stride):
    model = strided_stack()
    x = torch.randn(2, 3, 23, 19)  # not a multiple of the stride: crops end at the border
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the crop path must really run
        ours = occlusion(model, x, [1, 3], window, stride, baseline=0.3, batch_size=3, progress=False, prefix=prefix)
    assert_same(ours, captum(model, x, [1, 3], window, stride, 0.3))


def stem_inputs(model: nn.Module, run) -> list[tuple[int, int, int]]:
    """Run ``run()``; return (images, height, width) of every batch EfficientNet's first conv saw."""
    seen: list[tuple[int, int, int]] = []
    stem = model.get_submodule("conv_stem")
    with hooked(pre=[(stem, lambda _m, inputs: seen.append((len(inputs[0]), *inputs[0].shape[-2:])))]):
        run()
    return seen


def test_crops_match_captum_on_efficientnet():
    model = load_model("efficientnet_lite0", device="cpu")
    assert default_prefix(model) == "blocks.2"
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))  # pixels in [0,1]
    result = {}

    def run_default():
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result["ours"] = occlusion(model, x, 281, 16, 8, progress=False)  # the default prefix: crops up to blocks.2

    seen = stem_inputs(model, run_default)
    ref = captum(model, x, 281, (3, 16, 16), 8, 0.0)
    assert_same(result["ours"], ref, atol=EFFNET_ATOL)
    # the crop path really ran: the stem saw the whole image only for the clean pass and the reach
    # trace, and every one of the 49 occluded copies as a crop
    whole = sum(n for n, h, w in seen if (h, w) == (64, 64))
    crops = sum(n for n, h, w in seen if h < 64 or w < 64)
    assert whole == 2 and crops >= 49
    # deeper or shallower cuts give the same map too
    for prefix in ("bn1", "blocks.4"):
        assert_same(occlusion(model, x, 281, 16, 8, progress=False, prefix=prefix), ref, atol=EFFNET_ATOL)
    # 100 px is no multiple of the stride 8: TensorFlow "same" padding differs on an inner crop, so
    # the default quietly runs whole images (an explicit prefix warns)
    x = torch.rand(1, 3, 100, 100, generator=torch.Generator().manual_seed(1))
    whole_map = occlusion(model, x, 281, 20, 20, progress=False, prefix=None)

    def run_fallback():
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result["fallback"] = occlusion(model, x, 281, 20, 20, progress=False)

    seen = stem_inputs(model, run_fallback)
    assert torch.equal(result["fallback"], whole_map)
    assert sum(n for n, h, w in seen if (h, w) == (100, 100)) >= 25  # all 25 occluded copies as whole images
    with pytest.warns(RuntimeWarning, match="running whole images"):
        assert torch.equal(occlusion(model, x, 281, 20, 20, progress=False, prefix="blocks.2"), whole_map)


def test_model_that_crops_cannot_follow_falls_back_to_whole_images():
    class AddMean(nn.Module):  # every output reads the whole map, though no layer changes its size
        def forward(self, x):
            return x + x.mean(dim=(2, 3), keepdim=True)

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), AddMean(), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)
    ).eval()
    x = torch.randn(1, 3, 12, 12)
    with pytest.warns(RuntimeWarning, match="running whole images"):
        ours = occlusion(model, x, 2, 4, 2, progress=False, prefix="1")
    assert_same(ours, captum(model, x, 2, (3, 4, 4), 2, 0.0))


def test_bad_prefix():
    with pytest.raises(ValueError, match="did you mean"):
        occlusion(strided_stack(), torch.randn(1, 3, 12, 12), 0, 3, 1, progress=False, prefix="44")

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 2, 3)

        def forward(self, x):
            return self.conv(x).mean(dim=(2, 3))

    with pytest.raises(ValueError, match="prefix=None"):
        occlusion(Custom(), torch.randn(1, 3, 8, 8), 0, 3, 1, progress=False, prefix="conv")
    assert default_prefix(Custom()) is None  # unknown models run whole images by default


def test_crop_path_restores_modes():
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Dropout(0.5), nn.Flatten(), nn.LazyLinear(3))
    x = torch.randn(1, 3, 6, 6)
    model(x)
    model.train()
    a = occlusion(model, x, 0, 2, 2, progress=False, prefix="0")
    b = occlusion(model, x, 0, 2, 2, progress=False, prefix=None)
    assert_same(a, b)
    assert model.training and all(m.training for m in model)
