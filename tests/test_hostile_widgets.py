"""Explorers under hostile input: every bad setting is refused with a clear message, any failure while
computing or drawing is shown in red (never left at "computing…"), and sliders stop where the data ends."""

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace  # noqa: E402

import ipywidgets as widgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import attribution as A  # noqa: E402
from course_utils import widgets as W  # noqa: E402
from course_utils.codes import nearest_neighbours  # noqa: E402
from course_utils.models import top_predictions  # noqa: E402
from course_utils.occlusion import occlusion  # noqa: E402
from course_utils.patches import layer_maxima  # noqa: E402
from course_utils.receptive_field import receptive_fields  # noqa: E402
from course_utils.widgets import Explorer  # noqa: E402


@pytest.fixture(autouse=True)
def no_figure_left_open():
    plt.close("all")
    yield
    left = plt.get_fignums()
    plt.close("all")
    assert not left, "a figure was left open"


def tiny_net(channels: int = 1, classes: int = 3) -> torch.nn.Module:
    """A 3-class convnet: fewer classes than any slider's default reach (5 predictions, 5 ranks)."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, classes),
    ).eval()


NET, RGB_NET = tiny_net(), tiny_net(3)
X = torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(1))
IMAGES = torch.rand(6, 1, 12, 12, generator=torch.Generator().manual_seed(2))
LABELS = torch.tensor([0, 1, 2, 0, 1, 2])
NAMES3 = ["a", "b", "c"]
DB = SimpleNamespace(images=IMAGES[:4], labels=LABELS[:4])
QUERIES = SimpleNamespace(images=IMAGES[4:], labels=LABELS[4:])
SMALL_RANGES = dict(window_range=(2, 12, 1), stride_range=(1, 6, 1))


def neighbours(database_codes=None, class_names=NAMES3, **kwargs):
    """A neighbours explorer over 4 database images and 2 queries; their pixels are their codes."""
    codes = DB.images.flatten(1) if database_codes is None else database_codes
    return W.neighbours_explorer(DB, QUERIES, codes, QUERIES.images.flatten(1), class_names, **kwargs)


BAD_CALLS = [
    # predictions: k past the number of classes, k=0, class names that do not fit, images that are not a dict
    ("k past the classes", lambda: W.predictions_explorer(NET, {"a": X}, k=5), r"k=5 is out of range: .* 1\.\.3"),
    ("k=0", lambda: W.predictions_explorer(NET, {"a": X}, k=0), r"k=0 is out of range"),
    ("k=2.5", lambda: W.predictions_explorer(NET, {"a": X}, k=2.5), r"k must be an int, not 2\.5"),
    ("k=True", lambda: W.predictions_explorer(NET, {"a": X}, k=True), r"k must be an int"),
    ("no images", lambda: W.predictions_explorer(NET, {}), r"image: nothing to choose from"),
    ("images as a list", lambda: W.predictions_explorer(NET, [X]), r"images must be a dict .* not a list"),
    ("unknown photo", lambda: W.predictions_explorer(NET, {"chelsea": X}, value="chelse"), r"did you mean 'chelsea'"),
    ("too few names", lambda: W.predictions_explorer(NET, {"a": X}, classes=["a"]), r"classes has 1 names .* 3 scores"),
    # saliency: ranks past the classes, no methods, unknown method
    ("ranks past", lambda: W.saliency_explorer(NET, {"a": X}, {"g": A.gradient}, ranks=7), r"ranks=7 .* 1\.\.3"),
    ("no methods", lambda: W.saliency_explorer(NET, {"a": X}, {}), r"method: nothing to choose from"),
    (
        "bad method",
        lambda: W.saliency_explorer(NET, {"a": X}, {"gradient": A.gradient}, method="gradeint"),
        r"method 'gradeint' is not one of \['gradient'\]; did you mean 'gradient'",
    ),  # fmt: skip
    # neighbours: k past the database, a query that does not exist, codes that do not match the images
    ("k past the database", lambda: neighbours(k=5), r"k=5 is out of range: .* 1\.\.4 \(4 database images"),
    ("query past the end", lambda: neighbours(value=2), r"value=2 is out of range: pick one in 0\.\.1"),
    ("codes of other images", lambda: neighbours(database_codes=DB.images.flatten(1)[:2]), r"'codes': 2.* same"),
    ("labels without names", lambda: neighbours(class_names=["a"]), r"labels go up to 2, but there are 1 class"),
    # occlusion: targets out of range, a window larger than the image, no fills
    (
        "target 7 of 3",
        lambda: W.occlusion_explorer(NET, X, 7, window=4, stride=2, **SMALL_RANGES),
        r"target class 7 is out of range: the model has 3 classes",
    ),  # fmt: skip
    ("target -1", lambda: W.occlusion_explorer(NET, X, -1, window=4, stride=2, **SMALL_RANGES), r"start at 0"),
    ("target 1.0", lambda: W.occlusion_explorer(NET, X, 1.0, window=4, stride=2, **SMALL_RANGES), r"not a class"),
    ("window 32 on 12 px", lambda: W.occlusion_explorer(NET, X, 0), r"window=32 is out of range: pick one in 8\.\.12"),
    (
        "window range past the image",
        lambda: W.occlusion_explorer(NET, X[..., :6, :6], 0, window=8, stride=4),
        r"window: no value is possible, the range 8\.\.6 is empty",
    ),  # fmt: skip
    ("no fills", lambda: W.occlusion_explorer(NET, X, 0, fills={}, window=4, stride=2, **SMALL_RANGES), r"fill: noth"),
    ("a batch", lambda: W.occlusion_explorer(NET, IMAGES, 0, window=4, stride=2, **SMALL_RANGES), r"one image .*\(6,"),
    # activations, patches, t-SNE, checkpoints
    ("no layers", lambda: W.activation_explorer(NET, IMAGES, []), r"layer: nothing to choose from"),
    ("layer not listed", lambda: W.activation_explorer(NET, IMAGES, ["0", "1"], layer="2"), r"layer '2' is not one of"),
    ("image 10 of 6", lambda: W.activation_explorer(NET, IMAGES, ["1"], value=10), r"value=10 .* 0\.\.5 \(6 images"),
    ("n=0", lambda: W.activation_explorer(NET, IMAGES, ["1"], n=0), r"n=0 is out of range: pick one of at least 1"),
    ("labels short", lambda: W.activation_explorer(NET, IMAGES, ["1"], labels=["a"]), r"labels has 1 entries for 6"),
    ("one flat image", lambda: W.activation_explorer(NET, IMAGES[0, 0], ["1"]), r"images must be a batch \(N,C,H,W\)"),
    (
        "perplexity past N",
        lambda: W.tsne_explorer(IMAGES.flatten(1), LABELS, NAMES3, perplexities=[2, 30], value=30),
        r"perplexity 30 needs more than 30 codes, there are 6: pick one of \[2\]",
    ),  # fmt: skip
    (
        "no perplexity fits",
        lambda: W.tsne_explorer(IMAGES.flatten(1), LABELS, NAMES3, perplexities=[10, 30]),
        r"no perplexity in \[10, 30\] is between 0 and the number of codes \(6\)",
    ),  # fmt: skip
    ("t-SNE labels short", lambda: W.tsne_explorer(IMAGES.flatten(1), LABELS[:3], NAMES3), r"labels has 3 entries"),
    ("no checkpoints", lambda: W.checkpoint_filters_explorer({}), r"checkpoint: nothing to choose from"),
    (
        "unknown checkpoint",
        lambda: W.checkpoint_filters_explorer({"step100": torch.rand(2, 1, 3, 3)}, value="step10"),
        r"checkpoint 'step10' is not one of \['step100'\]; did you mean 'step100'",
    ),  # fmt: skip
    # FGSM, loss slices
    ("labels short (FGSM)", lambda: W.fgsm_explorer(NET, IMAGES, LABELS[:2], NAMES3), r"6 images and 2 labels"),
    ("ε past max_eps", lambda: W.fgsm_explorer(NET, IMAGES, LABELS, NAMES3, eps=0.5), r"eps=0\.5 .* 0\.\.0\.3"),
    ("ε negative", lambda: W.fgsm_explorer(NET, IMAGES, LABELS, NAMES3, eps=-0.1), r"eps=-0\.1 is out of range"),
    ("ε NaN", lambda: W.fgsm_explorer(NET, IMAGES, LABELS, NAMES3, eps=float("nan")), r"eps must be a number"),
    ("max_eps 2", lambda: W.fgsm_explorer(NET, IMAGES, LABELS, NAMES3, max_eps=2), r"max_eps=2 .* pixel units"),
    ("image 9 (FGSM)", lambda: W.fgsm_explorer(NET, IMAGES, LABELS, NAMES3, value=9), r"value=9 is out of range"),
    ("no widths", lambda: W.loss_slice_explorer({}, None, X, LABELS[:1], seeds=[0]), r"width: nothing to choose"),
    ("no seeds", lambda: W.loss_slice_explorer({2: NET}, None, X, LABELS[:1], seeds=[]), r"seed: nothing to choose"),
    # optimization explorers: starting values outside their sliders (which would clamp them silently)
    ("no classes", lambda: W.class_visualization_explorer(RGB_NET, []), r"class: nothing to choose from"),
    ("unknown class", lambda: W.class_visualization_explorer(RGB_NET, ["cat", "dog"], value="dgo"), r"'dog'"),
    ("5 steps", lambda: W.class_visualization_explorer(RGB_NET, NAMES3, steps=5), r"steps=5 .* 10\.\.300"),
    ("preview_every 0", lambda: W.class_visualization_explorer(RGB_NET, NAMES3, preview_every=0), r"preview_every=0"),
    ("λ_TV 0", lambda: W.inversion_explorer(RGB_NET, torch.rand(1, 3, 8, 8), ["1"], tv_weight=0), r"tv_weight=0 "),
    ("dream layer", lambda: W.deepdream_explorer(RGB_NET, torch.rand(1, 3, 8, 8), ["0"], value="4"), r"layer '4'"),
    (
        "7 octaves",
        lambda: W.deepdream_explorer(RGB_NET, torch.rand(1, 3, 8, 8), ["0"], octaves=7),
        r"octaves=7 .*1\.\.6",
    ),
    ("α 0.5", lambda: W.deepdream_explorer(RGB_NET, torch.rand(1, 3, 8, 8), ["0"], step_size=0.5), r"step_size=0\.5"),
    ("style layers as a str", lambda: W.style_explorer(RGB_NET, X, {"s": X}, "1", "0"), r"style_layers must be a non"),
    ("no style layers", lambda: W.style_explorer(RGB_NET, X, {"s": X}, "1", []), r"style_layers must be a non-empty"),
    ("unknown style", lambda: W.style_explorer(RGB_NET, X, {"s": X}, "1", ["0"], value="t"), r"style 't' is not one"),
    ("ratio 100", lambda: W.style_explorer(RGB_NET, X, {"s": X}, "1", ["0"], ratio=100), r"ratio=100 .* 0\.001\.\.10"),
]


@pytest.mark.parametrize("call, message", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_explorer_arguments_are_refused_with_the_valid_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_patches_explorer_refuses_maxima_of_other_images_missing_fields_and_too_large_k():
    maxima = layer_maxima(NET, ["0"], IMAGES, progress=False)
    fields = receptive_fields(NET, ["0"], input_size=(12, 12))
    with pytest.raises(ValueError, match=r"maxima of '0' cover 6 images but images has 4"):
        W.patches_explorer(IMAGES[:4], maxima, fields, k=2)
    with pytest.raises(ValueError, match=r"fields has no receptive field for \['0'\]"):
        W.patches_explorer(IMAGES, maxima, {}, k=2)
    with pytest.raises(ValueError, match=r"k=9 is out of range: pick one in 1\.\.6 \(there are 6 images\)"):
        W.patches_explorer(IMAGES, maxima, fields)
    with pytest.raises(ValueError, match=r"layer '1' is not one of \['0'\]"):
        W.patches_explorer(IMAGES, maxima, fields, k=2, layer="1")
    assert W.patches_explorer(IMAGES, maxima, fields, k=6).result.indices.shape == (6,)  # k = every image is fine


# --------------------------------------------------------------------------- sliders stop where the data ends
def test_predictions_k_slider_stops_at_the_number_of_classes():
    explorer = W.predictions_explorer(NET, {"a": X})
    assert explorer.controls["k"].max == 3 and explorer.controls["k"].value == 3  # default 5, but 3 classes
    assert explorer.result == top_predictions(NET, X, 3)[0]
    ten = W.predictions_explorer(tiny_net(classes=12), {"a": X})
    assert (ten.controls["k"].max, ten.controls["k"].value) == (10, 5)  # more classes: the usual 1..10, 5 first


def test_saliency_ranks_stop_at_the_number_of_classes_and_the_last_rank_works():
    explorer = W.saliency_explorer(NET, {"a": X}, {"gradient": A.gradient})
    assert list(explorer.controls["rank"].options) == [1, 2, 3]
    explorer.controls["rank"].value = 3
    last = int(NET(X).argmin())  # rank 3 of 3 is the least probable class
    assert explorer.error is None and explorer.result.target == last
    torch.testing.assert_close(explorer.result.attribution, A.gradient(NET, X, last))


def test_neighbours_k_slider_stops_at_the_database_size():
    explorer = neighbours()
    assert explorer.controls["k"].max == 4 and explorer.controls["k"].value == 4  # default 8, but 4 images
    explorer.controls["k"].value = 16  # clamped by the slider: never past the database
    assert explorer.error is None and len(explorer.result["pixels"]) == 4
    expected = nearest_neighbours(DB.images, QUERIES.images[:1], 4)[0][0]
    assert torch.equal(explorer.result["pixels"], expected)


def test_occlusion_sliders_stop_at_the_image_side():
    explorer = W.occlusion_explorer(NET, X, 1, window=8, stride=4)
    assert explorer.controls["window"].max == 12 and explorer.controls["stride"].max == 12
    assert explorer.error is None and explorer.result.shape == (12, 12)
    explorer.controls["window"].value = 96  # the slider clamps to 12: a window the image can hold
    explorer.button.click()
    assert explorer.error is None and explorer.controls["window"].value == 12


def test_occlusion_explorer_takes_a_class_name():
    explorer = W.occlusion_explorer(NET, X, "b", classes=NAMES3, window=4, stride=2, **SMALL_RANGES)
    expected = occlusion(NET, X, 1, 4, 2, progress=False, output="probability")[0, 0]  # "b" is class 1
    assert explorer.error is None and torch.allclose(explorer.result, expected)


def test_tsne_offers_only_the_perplexities_the_codes_allow():
    explorer = W.tsne_explorer(IMAGES.flatten(1), LABELS, NAMES3, perplexities=[2, 5, 30])
    assert list(explorer.controls["perplexity"].options) == [2, 5] and explorer.controls["perplexity"].value == 5
    assert explorer.error is None and explorer.result.shape == (6, 2)


# --------------------------------------------------------------------------- Explorer: any failure is shown
def explorer_with(compute, draw=None, run_button=False) -> Explorer:
    slider = widgets.IntSlider(value=1, min=0, max=9)
    return Explorer({"n": slider}, compute, draw or (lambda r, v: (plt.figure(), f"n={v['n']}")), run_button=run_button)


def failing_at(bad: int, error: BaseException):
    def compute(n: int) -> int:
        if n == bad:
            raise error
        return n

    return compute


@pytest.mark.parametrize(
    "error, shown",
    [
        (RuntimeError("CUDA out of memory"), "RuntimeError: CUDA out of memory"),
        (IndexError("index 7 is out of bounds"), "IndexError: index 7 is out of bounds"),
        (KeyError("relu9"), "KeyError: 'relu9'"),
        (ZeroDivisionError(), "ZeroDivisionError"),
        (ValueError("window too large"), "ValueError: window too large"),
    ],
)
@pytest.mark.parametrize("run_button", [False, True])
def test_any_exception_is_shown_in_red_with_its_type_and_the_last_picture_stays(error, shown, run_button):
    explorer = explorer_with(failing_at(5, error), run_button=run_button)
    picture = explorer.image.value
    explorer.controls["n"].value = 5
    if run_button:
        explorer.button.click()
    assert explorer.error == shown and explorer.exception is error
    assert "color:#b00020" in explorer.status.value and "computing" not in explorer.status.value
    assert explorer.result == 1 and explorer.image.value == picture  # the last good result and picture
    if run_button:
        assert not explorer.button.disabled
    explorer.controls["n"].value = 4
    if run_button:
        explorer.button.click()
    assert explorer.result == 4 and explorer.error is None and explorer.exception is None
    assert explorer.status.value == "n=4"


def test_a_draw_that_fails_is_shown_and_its_figure_closed():
    def draw(result, values):
        fig = plt.figure()
        fig.add_subplot().imshow([[0, 1]])
        if values["n"] == 3:
            raise TypeError("cannot draw 3")
        return fig, "drawn"

    explorer = explorer_with(lambda n: n, draw)
    explorer.controls["n"].value = 3
    assert explorer.error == "TypeError: cannot draw 3" and explorer.result == 1
    assert plt.get_fignums() == []  # the half-drawn figure was closed (the fixture checks too)


def test_ctrl_c_stops_the_cell_but_never_leaves_computing():
    explorer = explorer_with(failing_at(2, KeyboardInterrupt()), run_button=True)
    explorer.controls["n"].value = 2
    with pytest.raises(KeyboardInterrupt):
        explorer.button.click()
    assert "interrupted" in explorer.status.value and "computing" not in explorer.status.value
    assert not explorer.button.disabled and explorer.result == 1
    explorer.controls["n"].value = 3
    explorer.button.click()
    assert explorer.result == 3 and explorer.status.value == "n=3"


def test_a_real_explorer_shows_a_model_that_fails_inside_compute():
    class Broken(torch.nn.Module):
        def forward(self, x):
            if x.shape[-1] != 12:
                raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
            return torch.zeros(len(x), 3)

    images = {"good": X, "bad": torch.rand(1, 1, 10, 10)}
    explorer = W.predictions_explorer(Broken(), images, k=2)
    explorer.controls["image"].value = "bad"
    assert explorer.error == "RuntimeError: mat1 and mat2 shapes cannot be multiplied"
    assert explorer.result == top_predictions(Broken(), X, 2)[0]  # still the good image's answer
