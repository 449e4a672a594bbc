"""Hostile arguments (issue 15): class targets, NaN, dtypes, counts, layers and devices.

Every bad call in TABLE must fail with the given exception type and a message that matches; the
tests below it check that what is accepted gives the same numbers as the plain call (a class name
equals its index, float64 equals float32, a module equals its name) and that NaN-aware heat maps
keep the scale of the finite part.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import attribution as A
from course_utils import config
from course_utils.activations import layer_activations
from course_utils.codes import compute_codes, knn_accuracy, nearest_neighbours
from course_utils.core import check_count, class_names_of, resolve_targets
from course_utils.hooks import LayerDidNotRun, capture_activations, get_layer, layer_name
from course_utils.models import FashionNet, imagenet_classes
from course_utils.occlusion import occlusion
from course_utils.patches import layer_maxima, top_activations, top_positions
from course_utils.receptive_field import receptive_field, receptive_fields
from course_utils.scores import cascading_randomization, deletion_insertion


def tiny() -> nn.Module:
    """A 3-channel convnet with 5 classes; ``spare`` is a layer its forward never calls."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 5)
    )
    return model.eval()


class WithSpare(nn.Module):
    """conv -> mean -> fc; ``spare`` exists but forward never calls it."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.spare = nn.Conv2d(4, 4, 1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).mean((2, 3)))


def fashion() -> FashionNet:
    torch.manual_seed(0)
    return FashionNet().eval()  # untrained is enough: only names and shapes matter here


X = torch.rand(1, 3, 8, 8)
NAN_X = X.clone()
NAN_X[0, 1, 2, 3] = float("nan")
ACTS = torch.rand(2, 4, 6, 6)
TX, TY = torch.randn(12, 3), torch.arange(12) % 3


def _device(monkeypatch, text):
    monkeypatch.setenv("COURSE_DEVICE", text)
    return config.device()


# (label, call, exception type, regex of the message)
TABLE = [
    # targets: one resolver everywhere
    ("target -1", lambda: A.gradient(tiny(), X, -1), ValueError, r"-1 is out of range.*not the last class"),
    ("target 5 of 5", lambda: occlusion(tiny(), X, 5, 4, 4, progress=False), ValueError, r"5 classes \(0\.\.4\)"),
    ("target tensor(3.7)", lambda: A.gradient(tiny(), X, torch.tensor(3.7)), ValueError, r"float32 tensor.*0\.\.4"),
    ("target [1.9]", lambda: occlusion(tiny(), X, [1.9], 4, 4, progress=False), ValueError, r"1\.9 \(float\)"),
    ("target np float", lambda: A.gradient(tiny(), X, np.array([2.0])), ValueError, r"NumPy float64 array"),
    ("target True", lambda: A.gradient(tiny(), X, True), ValueError, r"bool"),
    ("target None", lambda: A.gradient(tiny(), X, None), ValueError, r"NoneType.*class indices"),
    ("target 2**70", lambda: resolve_targets(2**70, 1), ValueError, r"out of range"),
    ("name, names unknown", lambda: A.gradient(tiny(), X, "cat"), ValueError, r"class names of Sequential.*index"),
    ("name typo", lambda: resolve_targets("tabbby", 1, 1000), ValueError, r"did you mean 'tabby' \(281\)"),
    ("name word", lambda: resolve_targets("cat", 1, 1000), ValueError, r"'tiger cat' \(282\)"),
    ("name fashion", lambda: resolve_targets("boot", 1, 10, model=fashion()), ValueError, r"'Ankle boot' \(9\)"),
    (
        "name ambiguous",
        lambda: resolve_targets("a", 1, class_names=["a", "A"]),
        ValueError,
        r"matches classes \[0, 1\]",
    ),
    # NaN / Inf at the boundaries
    ("NaN gradient", lambda: A.gradient(tiny(), NAN_X, 0), ValueError, r"1 NaN/Inf.*\(0, 1, 2, 3\).*nan_to_num"),
    ("NaN occlusion", lambda: occlusion(tiny(), NAN_X, 0, 4, 4, progress=False), ValueError, r"NaN/Inf"),
    ("NaN grad_cam", lambda: A.grad_cam(tiny(), NAN_X, 0, "0"), ValueError, r"NaN/Inf"),
    ("Inf IG baseline", lambda: A.integrated_gradients(tiny(), X, 0, baseline=float("inf")), ValueError, r"baseline"),
    ("NaN occl. baseline", lambda: occlusion(tiny(), X, 0, 4, 4, baseline=float("nan")), ValueError, r"baseline"),
    ("NaN saliency", lambda: deletion_insertion(tiny(), X, torch.full((1, 8, 8), float("nan")), 0), ValueError, "sal"),
    ("NaN images", lambda: layer_maxima(tiny(), "0", NAN_X, progress=False), ValueError, r"images holds 1 NaN"),
    ("all-NaN heat", lambda: A.as_heat(torch.full((1, 4, 4), float("nan"))), ValueError, r"no finite value"),
    ("percentile 150", lambda: A.as_heat(torch.rand(1, 4, 4), 150), ValueError, r"percentile.*\[0, 100\]"),
    # dtypes and shapes of the input
    ("uint8 gradient", lambda: A.gradient(tiny(), (X * 255).byte(), 0), ValueError, r"uint8.*x\.float\(\) / 255"),
    ("uint8 occlusion", lambda: occlusion(tiny(), (X * 255).byte(), 0, 4, 4), ValueError, r"uint8.*/ 255"),
    ("int64 smoothgrad", lambda: A.smoothgrad(tiny(), X.long(), 0), ValueError, r"int64.*x\.float\(\)"),
    ("numpy input", lambda: A.gradient(tiny(), X.numpy(), 0), TypeError, r"torch\.from_numpy"),
    ("3-D input", lambda: A.guided_backprop(tiny(), X[0], 0), ValueError, r"x\[None\]"),
    (
        "IG baseline shape",
        lambda: A.integrated_gradients(tiny(), X, 0, baseline=torch.zeros(2, 8)),
        ValueError,
        "broad",
    ),
    ("IG baseline str", lambda: A.integrated_gradients(tiny(), X, 0, baseline="black"), TypeError, r"number"),
    # counts
    ("top_positions k=0", lambda: top_positions(ACTS, unit=0, k=0), ValueError, r"k must be a whole number >= 1"),
    ("top_positions unit=-1", lambda: top_positions(ACTS, unit=-1), ValueError, r"-1 is out of range.*4 channels"),
    ("top_positions unit=9", lambda: top_positions(ACTS, unit=9), ValueError, r"9 is out of range"),
    ("top_positions dir", lambda: top_positions(ACTS, direction=torch.ones(3)), ValueError, r"3 components.*4 ch"),
    ("top k=0", lambda: top_activations(tiny(), "0", X, unit=0, k=0, progress=False), ValueError, r"k must"),
    ("knn k=0", lambda: knn_accuracy(TX, TY, TX, TY, k=0), ValueError, r"k must be a whole number from 1 to 12"),
    ("knn k=13", lambda: knn_accuracy(TX, TY, TX, TY, k=13), ValueError, r"from 1 to 12"),
    ("knn float labels", lambda: knn_accuracy(TX, TY.float(), TX, TY, k=1), ValueError, r"integer class labels"),
    ("neighbours k=0", lambda: nearest_neighbours(TX, TX, k=0), ValueError, r"from 1 to 12"),
    ("deletion steps=0", lambda: deletion_insertion(tiny(), X, torch.rand(1, 8, 8), 0, steps=0), ValueError, "steps"),
    ("deletion fill 2", lambda: deletion_insertion(tiny(), X, torch.rand(1, 8, 8), 0, deleted=2.0), ValueError, "0, 1"),
    (
        "deletion sigma 0",
        lambda: deletion_insertion(tiny(), X, torch.rand(1, 8, 8), 0, blur_sigma=0),
        ValueError,
        "> 0",
    ),
    ("IG steps=1", lambda: A.integrated_gradients(tiny(), X, 0, steps=1), ValueError, r"steps must.*>= 2"),
    ("IG steps=2.5", lambda: A.integrated_gradients(tiny(), X, 0, steps=2.5), ValueError, r"steps must"),
    ("smoothgrad samples=0", lambda: A.smoothgrad(tiny(), X, 0, samples=0), ValueError, r"samples must"),
    ("smoothgrad noise<0", lambda: A.smoothgrad(tiny(), X, 0, noise_level=-0.1), ValueError, r"noise_level"),
    ("occlusion window 2.5", lambda: occlusion(tiny(), X, 0, 2.5, 1), ValueError, r"window must be a whole number"),
    ("occlusion stride '2'", lambda: occlusion(tiny(), X, 0, 4, "2"), ValueError, r"stride must be a whole number"),
    ("occlusion batch 0", lambda: occlusion(tiny(), X, 0, 4, 4, batch_size=0), ValueError, r"batch_size must"),
    ("codes no images", lambda: compute_codes(tiny(), "3", X[:0]), ValueError, r"at least one image"),
    ("rf input 0", lambda: receptive_field(tiny(), "0", (0, 8)), ValueError, r"input height"),
    ("rf one name", lambda: receptive_fields(tiny(), "0"), TypeError, r"receptive_field\(model, layer\)"),
    # layers
    ("layer not run", lambda: A.grad_cam(WithSpare(), X, 0, "spare"), LayerDidNotRun, r"'spare' did not run"),
    ("layer not run", lambda: compute_codes(WithSpare(), "spare", X), LayerDidNotRun, r"forward never calls it"),
    ("layer not run", lambda: layer_activations(WithSpare(), X, "spare"), KeyError, r"did not run"),
    ("layer not run", lambda: receptive_field(WithSpare(), "spare", (8, 8)), ValueError, r"'spare'.*never ran"),
    ("foreign module", lambda: A.grad_cam(tiny(), X, 0, tiny()[0]), ValueError, r"not part of Sequential"),
    ("whole model", lambda: (lambda m: get_layer(m, m))(tiny()), ValueError, r"the whole Sequential"),
    ("layer as int", lambda: capture_activations(tiny(), 3).__enter__(), TypeError, r"by its name.*not as int"),
    ("layers [int]", lambda: capture_activations(tiny(), [3]).__enter__(), TypeError, r"by its name.*'0'"),
    ("unknown name", lambda: A.grad_cam(tiny(), X, 0, "conv1"), ValueError, r"no layer 'conv1'"),
    # devices
    ("device gpu", lambda: config.device("gpu"), ValueError, r"no device called 'gpu'.*'cuda'"),
    ("device tpu", lambda: config.device("tpu"), ValueError, r"not a device name.*'cpu'"),
    ("device meta", lambda: config.device("meta"), ValueError, r"cpu, cuda or mps"),
]
if not torch.cuda.is_available():
    TABLE.append(("device cuda:1", lambda: config.device("cuda:1"), ValueError, r"CUDA is not available.*'cpu'"))
mps = getattr(torch.backends, "mps", None)
if mps is None or not mps.is_available():
    TABLE.append(("device mps", lambda: config.device("mps"), ValueError, r"MPS is not available.*'cpu'"))


@pytest.mark.parametrize("label, call, error, message", TABLE, ids=[row[0] for row in TABLE])
def test_bad_call_gives_a_clear_error(label, call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("value", ["gpu0", "GPU", "cuda:x"])
def test_course_device_variable_is_named_in_the_message(monkeypatch, value):
    monkeypatch.setenv("COURSE_DEVICE", value)
    with pytest.raises(ValueError, match=f"COURSE_DEVICE '{value}'"):
        config.device()
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        config.mode_line()  # the notebooks' setup cell: the message, not a torch RuntimeError
    assert config.device("cpu") == torch.device("cpu")  # an explicit choice still wins


def test_device_names_are_read_leniently():
    assert config.device(" CPU ") == torch.device("cpu")
    assert config.device(torch.device("cpu")) == torch.device("cpu")


# --------------------------------------------------------------------------- targets
def test_class_names_resolve_to_their_indices():
    names = imagenet_classes()
    assert resolve_targets("tabby", 2, 1000).tolist() == [281, 281]
    assert resolve_targets(["Tabby", "tiger_cat"], 2, 1000).tolist() == [281, 282]  # case and '_' ignored
    assert resolve_targets(["Sneaker", 3, np.int64(1)], 3, 10, model=fashion()).tolist() == [7, 3, 1]
    assert resolve_targets(np.array([4, 0]), 2, 10).tolist() == [4, 0]
    assert resolve_targets(np.array(["bag"]), 1, model=fashion()).tolist() == [8]
    assert names[281] == "tabby" and class_names_of(None, 1000) == names
    assert class_names_of(fashion())[7] == "Sneaker" and class_names_of(tiny(), 5) is None
    model = tiny()
    model.class_names = ["ant", "bee", "cow", "dog", "eel"]  # a model's own names win
    assert resolve_targets("Dog", 1, 5, model=model).tolist() == [3]


def test_a_class_name_gives_the_same_map_as_its_index():
    model = fashion()
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(A.gradient(model, x, "Sneaker"), A.gradient(model, x, 7), rtol=0, atol=0)
    by_name = occlusion(model, x, ["Bag", "Coat"], 7, 7, progress=False)
    torch.testing.assert_close(by_name, occlusion(model, x, [8, 4], 7, 7, progress=False), rtol=0, atol=0)
    assert not torch.equal(A.gradient(model, x, 7), A.gradient(model, x, 8))  # the guard: classes differ


def test_resolved_targets_are_checked_for_every_image():
    with pytest.raises(ValueError, match="class 7 is out of range"):
        resolve_targets([1, 7], 2, 5)
    with pytest.raises(ValueError, match="3 targets for a batch of 2"):
        resolve_targets(torch.tensor([1, 2, 3]), 2)


def test_check_count_accepts_numpy_and_refuses_floats_and_bools():
    assert check_count(np.int64(3), "k") == 3 and check_count(torch.tensor(2), "k") == 2
    for bad in (2.0, True, "3", None, 0):
        with pytest.raises(ValueError, match="k must be a whole number >= 1"):
            check_count(bad, "k")


# --------------------------------------------------------------------------- NaN-aware heat maps
def test_as_heat_keeps_nan_as_a_gap_and_the_scale_of_the_rest():
    torch.manual_seed(0)
    heat = torch.rand(1, 6, 6)
    poked = heat.clone()
    poked[0, 1, 1] = float("nan")
    poked[0, 2, 2] = float("inf")
    with pytest.warns(RuntimeWarning, match="2 of 36 values are NaN/Inf"):
        out = A.as_heat(poked)
    keep = np.ones((6, 6), bool)
    keep[1, 1] = keep[2, 2] = False
    assert np.isnan(out[1, 1]) and np.isnan(out[2, 2]) and np.isfinite(out[keep]).all()
    finite = heat[0].numpy()[keep]
    np.testing.assert_allclose(out[keep], np.clip(finite / np.percentile(finite, 99), 0, 1), rtol=1e-6)
    assert out[keep].max() == 1.0 and out[keep].min() > 0  # not all zeros, as before the fix
    with pytest.warns(RuntimeWarning, match="1 of 48"):
        rgb = A.as_rgb(torch.where(torch.arange(48).view(1, 3, 4, 4) == 5, torch.nan, torch.randn(1, 3, 4, 4)))
    assert np.isnan(rgb).sum() == 1 and np.nanmax(rgb) <= 1 and np.nanmin(rgb) >= 0


def test_as_heat_without_nan_is_unchanged():
    heat = torch.rand(1, 5, 5)
    expected = np.clip(heat[0].numpy() / np.percentile(heat[0].numpy(), 99), 0, 1)
    np.testing.assert_array_equal(A.as_heat(heat), expected)
    np.testing.assert_array_equal(A.as_heat(torch.zeros(1, 3, 3)), np.zeros((3, 3), np.float32))


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    "method",
    [
        lambda m, x: A.gradient(m, x, 1),
        lambda m, x: A.integrated_gradients(m, x, 1, steps=4),
        lambda m, x: A.grad_cam(m, x, 1, "0"),
        lambda m, x: occlusion(m, x, 1, 4, 2, progress=False),
    ],
    ids=["gradient", "integrated_gradients", "grad_cam", "occlusion"],
)
def test_float64_input_is_cast_to_the_model_dtype(method):
    model, x = tiny(), torch.rand(2, 3, 8, 8)
    ref = method(model, x)
    out = method(model, x.double())
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


# --------------------------------------------------------------------------- layers as modules
def test_a_module_works_wherever_a_layer_name_does():
    model, x = fashion(), torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(A.grad_cam(model, x, 1, model.relu3), A.grad_cam(model, x, 1, "relu3"))
    torch.testing.assert_close(compute_codes(model, model.relu4, x), compute_codes(model, "relu4", x))
    mx = layer_maxima(model, model.conv2, x, progress=False)
    assert torch.equal(mx.values, layer_maxima(model, "conv2", x, progress=False).values)
    assert receptive_field(model, model.conv2, (28, 28)) == receptive_field(model, "conv2", (28, 28))
    with capture_activations(model, [model.conv1, "relu1"]) as acts:
        model(x)
    assert torch.equal(acts[model.conv1].clamp(min=0), acts["relu1"])  # keys are the layers as given
    assert layer_name(model, model.pool2) == "pool2"
    result = cascading_randomization(model, x[:1], 1, {"g": A.gradient}, layers=[model.fc2], progress=False)
    assert result["layers"] == ["none", "fc2"]  # the copy's own fc2 was randomized, not the original
    assert not any(m._forward_hooks for m in model.modules())


def test_a_sequential_layer_is_one_layer_not_its_children():
    model = nn.Sequential(nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU()), nn.Flatten())
    with capture_activations(model, model[0]) as acts:
        out = model(X)
    assert list(acts) == [model[0]] and torch.equal(acts[model[0]].flatten(1), out)


def test_a_layer_that_never_runs_is_named_and_hooks_are_removed():
    model = WithSpare()
    with capture_activations(model, ["conv", "spare"]) as acts:
        model(X)
    assert "conv" in acts and "spare" not in acts  # membership is a plain dict's
    with pytest.raises(LayerDidNotRun, match="'spare' did not run in WithSpare's forward pass"):
        acts["spare"]
    with pytest.raises(KeyError):
        acts["other"]  # an unrelated key is an ordinary KeyError
    with pytest.raises(LayerDidNotRun):
        layer_maxima(model, ["conv", "spare"], X, progress=False)
    assert not any(m._forward_hooks for m in model.modules())


def test_a_module_can_name_the_occlusion_prefix():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 5)).eval()
    x = torch.rand(1, 3, 8, 8)
    ref = occlusion(model, x, 0, 4, 2, prefix=None, progress=False)
    torch.testing.assert_close(occlusion(model, x, 0, 4, 2, prefix=model[1], progress=False), ref)
